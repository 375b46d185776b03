#!/bin/sh
# The lead's quiet rerun, session 13 (shortened for time). NEW: the CI run's release build.
set -u
cd /work/main
NEW=${NEW:-/tmp/ciclone/target/release/holdfast}
OLD=/tmp/hf-main-s13
R=bench/perf/results
S=-s13-quiet
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
# 1. home CPU per request, alternating with main 14cb388
sh bench/perf/ab-home-cpu.sh $OLD $NEW 2 2>&1 | tee $R/home-cpu-ab$S.txt
# 2. posting CPU per post at 3,000/s, alternating (own WORK per binary)
for b in OLD NEW; do
  eval bin=\$$b
  WORK=/tmp/pq-$b SEED=/tmp/seed-10k HF=$bin POST_RATE=3000 SUFFIX=$S-$b sh bench/perf/run-post.sh cpu
done
# 3. home ramps: 10k alternating with main, then 100k
for b in OLD NEW; do
  eval bin=\$$b
  rm -rf /tmp/q13-home && cp -a /tmp/seed-10k /tmp/q13-home
  echo "== $b load $(cut -d' ' -f1-3 /proc/loadavg)" | tee $R/home-10k-ab$S-$b.txt
  $bin bench run --scenario home --seed-dir /tmp/q13-home --step-s 3 --rate-factor 1.2 --connections 32 --rate-start 200 \
    --out $R/home-10k-ab$S-$b 2>&1 | grep -v '^bench: ' | tee -a $R/home-10k-ab$S-$b.txt
done
rm -rf /tmp/q13-home && cp -a /tmp/seed-100k /tmp/q13-home
echo "== load $(cut -d' ' -f1-3 /proc/loadavg)" | tee $R/home-100k$S.txt
$NEW bench run --scenario home --seed-dir /tmp/q13-home --step-s 3 --rate-factor 1.2 --connections 32 --rate-start 200 \
  --out $R/home-100k$S 2>&1 | grep -v '^bench: ' | tee -a $R/home-100k$S.txt
rm -rf /tmp/q13-home
# 4. posting rounds at 3,000 / 4,200/s (main at 3,000 as the control), mixed, siege calm
WORK=/tmp/pq-NEW SEED=/tmp/seed-10k HF=$NEW POST_RATE=3000 SUFFIX=$S sh bench/perf/run-post.sh rounds mixed calm
WORK=/tmp/pq-NEW SEED=/tmp/seed-10k HF=$NEW POST_RATE=4200 SUFFIX=$S-4200 sh bench/perf/run-post.sh rounds
WORK=/tmp/pq-OLD SEED=/tmp/seed-10k HF=$OLD POST_RATE=3000 SUFFIX=$S-OLD sh bench/perf/run-post.sh rounds
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
