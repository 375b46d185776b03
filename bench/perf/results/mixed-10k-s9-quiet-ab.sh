#!/bin/bash
# mixed ramp on fresh 10k copies: default vs in-place 1 vs WAL warm-up off, then default again
# /tmp/inplace1.toml is "[limits]\nsqlite_read_in_place_workers_max = 1", /tmp/warm0.toml "[limits]\nsqlite_wal_warm_bytes_max = 0"
HF=/tmp/ciclone/target/release/holdfast
cd /work/wt/lead
for v in ${VS:-default inplace1 warm0 default2}; do
  W=$(mktemp -d /tmp/abmx.XXXX); cp -a /tmp/seed-10k $W/seed
  cfg=; [ $v = inplace1 ] && cfg="--server-config /tmp/inplace1.toml"; [ $v = warm0 ] && cfg="--server-config /tmp/warm0.toml"
  echo "== mixed-10k-s9-quiet-ab-$v, load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%T)"
  timeout 300 $HF bench run --scenario mixed --seed-dir $W/seed --step-s 3 --rate-start 200 --connections 32 --no-healthz $cfg --out bench/perf/results/mixed-10k-s9-quiet-ab-$v 2>&1 | grep -v '^bench: ' | grep -E "capacity|RSS"
  rm -rf $W
done
