"""Body of tests/bench/answer_latency_bench: see there."""

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab  # noqa: E402
from daemon_run import Daemon, bench_certificate, daemon_conf, load, load_in_background, cpu_count_note  # noqa: E402

KNOWN = 1000        # cached destinations the answers are about
ANSWER_RATE = 2000  # policy requests/s about them
ANSWER_CONNS = 20
PROBE_RATE = 300    # new destinations/s asked about meanwhile (each starts a probe)
SECONDS = 10
ROUNDS = 2
HOSTS = 1500        # healthy fake MX addresses the new destinations point at


def fill_store(db, domains):
    now = int(time.time())
    with sqlite3.connect(db) as c:
        for d in domains:
            c.execute("INSERT OR REPLACE INTO verdicts (domain, reason, severity, outcome, level, mx, tls, detail,"
                      " probed_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (d, "ok", "ok", "tls", "may", f"mx.{d}[192.0.2.1]:25", "TLSv1.3", "", now, now + 86400))


def us(m):
    return float(m["p99"].rstrip("us"))


def measure(lab, build, label, binary, known, new_domains):
    """Rounds of: answers alone, then answers while new destinations are
    asked about at PROBE_RATE; the p99 of each."""
    conf, sock, log = daemon_conf(lab, f"latency-{label.replace(' ', '-')}", store="sqlite")
    db = lab.dir / f"latency-{label.replace(' ', '-')}.db"
    Daemon(binary, conf, sock, log).stop()  # makes the store
    fill_store(db, known)
    d = Daemon(binary, conf, sock, log)
    target = f"unix:{sock}"
    quiet, busy, probed = [], [], []
    per_round = PROBE_RATE * SECONDS
    for rnd in range(ROUNDS):
        quiet.append(load(build, target, known, ANSWER_CONNS, ANSWER_RATE * SECONDS, ANSWER_RATE))
        before = d.probe_lines()
        chunk = new_domains[rnd * per_round:(rnd + 1) * per_round]
        t, asked = load_in_background(build, target, chunk, 2, per_round, PROBE_RATE)
        busy.append(load(build, target, known, ANSWER_CONNS, ANSWER_RATE * SECONDS, ANSWER_RATE))
        t.join()
        probed.append(d.probe_lines() - before)
        if not asked[0]:
            busy[-1] = None
        d.wait_probed(before + per_round, timeout=120)  # the next round starts quiet
    rc = d.stop()
    print(f"  {label}:")
    for rnd in range(ROUNDS):
        q, b = quiet[rnd], busy[rnd]
        if q and b:
            took = float(b["elapsed"].rstrip("s"))
            print(f"    round {rnd + 1}: p99 {q['p99']:>8} without probing, {b['p99']:>8} while probing "
                  f"({probed[rnd]} destinations probed in its {took:.1f} s, {probed[rnd] / took:.0f}/s; "
                  f"p50 {q['p50']} / {b['p50']}; generator CPU {q['generator_cpu']} / {b['generator_cpu']})")
        else:
            print(f"    round {rnd + 1}: FAILED")
    if rc != 0 or not all(quiet) or not all(busy):
        print(f"  {label}: NO RATIO (a run failed, or mxtls-policyd exited {rc})")
        return None
    ratio = sum(us(b) for b in busy) / sum(us(q) for q in quiet)
    print(f"  {label}: p99 while probing / p99 without = {ratio:.2f}x (mean over {ROUNDS} rounds)")
    return ratio


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--baseline", help="build directory of another tree (e.g. main's), measured first")
    a = p.parse_args()
    build = Path(a.build).resolve()
    builds = [("this build", build / "policy" / "mxtls-policyd")]
    if a.baseline:
        builds.insert(0, ("baseline", Path(a.baseline).resolve() / "policy" / "mxtls-policyd"))
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-latency-bench", build, bench=HOSTS, bench_cases=["healthy13"])
    lab.case_options = {"healthy13": {"cert": bench_certificate(lab)}}
    per_build = PROBE_RATE * SECONDS * ROUNDS
    new = [f"n{i}.probing.test" for i in range(per_build * len(builds))]
    lab.records = [f"{d}. MX 10 mx{i % HOSTS}.bench.test." for i, d in enumerate(new)]
    known = [f"known{i}.bench.test" for i in range(KNOWN)]
    with lab:
        # The fake servers stand in for remote hosts: at nice 10 they do not
        # take the answering thread's core, as a server elsewhere would not.
        os.setpriority(os.PRIO_PROCESS, lab.spawned("fakedest").pid, 10)
        print(f"policy answers about {KNOWN} cached destinations, paced at {ANSWER_RATE}/s over {ANSWER_CONNS} "
              f"connections for {SECONDS} s (latency from when each request was due), alone and while "
              f"{PROBE_RATE} new healthy destinations/s are asked about (each a probe); {cpu_count_note()}")
        results = {}
        for i, (label, binary) in enumerate(builds):
            results[label] = measure(lab, build, label, binary, known, new[i * per_build:(i + 1) * per_build])
    ours = results.get("this build")
    if ours is None:
        return 1
    print(f"answer p99 ratio (probing / not), this build = {ours:.2f}x (target <= 1.20x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
