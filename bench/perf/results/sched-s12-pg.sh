#!/bin/sh
# bench/perf/results/sched-s12-pg.sh HF NAME RATE (session 12, pg): one 14 s home round at RATE on a fresh 10k copy (as run-pg.sh cpu);
# over the 8 s window 3 s after the feeds are built: per request, CPU and run-queue wait
# (/proc/*/schedstat: on-CPU ns, waiting-to-run ns) of the server's threads and of
# PostgreSQL's processes (postmaster and children).
# GUARD=on runs the server with its guard (and so the signed-in lane, and on PostgreSQL the pools' I/O thread).
set -eu
cd "$(dirname "$0")/../../.."
HF=$1 NAME=$2 RATE=$3
export PG_DIR=/tmp/pg-seeds-s12
RUN=$PG_DIR/run
rm -rf $RUN; sh bench/perf/pg.sh copy $PG_DIR/seed-10k $RUN >/dev/null 2>&1
log=${WORK:-/tmp}/$NAME.bench.log
"$HF" bench run --scenario home --seed-dir $RUN --rate $RATE --rounds 1 --step-s 14 --connections 32 --no-healthz --guard "${GUARD:-off}" --out ${WORK:-/tmp}/$NAME > $log 2>&1 &
b=$!
for _ in $(seq 1 3000); do grep -q 'bench: built' $log && break; sleep 0.2; done
pid=$(sed -n 's/.*started holdfast serve (pid \([0-9]*\)).*/\1/p' $log)
pm=$(head -1 $PG_DIR/data/postmaster.pid)
sum() { # cpu_ns wait_ns over the server's threads, then over PostgreSQL's processes
  s=$(cat /proc/$pid/task/*/schedstat 2>/dev/null | awk '{c+=$1; w+=$2} END {print c, w}')
  p=$(for q in $pm $(pgrep -P $pm); do cat /proc/$q/schedstat 2>/dev/null; done | awk '{c+=$1; w+=$2} END {print c, w}')
  echo $s $p
}
sleep 3
a=$(sum); l0=$(cut -d' ' -f1 /proc/loadavg)
sleep 8
z=$(sum); l1=$(cut -d' ' -f1 /proc/loadavg)
wait $b || true
grep "round 1" $log | tail -1
echo "$a $z" | awk -v r=$RATE -v n=$NAME -v l0=$l0 -v l1=$l1 '{d=8*r*1e6; printf "%s at %d/s (load %s-%s): server CPU %.3f ms, run-queue wait %.3f ms; PostgreSQL CPU %.3f ms, run-queue wait %.3f ms per request\n", n, r, l0, l1, ($5-$1)/d, ($6-$2)/d, ($7-$3)/d, ($8-$4)/d}'
sh bench/perf/pg.sh drop $RUN >/dev/null 2>&1
