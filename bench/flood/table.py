#!/usr/bin/env python3
"""Prints the README results table from results/*/report.json."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = ["calm", "anonymous-flood", "token-flood", "login-flood", "signup-flood", "slowloris", "big-bodies", "mixed",
         "fake-tokens", "slow-bodies", "shared-address"]


def fmt(v, pattern="{:.1f}"):
    return "-" if v is None else pattern.format(v)


def main():
    results = os.path.join(HERE, "results")
    rows = []
    for name in sorted(os.listdir(results)) if os.path.isdir(results) else []:
        path = os.path.join(results, name, "report.json")
        if not os.path.exists(path):
            continue
        r = json.load(open(path))
        scenario, guard = name.rsplit("-guard-", 1)
        legit, att = r["totals"]["legit"], r["totals"]["attacker"]
        slow = r.get("slowloris") or {}
        rows.append((ORDER.index(scenario) if scenario in ORDER else 99, guard, [
            scenario, guard,
            fmt(legit["success_ratio"] and legit["success_ratio"] * 100, "{:.2f}%"),
            fmt(legit["p50_ms"]), fmt(legit["p99_ms"]), fmt(legit["p999_ms"]),
            f'{att["sent_per_s"]:.0f}', str(att["admitted"]),
            str(slow.get("held_to_end", "-")),
            fmt(r["server"]["rss_max_mib"], "{:.0f}"),
            "yes" if r["server"]["died_during_run"] else "no",
        ]))
    rows.sort(key=lambda x: (x[0], x[1]))
    head = ["scenario", "guard", "legit ok", "p50 ms", "p99 ms", "p99.9 ms", "attack sent/s",
            "attack admitted", "slowloris held", "RSS max MiB", "crash"]
    out = sys.stdout
    out.write("| " + " | ".join(head) + " |\n")
    out.write("|" + "|".join("---" for _ in head) + "|\n")
    for _, _, cells in rows:
        out.write("| " + " | ".join(cells) + " |\n")


if __name__ == "__main__":
    main()
