#!/bin/sh
# The lead's quiet rerun, session 14. NEW: the CI run's release build; OLD: main cc3ed79.
set -u
cd /work/main
NEW=${NEW:-/tmp/ciclone/target/release/holdfast}
OLD=/tmp/hf-main-s14
R=bench/perf/results
S=-s14-quiet
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
# 1. home CPU per request, alternating with main cc3ed79
sh bench/perf/ab-home-cpu.sh $OLD $NEW 2 2>&1 | tee $R/home-cpu-ab$S.txt
# 2. posting CPU per post at 3,000/s, alternating (own WORK per binary)
for b in OLD NEW; do
  eval bin=\$$b
  WORK=/tmp/pq-$b SEED=/tmp/seed-10k HF=$bin POST_RATE=3000 SUFFIX=$S-$b sh bench/perf/run-post.sh cpu
done
# 3. home ramps: 10k and 100k alternating with main
for size in 10k 100k; do
  for b in OLD NEW; do
    eval bin=\$$b
    rm -rf /tmp/q14-home && cp -a /tmp/seed-$size /tmp/q14-home
    echo "== $b load $(cut -d' ' -f1-3 /proc/loadavg)" | tee $R/home-$size-ab$S-$b.txt
    $bin bench run --scenario home --seed-dir /tmp/q14-home --step-s 3 --rate-factor 1.2 --connections 32 --rate-start 200 \
      --out $R/home-$size-ab$S-$b 2>&1 | grep -v '^bench: ' | tee -a $R/home-$size-ab$S-$b.txt
  done
done
rm -rf /tmp/q14-home
# 4. posting rounds (main at 6,000 as the control), mixed, siege calm (main's calm as the control)
WORK=/tmp/pq-NEW SEED=/tmp/seed-10k HF=$NEW POST_RATE=6000 SUFFIX=$S sh bench/perf/run-post.sh rounds mixed calm
for rate in 7200 8400 10000; do
  WORK=/tmp/pq-NEW SEED=/tmp/seed-10k HF=$NEW POST_RATE=$rate SUFFIX=$S-$rate sh bench/perf/run-post.sh rounds
done
WORK=/tmp/pq-OLD SEED=/tmp/seed-10k HF=$OLD POST_RATE=6000 SUFFIX=$S-OLD sh bench/perf/run-post.sh rounds calm
# 5. PostgreSQL beside them (kept seeds of session 12): CPU per request, posting rounds at 700/s, mixed
PG_DIR=/tmp/pg-seeds-s12 HF=$NEW SUFFIX=-s14-pg-quiet POST_RATE=700 sh bench/perf/run-pg.sh cpu rounds mixed 2>&1 | tee $R/pg-s14-quiet.log | tail -5
PG_DIR=/tmp/pg-seeds-s12 sh bench/perf/pg.sh stop
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
