#!/bin/bash
# bench/perf/cpu-per-post.sh HF SEEDCOPY RATE: server CPU per post at a fixed rate (a figure that
# stays comparable on a loaded machine), in all and by thread: the SQLite writer (hf-sqlite-write),
# the checkpointer (hf-sqlite-ckpt), tokio's workers. CFG="--server-config FILE" passes limits.
HF=$1; SEED=$2; RATE=$3; W=/tmp/post-cpu.$$
mkdir -p $W
"$HF" bench run --scenario post --seed-dir "$SEED" --rate "$RATE" --rounds 1 --step-s 16 --connections 32 --no-healthz ${CFG:-} --out $W/out > $W/log 2>&1 &
b=$!
pid=
for _ in $(seq 1 1500); do
  pid=$(sed -n "s/.*started holdfast serve (pid \([0-9]*\)).*/\1/p" $W/log | tail -1)
  [ -n "$pid" ] && [ -e /proc/$pid/stat ] && break; sleep 0.2
done
sleep 3
# CPU ticks so far, summed by thread name.
ticks() { for t in /proc/$pid/task/*; do echo "$(cat $t/comm)|$(awk '{print $14+$15}' $t/stat)"; done \
  | awk -F'|' '{a[$1]+=$2} END {for (k in a) print k"|"a[k]}' | sort; }
ticks > $W/before; sleep 8; ticks > $W/after
wait $b
grep "post round" $W/log | tail -1
join -t'|' $W/before $W/after | awk -F'|' -v hz=$(getconf CLK_TCK) -v r=$RATE \
  '{d=($3-$2)*1000/hz/8/r; t+=d; if (d>0) printf "  %-16s %.3f ms per post\n", $1, d} END {printf "server CPU per post at %d/s: %.3f ms", r, t}'
echo " (load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf $W
