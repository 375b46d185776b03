#!/bin/sh
# The runs behind bench/perf/README.md. Needs a release build and seeds made with
#   holdfast bench seed --users 10000 --out /tmp/seed-10k
#   holdfast bench seed --users 10000 --out /tmp/seed-10k-pg --database postgres://holdfast@127.0.0.1:55432/bench10k
# STEP_S shortens or lengthens every rate step (3 s in the committed results).
set -eu
HF=${HF:-target/release/holdfast}
STEP_S=${STEP_S:-3}
OUT=${OUT:-bench/perf/results}
SEED=${SEED:-/tmp/seed-10k}
SEED_PG=${SEED_PG:-/tmp/seed-10k-pg}
run() { name=$1; shift; "$HF" bench run --step-s "$STEP_S" --connections 32 --out "$OUT/$name" "$@" 2>&1 | grep -v '^bench: ' | tee "$OUT/$name.txt"; }
run home-10k --scenario home --seed-dir "$SEED" --rate-start 50
run home-followees-10k --scenario home-followees --seed-dir "$SEED" --rate-start 50 --no-healthz
run post-10k --scenario post --seed-dir "$SEED" --rate-start 50 --no-healthz
run mixed-10k --scenario mixed --seed-dir "$SEED" --rate-start 50 --no-healthz
[ -d "$SEED_PG" ] && run home-10k-pg --scenario home --seed-dir "$SEED_PG" --rate-start 50
