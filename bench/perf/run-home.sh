#!/bin/sh
# Issue 10, the read side (home, sessions 7 to 11): every home-timeline number in
# bench/perf/README.md "Session 11 (home)", in one command, each run on a fresh
# copy of its seed (a server migrates and writes feeds into the seed it runs on).
# SUFFIX names the results (-s11: bench/perf/results/home-10k-s11, ...).
#   HF=target/release/holdfast SUFFIX=-s11 sh bench/perf/run-home.sh
# Old and new binaries' CPU per request, alternating: bench/perf/ab-home-cpu.sh.
# Seeds (see run.sh): SEED (10k users, SQLite), SEED_100K, SEED_PG (10k users on
# PostgreSQL: its seed.json names the database; that one is used in place).
# Also prints the server's CPU per request at a fixed rate (CPU_RATE) for
# /healthz, verify_credentials (a signed-in call doing nearly nothing: the fixed
# cost of every signed-in request) and home, the figures that stay comparable
# on a loaded machine. The ramps step by RATE_FACTOR (1.2: a 1.5 step hides any
# gain under 50 %).
set -eu
. "$(dirname "$0")/env.sh"
SEED_PG=${SEED_PG:-}
CPU_RATE=${CPU_RATE:-250}
SUFFIX=${SUFFIX:--s11}
RATE_FACTOR=${RATE_FACTOR:-1.2}
WORK=${WORK:-/tmp/run-home.$$}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

fresh() { rm -rf "$WORK/seed"; cp -a "$1" "$WORK/seed"; echo "$WORK/seed"; }
run() { name=$1; shift; echo "== $name, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/$name.txt";
        "$HF" bench run --step-s "$STEP_S" --rate-factor "$RATE_FACTOR" --connections 32 --out "$OUT/$name" "$@" 2>&1 | grep -v '^bench: ' | tee -a "$OUT/$name.txt"; }

# Server CPU per request: a fixed-rate round, CPU read from /proc around its middle.
cpu_per_request() {
    scenario=$1 seed=$2
    rm -f "$WORK/cpu.log"
    "$HF" bench run --scenario "$scenario" --seed-dir "$seed" --rate "$CPU_RATE" --rounds 1 --step-s 14 \
        --connections 32 --no-healthz --out "$WORK/cpu" > "$WORK/cpu.log" 2>&1 &
    bench=$!
    pid=
    for _ in $(seq 1 600); do
        grep -q 'built' "$WORK/cpu.log" 2>/dev/null && pid=$(sed -n 's/.*started holdfast serve (pid \([0-9]*\)).*/\1/p' "$WORK/cpu.log") && break
        sleep 0.2
    done
    sleep 3
    hz=$(getconf CLK_TCK)
    a=$(awk '{print $14+$15}' "/proc/$pid/stat"); sleep 8; b=$(awk '{print $14+$15}' "/proc/$pid/stat")
    wait "$bench"
    echo "server CPU per $scenario request at $CPU_RATE/s: $(echo "($b-$a)*1000/$hz/8/$CPU_RATE" | bc -l | cut -c1-5) ms (load $(cut -d' ' -f1 /proc/loadavg))"
}

: > "$OUT/home-10k-cpu$SUFFIX.txt"
for scenario in healthz verify home; do
    cpu_per_request $scenario "$(fresh "$SEED")" | tee -a "$OUT/home-10k-cpu$SUFFIX.txt"
done
run home-10k$SUFFIX --scenario home --seed-dir "$(fresh "$SEED")" --rate-start 200
run home-followees-10k$SUFFIX --scenario home-followees --seed-dir "$(fresh "$SEED")" --rate-start 100 --no-healthz
[ -n "$SEED_PG" ] && run home-10k-pg$SUFFIX --scenario home --seed-dir "$SEED_PG" --rate-start 50
[ -d "$SEED_100K" ] && run home-100k$SUFFIX --scenario home --seed-dir "$(fresh "$SEED_100K")" --rate-start 200
exit 0
