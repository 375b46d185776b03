#!/bin/sh
# Instructions per home request under callgrind: a measure this shared VM
# cannot blur (CPU time per request moves ±20 % per round here; this one
# repeats within ~0.2 %). Session 13 (home13):
#   sh bench/perf/cg-home.sh BINARY [PORT]
# A fresh copy of the seed ($SEED); the server under callgrind (guard off);
# a warm pass (100 viewers x 1 page of 20: builds their feeds, fills what is
# kept; WARM=2 passes measure only pages whose viewer read a page from a built
# feed before, as on a server up a while: session 14); counters zeroed;
# then measured: the same 100 viewers x 3 passes, one request at a time
# on one keep-alive connection; Ir of all the server's threads over that
# window / 300. Compare two binaries by running it for each.
set -eu
. "$(dirname "$0")/env.sh"
BIN=$1 PORT=${2:-28613}
VIEWERS=${VIEWERS:-100} PASSES=${PASSES:-3}
WORK=${WORK:-/tmp/cg-home.$$}
rm -rf "$WORK"; mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cp -a "$SEED" "$WORK/seed"
RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
    "$BIN" serve --listen "127.0.0.1:$PORT" --domain localhost --data-dir "$WORK/seed/data" --guard off \
    > "$WORK/server.log" 2>&1 &
vg=$!
drive() {
    python3 - "$PORT" "$WORK/seed/seed.json" "$1" "$VIEWERS" "$2" <<'PY'
import http.client, json, sys, time
port, seed, what, n, passes = int(sys.argv[1]), json.load(open(sys.argv[2])), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
for _ in range(600):  # the server starts slowly under callgrind
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.5)
ok = 0
for _ in range(passes):
    for v in seed["viewers"][:n]:
        c.request("GET", "/api/v1/timelines/home?limit=20", headers={"Authorization": "Bearer " + v["token"]})
        r = c.getresponse(); body = r.read()
        ok += r.status == 200 and len(json.loads(body)) == 20
print(f"{what}: {ok} of {n * passes} answered 200 with 20 statuses", file=sys.stderr)
if ok != n * passes:
    sys.exit(1)
PY
}
drive warm "${WARM:-1}"
callgrind_control -z "$vg" > /dev/null
drive measured "$PASSES"
callgrind_control -d "$vg" > /dev/null
kill "$vg"; wait "$vg" || true
# The measured window is the dump's file (the one at exit holds only the shutdown).
ir=$(grep -l '^desc: Trigger: dump' "$WORK"/cg.out* | xargs awk '/^summary:/ {s += $2} END {print s}')
n=$((VIEWERS * PASSES))
echo "$BIN: $ir instructions over $n home requests: $((ir / n)) per request"
