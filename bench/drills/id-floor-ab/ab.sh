#!/bin/bash
# A/B of the id floor on one local cluster with one binary: migration 0005's
# one-row lease (restored by SQL on the primary) for 3 kill-db-primary rounds,
# then 0018's lease rows (its function put back) for 3 more. Usage:
#   HOLDFAST_BIN=target/release/holdfast bench/drills/id-floor-ab/ab.sh /tmp/hfc/ab /tmp/ab-out
set -u
cd "$(dirname "$0")/../../.."
bin=${HOLDFAST_BIN:-$PWD/target/release/holdfast}; dir=${1:?cluster dir}; out=${2:?output dir}
migrations=$PWD/crates/holdfast-store/migrations/postgres
export RUST_LOG=warn
rm -rf "$dir" "$out"; mkdir -p "$out"
"$bin" cluster up --dir "$dir" > "$out/up.log" 2>&1 || exit 1
# 0018's function alone (its table stays; the old table goes).
sed -n '/^CREATE OR REPLACE FUNCTION/,/^\$\$;/p' "$migrations/0018_id_leases.sql" > "$out/new-floor.sql"
psql_primary() {
  local port
  port=$(python3 -c "
import json,urllib.request
st=json.load(open('$dir/cluster.json'))
cl=json.load(urllib.request.urlopen('http://127.0.0.1:%d/cluster'%st['patroni_ports'][0]))
l=[m for m in cl['members'] if m['role']=='leader'][0]
print(st['pg_inner_ports'][st['pg_ports'].index(l['port'])])")
  /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -p "$port" -U postgres -d holdfast -q -v ON_ERROR_STOP=1 "$@"
}
echo "old $(date -u +%T) $(cat /proc/loadavg)" >> "$out/load.txt"
psql_primary -f "$migrations/0005_id_floor.sql"
"$bin" drill --cluster "$dir" --fault kill-db-primary --rounds 3 --out "$out/old" 2> "$out/old.log" > /dev/null
echo "new $(date -u +%T) $(cat /proc/loadavg)" >> "$out/load.txt"
psql_primary -c "DROP TABLE holdfast_id_clock" -f "$out/new-floor.sql"
"$bin" drill --cluster "$dir" --fault kill-db-primary --rounds 3 --out "$out/new" 2> "$out/new.log" > /dev/null
echo "end $(date -u +%T) $(cat /proc/loadavg)" >> "$out/load.txt"
grep -h -A3 "deadlock detected" "$dir"/logs/patroni*.log > "$out/deadlocks.txt"
"$bin" cluster down --dir "$dir" > /dev/null 2>&1
