#!/bin/sh
# The runs behind bench/web/README.md: the web UI's home page against the API's
# home timeline, same server, same seeded viewers, same ramp. Needs a release build.
#   holdfast bench seed --users 10000 --out /tmp/web-seed-10k
# (web-home writes one session per viewer into the seed, so use a seed of its own.)
set -eu
HF=${HF:-target/release/holdfast}
STEP_S=${STEP_S:-3}
OUT=${OUT:-bench/web/results}
SEED=${SEED:-/tmp/web-seed-10k}
run() { name=$1; shift; "$HF" bench run --step-s "$STEP_S" --connections 32 --out "$OUT/$name" "$@" 2>&1 | grep -v '^bench: ' | tee "$OUT/$name.txt"; }
mkdir -p "$OUT"
run api-home-10k --scenario home --seed-dir "$SEED" --rate-start 50 --no-healthz
run web-home-10k --scenario web-home --seed-dir "$SEED" --rate-start 50 --no-healthz
