#!/bin/sh
# The runs behind bench/perf/README.md. Needs a release build and seeds made with
#   holdfast bench seed --users 10000 --out /tmp/seed-10k
#   holdfast bench seed --users 100000 --out /tmp/seed-100k
#   holdfast bench seed --users 10000 --out /tmp/seed-10k-pg --database postgres://holdfast@127.0.0.1:55432/bench10k
# (a server migrates the seed it runs on: copy a seed first to keep the original).
# STEP_S shortens or lengthens every rate step (3 s in the committed results).
set -eu
. "$(dirname "$0")/env.sh"
SEED_PG=${SEED_PG:-/tmp/seed-10k-pg}
POST_RATE=${POST_RATE:-600}
run() { name=$1; shift; "$HF" bench run --step-s "$STEP_S" --connections 32 --out "$OUT/$name" "$@" 2>&1 | grep -v '^bench: ' | tee "$OUT/$name.txt"; }
run home-10k --scenario home --seed-dir "$SEED" --rate-start 100
run home-followees-10k --scenario home-followees --seed-dir "$SEED" --rate-start 100 --no-healthz
run post-10k --scenario post --seed-dir "$SEED" --rate-start 100 --no-healthz
# The posting target is judged on the slowest of three back-to-back 10 s rounds.
"$HF" bench run --scenario post --seed-dir "$SEED" --rate "$POST_RATE" --rounds 3 --step-s 10 --connections 32 \
    --no-healthz --out "$OUT/post-rounds-10k" 2>&1 | grep -v '^bench: ' | tee "$OUT/post-rounds-10k.txt"
run mixed-10k --scenario mixed --seed-dir "$SEED" --rate-start 100 --no-healthz
[ -d "$SEED_100K" ] && run home-100k --scenario home --seed-dir "$SEED_100K" --rate-start 100
[ -d "$SEED_100K" ] && run post-followers-100k --scenario post-followers --seed-dir "$SEED_100K" --no-healthz
[ -d "$SEED_PG" ] && run home-10k-pg --scenario home --seed-dir "$SEED_PG" --rate-start 50
