#!/bin/sh
# post, issue 10: the write-side runs behind bench/perf/README.md's "Session 7
# (post)" section, in one command (from anywhere in the repository):
#
#   bench/perf/run-post.sh              # everything below
#   bench/perf/run-post.sh ramp rounds  # some of: ramp cpu rounds followers mixed calm pg
#
# Needs a release build (cargo build --release -p holdfast) and the seeds
#   holdfast bench seed --users 10000  --out /tmp/seed-10k
#   holdfast bench seed --users 100000 --out /tmp/seed-100k   (followers)
#   holdfast bench seed --users 10000  --out /tmp/seed-10k-pg --database postgres://...  (pg:
#   a database no server has run on yet, so that no home feed is built in it)
# A server migrates (and writes to) the seed it runs on, so every run gets a
# fresh copy of a once-migrated copy under $WORK; the originals stay as they are.
# POST_RATE: the rate of the three 10 s posting rounds (the posting target is
# judged on the slowest of them); POST_RATE_PG the same on PostgreSQL (default
# POST_RATE). SERVER_CONFIG=FILE starts every server with that config file
# (say `[limits]` and `sqlite_group_commit_gather_us = 500`, for an A/B).
# `uptime` is printed beside every run.
set -u
cd "$(dirname "$0")/../.."
. bench/perf/env.sh
WORK=${WORK:-/tmp/post-bench}
SEED_PG=${SEED_PG:-/tmp/seed-10k-pg}
POST_RATE=${POST_RATE:-700}
CONNS=${CONNS:-32}
SUFFIX=${SUFFIX:-}
CFG=${SERVER_CONFIG:+--server-config $SERVER_CONFIG}
export CFG
WHAT=${*:-ramp rounds followers mixed calm pg}
mkdir -p "$WORK" "$OUT"

# migrated NAME SRC: a migrated copy of seed SRC at $WORK/NAME (made once).
migrated() {
    if [ ! -f "$WORK/$1/.migrated" ]; then
        rm -rf "$WORK/$1" && cp -r "$2" "$WORK/$1" && "$HF" migrate --data-dir "$WORK/$1/data" >/dev/null 2>&1 \
            && touch "$WORK/$1/.migrated"
    fi
}
# fresh NAME: a throw-away copy of the migrated NAME at $WORK/run.
fresh() { rm -rf "$WORK/run" && cp -r "$WORK/$1" "$WORK/run"; }
load() { echo "load: $(uptime | sed 's/.*load average: //') at $(date -u +%T)"; }
bench() {
    name=$1; shift
    load | tee "$OUT/$name.txt"
    "$HF" bench run --seed-dir "$WORK/run" --connections "$CONNS" --out "$OUT/$name" $CFG "$@" 2>&1 \
        | grep -v '^bench: built' | tee -a "$OUT/$name.txt"
    load | tee -a "$OUT/$name.txt"
}

for what in $WHAT; do
    case $what in
    ramp)
        migrated seed-10k "$SEED" && fresh seed-10k
        bench "post-10k-ramp$SUFFIX" --scenario post --step-s "$STEP_S" --rate-start 200 --no-healthz
        ;;
    cpu)
        # Server CPU per post at POST_RATE, in all and by thread (writer, workers).
        migrated seed-10k "$SEED" && fresh seed-10k
        { load; bash bench/perf/cpu-per-post.sh "$HF" "$WORK/run" "$POST_RATE"; } 2>&1 | tee "$OUT/post-cpu-10k$SUFFIX.txt"
        ;;
    rounds)
        migrated seed-10k "$SEED" && fresh seed-10k
        bench "post-rounds-10k$SUFFIX" --scenario post --rate "$POST_RATE" --rounds 3 --step-s 10 --no-healthz
        ;;
    followers)
        migrated seed-100k "$SEED_100K" && fresh seed-100k
        bench "post-followers-100k$SUFFIX" --scenario post-followers --rate 50 --step-s 5 --no-healthz
        ;;
    mixed)
        migrated seed-10k "$SEED" && fresh seed-10k
        bench "mixed-10k$SUFFIX" --scenario mixed --step-s "$STEP_S" --rate-start 200 --no-healthz
        ;;
    calm)
        # siege's legitimate mix alone (bench/flood's "calm capacity"): open loop,
        # 8 s per rate, guard off, on a server siege starts on fresh data.
        dir="$OUT/siege-calm$SUFFIX"
        mkdir -p "$dir"
        load | tee "$dir/summary.txt"
        for rate in ${CALM_RATES:-600 1200 2400 4800 6000}; do
            "$HF" siege --scenario calm --guard off $CFG --duration-s 8 --users 20 --legit-rate-per-s "$rate" \
                --out "$dir/rate-$rate" >/dev/null 2>&1
            # Every run leaves a report: its totals (and what was not served, by
            # kind), or the error that kept it from running.
            python3 -c "import json; r = json.load(open('$dir/rate-$rate/report.json')); t = r.get('totals', {}).get('legit'); \
print('rate $rate/s: not run:', r.get('error')) if t is None else \
print('rate $rate/s: sent', t['sent'], 'ok', t['ok'], 'success', t['success_ratio'], 'p50', t['p50_ms'], 'p99', t['p99_ms'], 'ms;', \
'not ok:', {k: v for k, v in t['by_status'].items() if not k.startswith('2')} or 'none')" \
                | tee -a "$dir/summary.txt"
            rm -f "$dir/rate-$rate/server.log" "$dir/rate-$rate/legit.csv"
        done
        load | tee -a "$dir/summary.txt"
        ;;
    pg)
        # The PostgreSQL seed is a database: each run works on a copy of it
        # (CREATE DATABASE ... TEMPLATE), named in a copy of its seed.json.
        url=$(python3 -c "import json,sys; print(json.load(open('$SEED_PG/seed.json'))['database'])")
        base=${url%/*}; db=${url##*/}
        psql "$base/postgres" -qc "DROP DATABASE IF EXISTS ${db}_run" -c "CREATE DATABASE ${db}_run TEMPLATE $db" || continue
        rm -rf "$WORK/run" && mkdir -p "$WORK/run"
        python3 -c "import json; d=json.load(open('$SEED_PG/seed.json')); d['database']='$base/${db}_run'; json.dump(d, open('$WORK/run/seed.json','w'))"
        bench "post-rounds-10k-pg$SUFFIX" --scenario post --rate "${POST_RATE_PG:-$POST_RATE}" --rounds 3 --step-s 10 --no-healthz
        psql "$base/postgres" -qc "DROP DATABASE IF EXISTS ${db}_run"
        ;;
    *) echo "unknown run: $what" >&2; exit 2 ;;
    esac
done
