#!/bin/sh
# The runs behind bench/web/README.md: each web page against the API calls an
# app makes to show the same thing, same server, same seeded viewers, same ramp.
# Needs a release build and a seed of its own (the web scenarios write one
# session per viewer into it):
#   holdfast bench seed --users 10000 --out /tmp/web-seed-10k
# PAIRS picks the pairs (default all): home (vs /api/v1/timelines/home),
# status (a thread's page vs the status + its context: `thread`, two requests a
# view), profile (vs /api/v1/accounts/:id/statuses).
set -eu
HF=${HF:-target/release/holdfast}
STEP_S=${STEP_S:-3}
OUT=${OUT:-bench/web/results}
SEED=${SEED:-/tmp/web-seed-10k}
PAIRS=${PAIRS:-home status profile}
run() { name=$1; shift; "$HF" bench run --step-s "$STEP_S" --connections 32 --out "$OUT/$name" "$@" 2>&1 | grep -v '^bench: ' | tee "$OUT/$name.txt"; }
mkdir -p "$OUT"
uptime | tee "$OUT/load.txt"
for pair in $PAIRS; do
  case $pair in
    home)
      run api-home-10k --scenario home --seed-dir "$SEED" --rate-start 50 --no-healthz
      run web-home-10k --scenario web-home --seed-dir "$SEED" --rate-start 50 --no-healthz ;;
    status)
      run api-thread-10k --scenario thread --seed-dir "$SEED" --rate-start 50 --no-healthz
      run web-status-10k --scenario web-status --seed-dir "$SEED" --rate-start 50 --no-healthz ;;
    profile)
      run api-account-10k --scenario account --seed-dir "$SEED" --rate-start 50 --no-healthz
      run web-profile-10k --scenario web-profile --seed-dir "$SEED" --rate-start 50 --no-healthz ;;
    *) echo "unknown pair $pair" >&2; exit 2 ;;
  esac
done
uptime | tee -a "$OUT/load.txt"
