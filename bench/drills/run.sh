#!/bin/bash
# Every fault against one local cluster, release build. Usage:
#   cargo build --release -p holdfast
#   bench/drills/run.sh /tmp/hfc/rel        # the cluster's directory (made here)
# Results: bench/drills/<fault>/ (round JSON + SVG, summary.md, report.json)
# and bench/drills/<fault>.log (the drill's own output).
set -u
cd "$(dirname "$0")/../.."
# A copy of the binary may be given (so a build during the run changes nothing).
bin=${HOLDFAST_BIN:-$PWD/target/release/holdfast}
dir=${1:?the cluster directory}
mkdir -p "$(dirname "$dir")" && chmod 755 "$(dirname "$dir")"
export RUST_LOG=warn
"$bin" cluster up --dir "$dir" || exit 1
status=0
# How loaded the machine was (other people's builds share its 2 cores).
echo "start $(date -u +%FT%TZ) $(cat /proc/loadavg)" > bench/drills/load.txt
for run in "kill-db-primary 10" "partition-db-primary 1" "pause-db-primary 1" \
           "kill-db-replica 1" "kill-node 1" "restart-node 1" "kill-etcd-member 1"; do
  set -- $run
  rm -rf "bench/drills/$1"
  "$bin" drill --cluster "$dir" --fault "$1" --rounds "$2" --out "bench/drills/$1" \
    2> "bench/drills/$1.log" > /dev/null || status=1
  echo "$1 done $(date -u +%FT%TZ) $(cat /proc/loadavg)" >> bench/drills/load.txt
done
"$bin" cluster down --dir "$dir"
exit $status
