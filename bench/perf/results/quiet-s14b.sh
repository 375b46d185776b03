#!/bin/sh
# Session 14, the lead's second pair (after quiet-s14.sh): the 100k home ramp
# again, NEW first this time, and posting 3 x 10 s at 6,000/s again, NEW and OLD.
set -u
cd /work/main
NEW=${NEW:-/tmp/hf-s14-final}
OLD=/tmp/hf-main-s14
R=bench/perf/results
S=-s14-quiet2
echo "start $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
for b in NEW OLD; do
  eval bin=\$$b
  rm -rf /tmp/q14-home && cp -a /tmp/seed-100k /tmp/q14-home
  echo "== $b load $(cut -d' ' -f1-3 /proc/loadavg)" | tee $R/home-100k-ab$S-$b.txt
  $bin bench run --scenario home --seed-dir /tmp/q14-home --step-s 3 --rate-factor 1.2 --connections 32 --rate-start 200 \
    --out $R/home-100k-ab$S-$b 2>&1 | grep -v '^bench: ' | tee -a $R/home-100k-ab$S-$b.txt
done
rm -rf /tmp/q14-home
for b in NEW OLD; do
  eval bin=\$$b
  WORK=/tmp/pq-$b SEED=/tmp/seed-10k HF=$bin POST_RATE=6000 SUFFIX=$S-$b sh bench/perf/run-post.sh rounds
done
echo "end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
