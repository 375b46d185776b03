#!/bin/sh
# pg, issue 10: one throwaway PostgreSQL for the bench/perf runs, and seeds in it.
#
#   bench/perf/pg.sh start                 # initdb + start (once); prints the server's URL
#   bench/perf/pg.sh seed N DIR [ARGS...]  # holdfast bench seed --users N --out DIR into a new database
#   bench/perf/pg.sh copy SEED_DIR RUN_DIR # a copy of SEED_DIR's database (CREATE DATABASE ... TEMPLATE),
#                                          # named in RUN_DIR/seed.json, for one run
#   bench/perf/pg.sh drop RUN_DIR          # drops the copy RUN_DIR names
#   bench/perf/pg.sh stop                  # stops the server (its seeds stay; `start` again later)
#   bench/perf/pg.sh destroy               # stops it and deletes $PG_DIR, every seed in it
#
# The server lives in $PG_DIR (default /tmp/hf-pg-bench) on a free loopback
# port, as the test harness's clusters do (tests/conftest.py), but durable:
# fsync and synchronous_commit on, wal_level replica (what a cluster's primary
# writes), so posting numbers are those of a real primary without a standby.
# Seeds run at `nice -n 19 ionice -c3` (the machine is shared) and print their
# wall and CPU time (/usr/bin/time) beside the seeder's per-phase times.
set -eu
cd "$(dirname "$0")/../.."
. bench/perf/env.sh
PG_DIR=${PG_DIR:-/tmp/hf-pg-bench}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -t/ -k4 -n | tail -1)}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-1GB}

# As root, PostgreSQL runs as the `postgres` user (it refuses root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
url() { echo "postgres://postgres@127.0.0.1:$(cat "$PG_DIR/port")"; }
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$(url)/postgres" "$@"; }
db_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['database'].rsplit('/', 1)[1])" "$1/seed.json"; }

case ${1:-} in
start)
    if [ ! -f "$PG_DIR/port" ]; then
        mkdir -p "$PG_DIR"
        [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
        as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
            --lc-collate=C --lc-ctype=C.UTF-8 >/dev/null
        python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])" > "$PG_DIR/port"
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 120 start -o \
            "-p $(cat "$PG_DIR/port") -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c shared_buffers=$PG_SHARED_BUFFERS -c max_wal_size=${PG_MAX_WAL_SIZE:-8GB} -c checkpoint_timeout=30min \
             -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" >/dev/null
    fi
    url
    ;;
seed)
    users=$2 out=$3; shift 3
    db=seed_$(basename "$out" | tr -c 'a-z0-9\n' _)
    psql_ -c "CREATE DATABASE $db"
    mkdir -p "$out"
    /usr/bin/time -f "seed $db: wall %e s, user %U s, system %S s, max RSS %M KiB" \
        nice -n 19 ionice -c3 "$HF" bench seed --users "$users" --out "$out" --database "$(url)/$db" "$@" 2>&1 \
        | tee "$out/seed.log"
    psql_ -tAc "SELECT 'database size: ' || pg_size_pretty(pg_database_size('$db'))" | tee -a "$out/seed.log"
    ;;
copy)
    db=$(db_of "$2")
    # FILE_COPY, then a checkpoint: PostgreSQL 15's default (WAL_LOG) copies
    # a database block by block through the WAL, so a copy of the 100k seed
    # wrote ~4.7 GB of WAL and left GBs of dirty pages that the kernel wrote
    # back during the run's first minute (Dirty in /proc/meminfo rose to
    # 1.9 GB after the copy returned). FILE_COPY copies the files and
    # checkpoints; the CHECKPOINT after it and `sync` put the copy on disk
    # before the server starts, so no run measures the previous copy's writes.
    psql_ -c "DROP DATABASE IF EXISTS ${db}_run" \
        -c "CREATE DATABASE ${db}_run TEMPLATE $db ${PG_COPY_STRATEGY:-STRATEGY FILE_COPY}" -c "CHECKPOINT"
    sync
    mkdir -p "$3"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['database']=sys.argv[2]; json.dump(d, open(sys.argv[3],'w'))" \
        "$2/seed.json" "$(url)/${db}_run" "$3/seed.json"
    ;;
drop)
    psql_ -c "DROP DATABASE IF EXISTS $(db_of "$2")"
    ;;
stop | destroy)
    [ -d "$PG_DIR/data" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ "$1" = destroy ]; then rm -rf "$PG_DIR"; fi
    ;;
*)
    sed -n '2,17p' "$0"; exit 2
    ;;
esac
