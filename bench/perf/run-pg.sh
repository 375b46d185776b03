#!/bin/sh
# pg, issue 10: every PostgreSQL number of bench/perf/README.md "Session 9 (pg)",
# in one command (from anywhere in the repository):
#
#   HF=target/release/holdfast sh bench/perf/run-pg.sh            # everything below
#   HF=... sh bench/perf/run-pg.sh seeds cpu home rounds          # some of: seeds cpu home home-100k rounds mixed
#
# Uses bench/perf/pg.sh's server (started if it is not running; `pg.sh stop`
# after). `seeds` builds the 10k and 100k seeds it does not have yet
# ($PG_DIR/seed-10k, $PG_DIR/seed-100k; 1M too with PG_SEED_1M=1, in the reduced
# shape of the SQLite 1M seed). Every run works on a fresh copy of its seed's
# database (CREATE DATABASE ... TEMPLATE: a server builds home feeds in the
# database it runs on), dropped after. `cpu` gives the CPU per request of the
# server and of PostgreSQL (all its processes) at fixed rates, read from /proc
# around the middle of a 14 s round: comparable on a loaded machine.
# SUFFIX names the results (default -s9-pg: bench/perf/results/home-10k-s9-pg, ...).
# `cpu` also writes statements-{home,post}-10k$SUFFIX.txt: what PostgreSQL ran
# per request in the window (pg_stat_statements: statements, commits, each
# statement's calls and time).
#
# Seeds are kept between runs (stopped with `pg.sh stop`): to measure again
# without seeding, point PG_DIR at the server that holds them and leave out
# `seeds`, e.g. session 10's (10k, 100k and 1M users, built by main 19ab536):
#   PG_DIR=/tmp/pg-seeds-s10 HF=target/release/holdfast SUFFIX=-s10-pg-quiet \
#       sh bench/perf/run-pg.sh cpu home home-100k rounds mixed
#   PG_DIR=/tmp/pg-seeds-s10 sh bench/perf/pg.sh stop
# (each run works on a copy; a newer binary migrates the copy at start).
set -eu
cd "$(dirname "$0")/../.."
. bench/perf/env.sh
PG_DIR=${PG_DIR:-/tmp/hf-pg-bench}
export PG_DIR
SUFFIX=${SUFFIX:--s9-pg}
POST_RATE=${POST_RATE:-700}
HOME_CPU_RATE=${HOME_CPU_RATE:-250}
POST_CPU_RATE=${POST_CPU_RATE:-300}
WHAT=${*:-seeds cpu home home-100k rounds mixed}
RUN=$PG_DIR/run
mkdir -p "$OUT"
sh bench/perf/pg.sh start >/dev/null

