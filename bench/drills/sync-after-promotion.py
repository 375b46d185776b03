#!/usr/bin/python3
"""Does a newly promoted primary wait for a synchronous standby before it
acknowledges a commit? Usage, on a healthy `holdfast cluster up` cluster (it
kills the primary, as kill-db-primary does, and leaves the cluster for a
drill to heal or `cluster down`):

    /usr/bin/python3 bench/drills/sync-after-promotion.py DIR [--freeze-other S] [--txid-only]

It watches both standbys directly; once one is out of recovery it notes its
WAL insert position, commits a transaction that wrote WAL (a transactional
logical message; with --txid-only, one that only took a transaction id, as
session 7's probe did), and asks
how many synchronous standbys had replayed past that position when the
commit was acknowledged (0: acknowledged by one server alone).
--freeze-other S: also SIGSTOP the other standby's PostgreSQL for S seconds
from the kill, so that no standby can attach to the new primary in that
time: a commit must then wait until S has passed (strict synchronous mode).
Needs psycopg2 (Debian: python3-psycopg2, which patroni depends on)."""
import json, os, signal, subprocess, sys, threading, time, urllib.request
import psycopg2

d = sys.argv[1]
freeze_s = float(sys.argv[sys.argv.index("--freeze-other") + 1]) if "--freeze-other" in sys.argv else 0
st = json.load(open(f"{d}/cluster.json"))
cl = json.load(urllib.request.urlopen(f"http://127.0.0.1:{st['patroni_ports'][0]}/cluster"))
leader = [m for m in cl["members"] if m["role"] == "leader"][0]
p = st["pg_ports"].index(leader["port"])
print("primary pg%d" % (p + 1), [(m["name"], m["role"], m["state"]) for m in cl["members"]])
conns = {}
for i in range(3):
    if i == p:
        continue
    c = psycopg2.connect(host="127.0.0.1", port=st["pg_inner_ports"][i], user="postgres", dbname="postgres")
    c.autocommit = True
    conns[i] = c


def postgres_pids(i):
    pm = int(open(f"{d}/pg{i+1}/data/postmaster.pid").readline())
    kids = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pm)], capture_output=True, text=True).stdout.split()
    return [pm, *map(int, kids)]


pm = int(open(f"{d}/pg{p+1}/data/postmaster.pid").readline())
t_kill = time.time()
os.kill(st["pids"][f"patroni{p+1}"], signal.SIGKILL)
os.kill(pm, signal.SIGKILL)
frozen = []
if freeze_s:
    # Freeze both standbys' walreceivers' side by freezing one whole standby;
    # the other is the one Patroni will promote (the probe watches both).
    other = [i for i in conns][1]
    frozen = postgres_pids(other)
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:  # a backend that just ended
            pass
    del conns[other]
    print(f"froze pg{other+1} for {freeze_s} s")

    def thaw():
        time.sleep(max(0, t_kill + freeze_s - time.time()))
        for pid in frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        print(f"thawed at +{time.time()-t_kill:.3f}s")
    threading.Thread(target=thaw, daemon=True).start()
deadline = t_kill + 30 + freeze_s
while time.time() < deadline:
    for i, c in conns.items():
        cur = c.cursor()
        cur.execute("SELECT pg_is_in_recovery()")
        if not cur.fetchone()[0]:
            t0 = time.time()
            cur.execute("SHOW synchronous_standby_names"); ssn = cur.fetchone()[0]
            cur.execute("SELECT application_name, state, sync_state FROM pg_stat_replication"); before = cur.fetchall()
            t1 = time.time()
            cur.execute("BEGIN")
            cur.execute("SELECT pg_current_wal_insert_lsn()"); lsn = cur.fetchone()[0]
            # A commit that waits like a write's must have written WAL before
            # its commit record: PostgreSQL does not wait for synchronous
            # standbys for a transaction that only took an xid (txid_current()),
            # whatever synchronous_standby_names says (`--txid-only` shows it).
            if "--txid-only" in sys.argv:
                cur.execute("SELECT txid_current()")
            else:
                cur.execute("SELECT pg_logical_emit_message(true, 'holdfast-drill', 'probe')")
            cur.execute("COMMIT")
            t2 = time.time()
            cur.execute("SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum') AND replay_lsn > %s::pg_lsn", (lsn,))
            on_standbys = cur.fetchone()[0]
            cur.execute("SELECT application_name, state, sync_state, replay_lsn FROM pg_stat_replication"); after = cur.fetchall()
            print(f"pg{i+1} out of recovery at +{t0-t_kill:.3f}s; synchronous_standby_names={ssn!r}; replication before commit: {before}")
            print(f"commit took {t2-t1:.3f}s (acknowledged at +{t2-t_kill:.3f}s); synchronous standbys that had applied it: {on_standbys}; replication after: {after}")
            time.sleep(max(0, t_kill + freeze_s - time.time()) + 0.2)
            sys.exit(0 if on_standbys > 0 else 1)
    time.sleep(0.01)
print("no promotion seen")
sys.exit(2)
