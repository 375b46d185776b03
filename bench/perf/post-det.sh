#!/bin/bash
# bench/perf/post-det.sh HF WORK: deterministic costs of a post (issue 10, session 13),
# for A/Bs that the VM's noisy CPU time cannot resolve.
#  1. WAL frames per post: bytes the SQLite writer thread wrote (its /proc io `wchar`:
#     the writer writes only WAL frames of 4,096 + 24 bytes; with the config below it
#     never checkpoints itself) over 8 s at RATE posts/s on CONNS connections, / posts.
#  2. Instructions per post: the server under callgrind, instrumentation on only while
#     bench --target sends CG_POSTS posts at CG_RATE/s over one connection; total Ir / posts
#     (every thread, so the idle ones' few too; the same for both binaries).
# On a fresh copy of the migrated 10k seed ($SEED) under WORK, guard off. LIMITS="name = value"
# sets one more bound in the server's config.
set -u
HF=$1; WORK=$2
SEED=${SEED:-/tmp/seed-10k}; RATE=${RATE:-300}; CONNS=${CONNS:-1}
CG_RATE=${CG_RATE:-20}; CG_S=${CG_S:-10}
mkdir -p "$WORK"
if [ ! -f "$WORK/migrated/.migrated" ]; then
  rm -rf "$WORK/migrated" && cp -a "$SEED" "$WORK/migrated" && "$HF" migrate --data-dir "$WORK/migrated/data" >/dev/null 2>&1 && touch "$WORK/migrated/.migrated"
fi
fresh() { rm -rf "$WORK/run" && cp -a "$WORK/migrated" "$WORK/run"; }
cat > "$WORK/cfg.toml" <<'CFG'
[limits]
sqlite_wal_restart_pages = 0
sqlite_writer_checkpoint_pages = 4000000
CFG
# LIMITS="name = value" adds a line to [limits] (an A/B of one bound on one binary).
[ -n "${LIMITS:-}" ] && echo "$LIMITS" >> "$WORK/cfg.toml"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%T), $HF"
if [ "${SKIP_FRAMES:-}" = "" ]; then
  fresh
  "$HF" bench run --scenario post --seed-dir "$WORK/run" --rate "$RATE" --rounds 1 --step-s 14 --connections "$CONNS" \
    --no-healthz --server-config "$WORK/cfg.toml" --out "$WORK/out" > "$WORK/log" 2>&1 &
  b=$!; pid=
  for _ in $(seq 1 1500); do
    pid=$(sed -n "s/.*started holdfast serve (pid \([0-9]*\)).*/\1/p" "$WORK/log" | tail -1)
    [ -n "$pid" ] && [ -e /proc/$pid/stat ] && break; sleep 0.2
  done
  sleep 3
  wr() { for t in /proc/$pid/task/*; do [ "$(cat $t/comm)" = hf-sqlite-write ] && awk '/^wchar/ {print $2}' $t/io; done; }
  a=$(wr); sleep 8; z=$(wr); wait $b
  grep "post round" "$WORK/log" | tail -1
  awk -v a=$a -v z=$z -v r=$RATE 'BEGIN {printf "WAL frames per post at %d/s, %s conns: %.2f (%d bytes by the writer in 8 s)\n", r, "'$CONNS'", (z-a)/4120/(8*r), z-a}'
fi
if [ "${SKIP_CG:-}" = "" ]; then
  fresh
  port=$((20000 + RANDOM % 10000))
  RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.out" \
    "$HF" serve --listen 127.0.0.1:$port --domain localhost --data-dir "$WORK/run/data" --guard off --config "$WORK/cfg.toml" > "$WORK/cg.log" 2>&1 &
  v=$!
  for _ in $(seq 1 600); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.5; done
  sleep 2
  callgrind_control -i on $v >/dev/null
  "$HF" bench run --scenario post --seed-dir "$WORK/run" --target http://127.0.0.1:$port --rate "$CG_RATE" --rounds 1 --step-s "$CG_S" \
    --connections "${CG_CONNS:-1}" --no-healthz --out "$WORK/cgout" 2>&1 | grep -i "round"
  callgrind_control -i off $v >/dev/null
  callgrind_control -d $v >/dev/null
  kill $v; wait $v 2>/dev/null
  posts=$((CG_RATE * CG_S))
  total=$(sed -n "s/.*Collected : *//p" "$WORK/cg.log" | tr -d ,)
  echo "instructions per post (callgrind, $posts posts at $CG_RATE/s, ${CG_CONNS:-1} conns): $((total / posts)) (total $total)"
  mkdir -p "$WORK/cg" && mv "$WORK"/cg.out* "$WORK/cg/" 2>/dev/null
fi
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%T)"
