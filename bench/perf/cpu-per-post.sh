#!/bin/sh
# bench/perf/cpu-per-post.sh HF SEEDCOPY RATE: server CPU per post at a fixed rate (a figure that stays comparable on a loaded machine)
HF=$1; SEED=$2; RATE=$3; W=/tmp/post-cpu.$$
mkdir -p $W
"$HF" bench run --scenario post --seed-dir "$SEED" --rate "$RATE" --rounds 1 --step-s 16 --connections 32 --no-healthz --out $W/out > $W/log 2>&1 &
b=$!
pid=
for _ in $(seq 1 1500); do
  pid=$(sed -n "s/.*started holdfast serve (pid \([0-9]*\)).*/\1/p" $W/log | tail -1)
  [ -n "$pid" ] && [ -e /proc/$pid/stat ] && break; sleep 0.2
done
sleep 3
hz=$(getconf CLK_TCK)
a=$(awk '{print $14+$15}' /proc/$pid/stat); sleep 8; c=$(awk '{print $14+$15}' /proc/$pid/stat)
wait $b
grep "post round" $W/log | tail -1
echo "server CPU per post at $RATE/s: $(echo "($c-$a)*1000/$hz/8/$RATE" | bc -l | cut -c1-5) ms (load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf $W
