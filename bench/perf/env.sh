# The defaults the bench/perf scripts share, each overridable from the
# environment; a script sources it (`. "$(dirname "$0")/env.sh"`) and then
# sets only what is its own. Paths are relative to the repository root.
HF=${HF:-target/release/holdfast}
STEP_S=${STEP_S:-3}
OUT=${OUT:-bench/perf/results}
# holdfast bench seed --users 10000 --out /tmp/seed-10k (and --users 100000)
SEED=${SEED:-/tmp/seed-10k}
SEED_100K=${SEED_100K:-/tmp/seed-100k}
