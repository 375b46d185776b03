#!/bin/sh
# Server CPU per request of two binaries, alternating in the same minutes, each
# round on a fresh copy of the seed (issue 10, the read side; session 10):
#   sh bench/perf/ab-home-cpu.sh OLD_BINARY NEW_BINARY [PAIRS] [SCENARIO]
# A fixed-rate round (CPU_RATE, 250/s) per binary; the server's CPU is read from
# /proc over 8 s in its middle. Alternating pairs are the one comparison that
# holds on a loaded machine (bench/perf/README.md, "Profiling").
set -eu
. "$(dirname "$0")/env.sh"
OLD=$1 NEW=$2 PAIRS=${3:-2} SCENARIO=${4:-home}
CPU_RATE=${CPU_RATE:-250}
WORK=${WORK:-/tmp/ab-home-cpu.$$}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
hz=$(getconf CLK_TCK)
for _ in $(seq 1 "$PAIRS"); do
    for bin in "$OLD" "$NEW"; do
        rm -rf "$WORK/seed" "$WORK/cpu"; cp -a "$SEED" "$WORK/seed"
        "$bin" bench run --scenario "$SCENARIO" --seed-dir "$WORK/seed" --rate "$CPU_RATE" --rounds 1 --step-s 14 \
            --connections 32 --no-healthz --out "$WORK/cpu" > "$WORK/cpu.log" 2>&1 &
        bench=$! pid=
        for _ in $(seq 1 600); do
            grep -q 'built' "$WORK/cpu.log" 2>/dev/null && pid=$(sed -n 's/.*started holdfast serve (pid \([0-9]*\)).*/\1/p' "$WORK/cpu.log") && break
            sleep 0.2
        done
        sleep 3
        a=$(awk '{print $14+$15}' "/proc/$pid/stat"); sleep 8; b=$(awk '{print $14+$15}' "/proc/$pid/stat")
        wait "$bench"
        echo "$bin: server CPU per $SCENARIO request at $CPU_RATE/s: $(echo "($b-$a)*1000/$hz/8/$CPU_RATE" | bc -l | cut -c1-5) ms (load $(cut -d' ' -f1 /proc/loadavg))"
    done
done