# fresh SEED: RUN names a new copy of seed SEED's database.
fresh() { rm -rf "$RUN"; sh bench/perf/pg.sh copy "$PG_DIR/$1" "$RUN" >/dev/null; }
done_with() { sh bench/perf/pg.sh drop "$RUN" >/dev/null; }
load() { echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%T)"; }
bench() {
    name=$1; shift
    load | tee "$OUT/$name.txt"
    "$HF" bench run --seed-dir "$RUN" --connections 32 --out "$OUT/$name" "$@" 2>&1 \
        | grep -v '^bench: built' | tee -a "$OUT/$name.txt"
    load | tee -a "$OUT/$name.txt"
}
# Nanoseconds on a CPU and waiting on a run queue (/proc/*/schedstat) of the
# server's threads, then of PostgreSQL's processes: "cpu wait cpu wait". The wait
# is what a loaded machine adds to each request's latency (session 12: at load
# ~10 a home request's processes waited ~10 ms to run for ~1.5 ms of CPU).
sched_ns() {
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    s=$(cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{c+=$1; w+=$2} END {print c+0, w+0}')
    p=$(for q in $pm $(pgrep -P "$pm"); do cat "/proc/$q/schedstat" 2>/dev/null || true; done \
        | awk '{c+=$1; w+=$2} END {print c+0, w+0}')
    echo "$s $p"
}
# CPU seconds (ticks) of the PostgreSQL server: the postmaster and its children.
pg_ticks() {
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    for p in $pm $(pgrep -P "$pm"); do awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || true; done \
        | awk '{s+=$1} END {print s}'
}
# psql on the server's `postgres` database, where pg_stat_statements is
# installed (it counts for every database; the runs' rows are picked by dbid).
psql_pg() { "$(ls -d /usr/lib/postgresql/*/bin | sort -t/ -k4 -n | tail -1)/psql" -X -q -v ON_ERROR_STOP=1 \
    "postgres://postgres@127.0.0.1:$(cat "$PG_DIR/port")/postgres" "$@"; }
run_db() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['database'].rsplit('/', 1)[1])" "$RUN/seed.json"; }
# statements SCENARIO RATE: what the run's database ran since the last
# reset (pg_stat_statements), per request of the 8 s window: statements and
# transactions in all, then each statement's calls and time per request.
statements() {
    psql_pg -tA -F ' | ' -c "
        SELECT 'per request: ' || round(sum(calls) FILTER (WHERE query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK'))::numeric / (8 * $2), 2)
            || ' statements, ' || round(sum(calls) FILTER (WHERE query = 'COMMIT')::numeric / (8 * $2), 2) || ' commits'
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$(run_db)');
        SELECT round(calls::numeric / (8 * $2), 3) AS calls_per_request, round(total_exec_time::numeric / (8 * $2), 4) AS ms_per_request,
               round(mean_exec_time::numeric, 4) AS mean_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 300)
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = '$(run_db)')
        ORDER BY calls DESC, total_exec_time DESC LIMIT 40"
}
# cpu SCENARIO RATE: a 14 s round at RATE on a fresh 10k copy; CPU per request.
cpu() {
    fresh seed-10k
    log=$PG_DIR/cpu.log
    "$HF" bench run --scenario "$1" --seed-dir "$RUN" --rate "$2" --rounds 1 --step-s 14 \
        --connections 32 --no-healthz --out "$PG_DIR/cpu" > "$log" 2>&1 &
    b=$!
    # Home reads: after the bench has built the viewers' home feeds (a fresh copy has none).
    case $1 in home | mixed) ready='bench: built' ;; *) ready='bench: started' ;; esac
    for _ in $(seq 1 3000); do grep -q "$ready" "$log" && break; sleep 0.2; done
    pid=$(sed -n 's/.*started holdfast serve (pid \([0-9]*\)).*/\1/p' "$log")
    sleep 3
    hz=$(getconf CLK_TCK)
    psql_pg -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
    s0=$(awk '{print $14+$15}' "/proc/$pid/stat"); p0=$(pg_ticks); q0=$(sched_ns "$pid")
    sleep 8
    s1=$(awk '{print $14+$15}' "/proc/$pid/stat"); p1=$(pg_ticks); q1=$(sched_ns "$pid")
    statements "$1" "$2" > "$OUT/statements-$1-10k$SUFFIX.txt"
    wait "$b" || true
    grep "round 1" "$log" | tail -1
    echo "$1 at $2/s: server CPU $(echo "($s1-$s0)*1000/$hz/8/$2" | bc -l | cut -c1-5) ms," \
        "PostgreSQL CPU $(echo "($p1-$p0)*1000/$hz/8/$2" | bc -l | cut -c1-5) ms per request (load $(cut -d' ' -f1 /proc/loadavg))," \
        "$(head -1 "$OUT/statements-$1-10k$SUFFIX.txt")"
    echo "$q0 $q1" | awk -v r="$2" -v w="$1" '{d=8*r*1e6; printf "%s at %d/s: waiting to run, per request: server %.3f ms (on CPU %.3f), PostgreSQL %.3f ms (on CPU %.3f)\n", w, r, ($6-$2)/d, ($5-$1)/d, ($8-$4)/d, ($7-$3)/d}'
    done_with
}
# seed NAME USERS [ARGS...]: builds $PG_DIR/NAME unless it is there.
seed() {
    name=$1 users=$2; shift 2
    [ -f "$PG_DIR/$name/seed.json" ] || sh bench/perf/pg.sh seed "$users" "$PG_DIR/$name" "$@"
}

for what in $WHAT; do
    case $what in
    seeds)
        seed seed-10k 10000
        seed seed-100k 100000
        if [ -n "${PG_SEED_1M:-}" ]; then seed seed-1m 1000000 --followees-median 20 --statuses-per-user 2; fi
        for s in "$PG_DIR"/seed-*/seed.log; do cp "$s" "$OUT/$(basename "$(dirname "$s")")$SUFFIX.log"; done
        ;;
    cpu)
        { load; cpu home "$HOME_CPU_RATE"; cpu post "$POST_CPU_RATE"; } | tee "$OUT/cpu-10k$SUFFIX.txt"
        ;;
    home)
        fresh seed-10k
        bench "home-10k$SUFFIX" --scenario home --step-s "$STEP_S" --rate-start 200
        done_with
        ;;
    home-100k)
        fresh seed-100k
        bench "home-100k$SUFFIX" --scenario home --step-s "$STEP_S" --rate-start 200
        done_with
        ;;
    rounds)
        fresh seed-10k
        bench "post-rounds-10k$SUFFIX" --scenario post --rate "$POST_RATE" --rounds 3 --step-s 10 --no-healthz
        done_with
        ;;
    mixed)
        fresh seed-10k
        bench "mixed-10k$SUFFIX" --scenario mixed --step-s "$STEP_S" --rate-start 200 --no-healthz
        done_with
        ;;
    *) echo "unknown run: $what" >&2; exit 2 ;;
    esac
done
