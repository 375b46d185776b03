#!/bin/sh
# Server CPU per request of two binaries, alternating in the same minutes, each
# round on a fresh copy of the seed (issue 10, the read side; session 10):
#   sh bench/perf/ab-home-cpu.sh OLD_BINARY NEW_BINARY [PAIRS] [SCENARIO]
# A fixed-rate round (CPU_RATE, 250/s) per binary; the server's CPU is read from
# /proc over 8 s in its middle. Alternating pairs are the one comparison that
# holds on a loaded machine (bench/perf/README.md, "Profiling").
# WARM_S (default 3) is when the 8 s window starts after the feeds are built;
# ROUND_S (default 14) the round's length: WARM_S=8 ROUND_S=20 measures only
# after each of the 1,000 viewers was read once at 250/s (session 12: what is
# kept per viewer is warm then, as on a server that has been up a while).
set -eu
. "$(dirname "$0")/env.sh"
OLD=$1 NEW=$2 PAIRS=${3:-2} SCENARIO=${4:-home}
CPU_RATE=${CPU_RATE:-250}
WARM_S=${WARM_S:-3}
ROUND_S=${ROUND_S:-14}
WORK=${WORK:-/tmp/ab-home-cpu.$$}
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
hz=$(getconf CLK_TCK)
for _ in $(seq 1 "$PAIRS"); do
    for bin in "$OLD" "$NEW"; do
        rm -rf "$WORK/seed" "$WORK/cpu"; cp -a "$SEED" "$WORK/seed"
        "$bin" bench run --scenario "$SCENARIO" --seed-dir "$WORK/seed" --rate "$CPU_RATE" --rounds 1 --step-s "$ROUND_S" \
            --connections 32 --no-healthz --out "$WORK/cpu" > "$WORK/cpu.log" 2>&1 &
        bench=$! pid=
        for _ in $(seq 1 600); do
            grep -q 'built' "$WORK/cpu.log" 2>/dev/null && pid=$(sed -n 's/.*started holdfast serve (pid \([0-9]*\)).*/\1/p' "$WORK/cpu.log") && break
            sleep 0.2
        done
        sleep "$WARM_S"
        a=$(awk '{print $14+$15}' "/proc/$pid/stat"); sleep 8; b=$(awk '{print $14+$15}' "/proc/$pid/stat")
        wait "$bench"
        echo "$bin: server CPU per $SCENARIO request at $CPU_RATE/s: $(echo "($b-$a)*1000/$hz/8/$CPU_RATE" | bc -l | cut -c1-5) ms (load $(cut -d' ' -f1 /proc/loadavg))"
    done
done
