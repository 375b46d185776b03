#!/bin/sh
# fanout, issue 10: the runs behind bench/perf/README.md's "Session 6" section.
set -u
cd "$(dirname "$0")/../.."
# SEED_MIGRATED: a copy of a 10k seed (holdfast bench seed --users 10000), migrated once here; each run gets a fresh copy of it.
HF=target/release/holdfast
OUT=bench/perf/results
fresh() { rm -rf /tmp/fo/run && cp -r ${SEED_MIGRATED:-/tmp/fo/seed-10k-orig} /tmp/fo/run; }
echo "migrate start $(date -u +%T)"; "$HF" migrate --data-dir ${SEED_MIGRATED:-/tmp/fo/seed-10k-orig}/data; echo "migrate done $(date -u +%T)"
uptime
fresh
"$HF" bench run --scenario post --seed-dir /tmp/fo/run --rate 400 --rounds 3 --step-s 10 --connections 32 \
  --out $OUT/post-rounds-10k-jobs 2>&1 | tee $OUT/post-rounds-10k-jobs.txt
uptime
fresh
"$HF" bench run --scenario post-followers --seed-dir /tmp/fo/run --rate 50 --step-s 5 --connections 32 --no-healthz \
  --out $OUT/post-followers-10k-jobs 2>&1 | tee $OUT/post-followers-10k-jobs.txt
uptime
fresh
"$HF" bench run --scenario home --seed-dir /tmp/fo/run --step-s 3 --connections 32 --rate-start 100 \
  --out $OUT/home-10k-jobs 2>&1 | grep -v "^bench: " | tee $OUT/home-10k-jobs.txt
uptime
