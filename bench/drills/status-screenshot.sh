#!/bin/bash
# The status page during a database failover: runs one kill-db-primary round
# against a running local cluster and, as soon as node1's /status.json says
# degraded, saves its /status.json and /status (HTML) at that same moment, and
# a headless-Chromium screenshot of that saved page (so the picture shows the
# same instant as the JSON, not the cluster a few seconds later, after Chromium
# has started).
#   bench/drills/status-screenshot.sh /tmp/hfc/rel bench/drills/status-during-failover
# (writes <prefix>.png, <prefix>.json and <prefix>.html). Every loop is bounded.
# HOLDFAST_BIN picks the binary (default: the release build).
set -u
cd "$(dirname "$0")/../.."
bin=${HOLDFAST_BIN:-$PWD/target/release/holdfast}
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
    page=$(curl -s --max-time 1 "http://127.0.0.1:$port/status")
    echo "$body" | python3 -m json.tool > "$prefix.json"
    # The saved page with its stylesheet inlined as a file beside it; no script.
    css=$(echo "$page" | grep -o '/assets/style-[0-9a-f]*\.css' | head -1)
    curl -s --max-time 2 "http://127.0.0.1:$port$css" > "$prefix.css"
    echo "$page" | sed -e "s#$css#$(basename "$prefix").css#" -e 's#<script[^>]*></script>##' > "$prefix.html"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
      --window-size=1200,1500 --screenshot="$prefix.png" "file://$(realpath "$prefix.html")" 2>/dev/null
    shot=0
    break
  fi
  sleep 0.1
done
wait $drill
exit $shot
