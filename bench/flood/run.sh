#!/usr/bin/env bash
# Runs every siege scenario against a server siege starts itself, with the guard on
# and off, and writes results/<scenario>-guard-<on|off>/{report.json,plot.svg,summary.txt}.
#
#   bench/flood/run.sh [SCENARIO...]        (default: all eleven)
#
# Knobs (environment): HOLDFAST_BIN, DURATION_S (default 20), GUARDS ("on off"),
# ATTACK_RATE_PER_S (default 6000 = 10x the ~600 req/s calm capacity measured on the
# 2-core dev box, see README), ATTACK_CONCURRENCY (default 1024), SLOW_BODIES (1000),
# SERVER_CPUS / SIEGE_CPUS (pin the server and siege to separate cores, e.g. 0 and 1;
# empty: no pinning), LEGIT_CPUS (then move the legitimate users' thread, e.g. to 0,
# beside the server), OUT_SUFFIX (appended to each result directory's name), USERS
# (legitimate users, default 20; `shared-address` always runs the issue's 50 users
# behind one address, 1 req/s each, within Mastodon's 300 per 5 min per token).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
BIN="${HOLDFAST_BIN:-../../target/release/holdfast}"
DURATION_S="${DURATION_S:-20}"
GUARDS="${GUARDS:-on off}"
ATTACK_RATE_PER_S="${ATTACK_RATE_PER_S:-6000}"
ATTACK_CONCURRENCY="${ATTACK_CONCURRENCY:-1024}"
SLOW_BODIES="${SLOW_BODIES:-1000}"
SERVER_CPUS="${SERVER_CPUS:-}"
SIEGE_CPUS="${SIEGE_CPUS:-}"
LEGIT_CPUS="${LEGIT_CPUS:-}"
OUT_SUFFIX="${OUT_SUFFIX:-}"
USERS="${USERS:-20}"
PIN=()
[ -n "$SERVER_CPUS" ] && PIN+=(--server-cpus "$SERVER_CPUS")
[ -n "$SIEGE_CPUS" ] && PIN+=(--siege-cpus "$SIEGE_CPUS")
[ -n "$LEGIT_CPUS" ] && PIN+=(--legit-cpus "$LEGIT_CPUS")
SCENARIOS=("$@")
if [ ${#SCENARIOS[@]} -eq 0 ]; then
  SCENARIOS=(calm anonymous-flood token-flood login-flood signup-flood slowloris big-bodies mixed
             fake-tokens slow-bodies shared-address)
fi
for scenario in "${SCENARIOS[@]}"; do
  users="$USERS"
  [ "$scenario" = shared-address ] && users=50
  for guard in $GUARDS; do
    out="results/${scenario}-guard-${guard}${OUT_SUFFIX}"
    rm -rf "$out"
    mkdir -p "$out"
    echo "== $scenario, guard $guard" >&2
    # A failed run (e.g. the server died) still leaves its report; keep going.
    "$BIN" siege --scenario "$scenario" --guard "$guard" --duration-s "$DURATION_S" --out "$out" \
      --users "$users" --legit-rate-per-s 50 \
      --attack-rate-per-s "$ATTACK_RATE_PER_S" --attack-concurrency "$ATTACK_CONCURRENCY" \
      --slowloris-connections 5000 --slow-bodies "$SLOW_BODIES" ${PIN[@]+"${PIN[@]}"} | tee "$out/summary.txt" || echo "siege exited non-zero" | tee -a "$out/summary.txt"
    # The server log can be large under a flood and says nothing the report does not.
    rm -f "$out/server.log"
  done
done
python3 table.py
