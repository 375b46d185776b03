#!/usr/bin/python3
"""Does a newly promoted primary wait for a synchronous standby before it
acknowledges a commit? Usage (a `holdfast cluster up` cluster, healthy; it kills
the primary, as kill-db-primary does, and leaves the cluster for a drill to heal
or `cluster down`): /usr/bin/python3 bench/drills/sync-after-promotion.py DIR
Needs psycopg2 (Debian: python3-psycopg2, which patroni depends on)."""
import json, os, signal, sys, time, urllib.request
import psycopg2
d = sys.argv[1]
st = json.load(open(f"{d}/cluster.json"))
cl = json.load(urllib.request.urlopen(f"http://127.0.0.1:{st['patroni_ports'][0]}/cluster"))
leader = [m for m in cl["members"] if m["role"] == "leader"][0]
p = st["pg_ports"].index(leader["port"])
print("primary pg%d" % (p + 1), [(m["name"], m["role"], m["state"]) for m in cl["members"]])
conns = {}
for i in range(3):
    if i == p: continue
    c = psycopg2.connect(host="127.0.0.1", port=st["pg_inner_ports"][i], user="postgres", dbname="postgres")
    c.autocommit = True
    conns[i] = c
pm = int(open(f"{d}/pg{p+1}/data/postmaster.pid").readline())
t_kill = time.time()
os.kill(st["pids"][f"patroni{p+1}"], signal.SIGKILL); os.kill(pm, signal.SIGKILL)
deadline = t_kill + 20
while time.time() < deadline:
    for i, c in conns.items():
        cur = c.cursor(); cur.execute("SELECT pg_is_in_recovery()")
        if not cur.fetchone()[0]:
            t0 = time.time()
            cur.execute("SHOW synchronous_standby_names"); ssn = cur.fetchone()[0]
            cur.execute("SELECT application_name, state, sync_state FROM pg_stat_replication"); before = cur.fetchall()
            t1 = time.time(); cur.execute("SELECT txid_current()"); t2 = time.time()
            cur.execute("SELECT application_name, state, sync_state FROM pg_stat_replication"); after = cur.fetchall()
            print(f"pg{i+1} out of recovery at +{t0-t_kill:.3f}s; synchronous_standby_names={ssn!r}; replication before commit: {before}")
            print(f"commit took {t2-t1:.3f}s (done +{t2-t_kill:.3f}); replication after: {after}")
            sys.exit(0)
    time.sleep(0.01)
print("no promotion seen")
