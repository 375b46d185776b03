#!/bin/bash
# The status page during a database failover: runs one kill-db-primary round
# against a running local cluster and, as soon as node1's /status.json says
# degraded, saves its /status.json and a headless-Chromium screenshot of /status.
#   bench/drills/status-screenshot.sh /tmp/hfc/rel bench/drills/status-during-failover
# (writes <prefix>.png and <prefix>.json). Every loop is bounded.
set -u
cd "$(dirname "$0")/../.."
bin=$PWD/target/release/holdfast
dir=${1:?the cluster directory}
prefix=${2:?the output prefix}
port=$(python3 -c "import json; print(json.load(open('$dir/cluster.json'))['node_ports'][0])")
"$bin" drill --cluster "$dir" --fault kill-db-primary --rounds 1 --out /tmp/hf-status-shot \
  > /tmp/hf-status-shot.log 2>&1 &
drill=$!
shot=1
for _ in $(seq 1 400); do  # at most ~60 s
  body=$(curl -s --max-time 1 "http://127.0.0.1:$port/status.json")
  if echo "$body" | grep -q '"status":"degraded"'; then
    echo "$body" | python3 -m json.tool > "$prefix.json"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size=1200,1500 --screenshot="$prefix.png" "http://127.0.0.1:$port/status" 2>/dev/null
    shot=0
    break
  fi
  sleep 0.1
done
wait $drill
exit $shot
