"""Body of tests/bench/policy_bench: see there."""

import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, wait_port  # noqa: E402

DOMAINS = 1000
CONNS = 50
REQUESTS = 200_000
PAIRS = 8
PAIR_REQUESTS = 100_000
PACED_RATE = 5000


def fill_store(db, domains):
    now = int(time.time())
    with sqlite3.connect(db) as c:
        for i, d in enumerate(domains):
            reason, severity, outcome = (("protocol_version", "incompatible", "deferred") if i % 5 == 0
                                         else ("ok", "ok", "tls"))
            c.execute("INSERT OR REPLACE INTO verdicts (domain, reason, severity, outcome, level, mx, tls, detail, probed_at,"
                      " expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (d, reason, severity, outcome, "encrypt", f"mx.{d}[192.0.2.1]:25", "TLSv1.3", "", now, now + 86400))


def fill_mta_sts_cache(db, domains):
    now = int(time.time())
    with sqlite3.connect(db) as c:
        c.execute("create table if not exists sts_policy_cache (domain text, ts integer, pol_id text, pol_body text)")
        c.execute("create unique index if not exists sts_policy_domain on sts_policy_cache (domain)")
        c.execute("create table if not exists proactive_fetch_ts (id integer primary key, last_fetch_ts integer)")
        for d in domains:
            body = {"version": "STSv1", "mode": "enforce", "max_age": 86400, "mx": [f"mx.{d}"]}
            c.execute("insert or replace into sts_policy_cache values (?,?,?,?)", (d, now, "id1", json.dumps(body)))


def cpu_seconds(pid):
    """User + system CPU of process `pid` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(build, mode, target, domains, conns, requests, rate=None, server=None):
    """One run of the load generator; None (and says why) when it failed.
    With `server` (a pid), also the server's CPU per request (cpu_us)."""
    cmd = [str(build / "tests" / "mxtls-bench-load"), mode, target, str(conns), str(requests)] + ([str(rate)] if rate else [])
    before = cpu_seconds(server) if server else 0
    r = subprocess.run(cmd, input="\n".join(domains), capture_output=True, text=True, timeout=600)
    m = dict(kv.split("=") for kv in r.stdout.split()) if r.stdout.strip() else {}
    if r.returncode != 0 or int(m.get("requests", 0)) != requests:
        print(f"  FAILED: {' '.join(cmd[1:])}: {r.stdout.strip()} {r.stderr.strip()}", flush=True)
        return None
    if server:
        m["cpu_us"] = (cpu_seconds(server) - before) * 1e6 / requests
    return m


def us(v):
    return float(v.rstrip("us"))


def show(label, m):
    if m:
        cpu = f"   server CPU {m['cpu_us']:.1f}us/request" if "cpu_us" in m else ""
        print(f"{label:<44} {float(m['rps']):>9.0f} req/s   p50 {m['p50']:>7}   p99 {m['p99']:>7}   p99.9 {m['p999']:>7}"
              f"   generator CPU {m['generator_cpu']}{cpu}", flush=True)


def place(pids, cpus):
    """Every thread of each process in `pids` on `cpus`."""
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except ProcessLookupError:
                pass


@contextlib.contextmanager
def server_and_generator_apart(server_pids):
    """Both servers on the first CPU, the generator (a child of this
    process) on the others, while the closed loop runs: the server being
    measured has a core of its own that the generator never takes, and
    both servers meet the same placement (left to the kernel, it changes
    from run to run)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        yield
        return
    place(server_pids, {cpus[0]})
    os.sched_setaffinity(0, set(cpus[1:]))
    try:
        yield
    finally:
        place(server_pids, set(cpus))
        os.sched_setaffinity(0, set(cpus))


def spread(values, fmt):
    """The median of `values` and their range, formatted."""
    return f"{fmt(statistics.median(values))} (median of {len(values)} pairs, range {fmt(min(values))}-{fmt(max(values))})"


def closed_loop(build, label, domains, policyd_pid, minimal_pid):
    """PAIRS rounds of mxtls-policyd and the minimal responder taking turns:
    each figure is the median of the pairs' ratios, since the machine's
    speed drifts between pairs and each pair's two runs are next to each
    other. Throughput, and CPU per request (which the generator's own
    limits do not move)."""
    ours_run = lambda: load(build, "policy", "inet:127.0.0.1:10040", domains, CONNS, PAIR_REQUESTS, server=policyd_pid)
    minimal_run = lambda: load(build, "policy", "inet:127.0.0.1:10041", domains, CONNS, PAIR_REQUESTS, server=minimal_pid)
    pairs = []
    with server_and_generator_apart([policyd_pid, minimal_pid]):
        for i in range(PAIRS):
            if i % 2 == 0:  # each server goes first in every other pair
                ours, minimal = ours_run(), minimal_run()
            else:
                minimal, ours = minimal_run(), ours_run()
            if ours and minimal:
                pairs.append((ours, minimal))
    if len(pairs) < PAIRS:
        print(f"  {label}: no ratio ({PAIRS - len(pairs)} of {PAIRS} pairs failed)")
        return
    median_run = lambda runs: sorted(runs, key=lambda r: float(r["rps"]))[len(runs) // 2]
    show(label + ", median", median_run([o for o, _ in pairs]))
    show("minimal responder (action=DUNNO), median", median_run([m for _, m in pairs]))
    print("  throughput, mxtls-policyd / minimal = " +
          spread([float(o["rps"]) / float(m["rps"]) for o, m in pairs], lambda v: f"{v:.0%}"))
    print("  CPU per request, mxtls-policyd / minimal = " +
          spread([o["cpu_us"] / m["cpu_us"] for o, m in pairs], lambda v: f"{v:.2f}x"))
    best_ours, best_minimal = best([o for o, _ in pairs]), best([m for _, m in pairs])
    print(f"  throughput, best run of each (the figure before runs were paired) = "
          f"{float(best_ours['rps']) / float(best_minimal['rps']):.0%}")


def best(runs):
    runs = [r for r in runs if r]
    return max(runs, key=lambda r: float(r["rps"])) if runs else None


def ratio(label, ours, baseline, fmt):
    """Prints ours/baseline only when both runs worked."""
    if not ours or not baseline:
        print(f"  {label}: no ratio (a run above failed)")
        return
    print(f"  {label} = {fmt(ours, baseline)}")


def main():
    build = Path(sys.argv[1]).resolve()
    domains = [f"dest{i}.bench.test" for i in range(DOMAINS)]
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-policy-bench", build) as lab:
        lab.start_policyd()
        lab.stop_policyd()
        fill_store(lab.dir / "cache.db", domains)
        lab.start_policyd()
        lab.spawn("minimal", [str(build / "tests" / "mxtls-bench-minimal-responder"), "10041"])
        wait_port("127.0.0.1", 10041)

        sts_db = lab.dir / "sts.db"
        fill_mta_sts_cache(sts_db, domains)
        (lab.dir / "mta-sts.yml").write_text(f"""host: 127.0.0.1
port: 8461
cache_grace: 86400
cache:
  type: sqlite
  options:
    filename: {sts_db}
default_zone:
  strict_testing: false
  timeout: 4
""")
        lab.start_mta_sts_daemon(8461, config=lab.dir / "mta-sts.yml")

        print(f"policy requests, {CONNS} persistent connections, {DOMAINS} cached destinations; {PAIRS} pairs of runs"
              f" of {PAIR_REQUESTS} requests, the two servers taking turns, each on the first CPU, the generator on the others")
        minimal_pid = lab.spawned("minimal").pid
        closed_loop(build, "mxtls-policyd (cached decisions, logging)", domains, lab.policyd_proc.pid, minimal_pid)
        print(f"\npaced at {PACED_RATE} req/s for 10 s over {CONNS} connections (latency from when each request was due)")
        paced = load(build, "policy", "inet:127.0.0.1:10040", domains, CONNS, PACED_RATE * 10, rate=PACED_RATE)
        paced_minimal = load(build, "policy", "inet:127.0.0.1:10041", domains, CONNS, PACED_RATE * 10, rate=PACED_RATE)
        show("mxtls-policyd", paced)
        show("minimal responder", paced_minimal)
        ratio("p99, mxtls-policyd / minimal", paced, paced_minimal,
              lambda a, b: f"{us(a['p99']) / max(us(b['p99']), 1):.2f}x ({a['p99']} vs {b['p99']})")

        print(f"\nsocketmap lookups, {CONNS} connections")
        sm = load(build, "socketmap:tlspolicy", f"unix:{lab.socketmap_socket}", domains, CONNS, REQUESTS)
        show("mxtls-policyd socketmap (tlspolicy)", sm)
        sts = load(build, "socketmap:default", "inet:127.0.0.1:8461", domains, CONNS, 20_000)
        show("mta-sts-daemon (cached policies)", sts)
        ratio("mxtls / mta-sts-daemon", sm, sts, lambda a, b: f"{float(a['rps']) / float(b['rps']):.1f}x")

        # What the decision's log line costs: the same daemon logging nothing.
        print("\nthe same, mxtls-policyd with [log] target = none (what the log line per decision costs)")
        lab.stop_policyd()
        lab.start_policyd(log_target="none")
        closed_loop(build, "mxtls-policyd (cached decisions, no log)", domains, lab.policyd_proc.pid, minimal_pid)

    print("\nmemory per cached destination:")
    print(subprocess.run([str(build / "tests" / "mxtls-bench-cache-memory"), "1000000"],
                         capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
