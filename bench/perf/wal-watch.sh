#!/bin/bash
# bench/perf/wal-watch.sh HF SEEDCOPY RATE: the WAL's length (frames) every 0.5 s during one
# 12 s posting round at RATE on SEEDCOPY (a throw-away migrated copy of a seed), read by a
# PASSIVE checkpoint from outside, and its peak (session 11: the writer checkpointed itself
# at sqlite_writer_checkpoint_pages, 16,000; with the WAL started over it stays below).
HF=$1; SEED=$2; RATE=$3; W=/tmp/wal-watch.$$
mkdir -p $W
"$HF" bench run --scenario post --seed-dir "$SEED" --rate "$RATE" --rounds 1 --step-s 12 --connections 32 --no-healthz ${CFG:-} --out $W/out > $W/log 2>&1 &
b=$!
python3 - "$SEED/data/holdfast.db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=0)
peak = 0
for _ in range(40):
    time.sleep(0.5)
    try:
        busy, frames, _ = c.execute('PRAGMA wal_checkpoint(PASSIVE)').fetchone()
    except sqlite3.Error:
        continue
    if not busy:
        peak = max(peak, frames)
        print(time.strftime('%T'), 'WAL frames', frames, flush=True)
print('peak WAL frames', peak, flush=True)
PY
w=$!
wait $b; wait $w
grep "post round" $W/log | tail -1
echo "(load $(cut -d' ' -f1 /proc/loadavg))"
rm -rf $W
