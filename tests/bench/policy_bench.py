"""Body of tests/bench/policy_bench: see there."""

import json
import sqlite3
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


def fill_store(db, domains):
    now = int(time.time())
    with sqlite3.connect(db) as c:
        for i, d in enumerate(domains):
            reason, severity, outcome = (("protocol_version", "incompatible", "deferred") if i % 5 == 0
                                         else ("ok", "ok", "tls"))
            c.execute("INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?)",
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


def load(build, mode, target, domains, conns, requests, rate=None):
    cmd = [str(build / "tests" / "mxtls-bench-load"), mode, target, str(conns), str(requests)] + ([str(rate)] if rate else [])
    r = subprocess.run(cmd, input="\n".join(domains), capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stdout} {r.stderr}")
    return dict(kv.split("=") for kv in r.stdout.split())


def show(label, m):
    print(f"{label:<44} {float(m['rps']):>9.0f} req/s   p50 {m['p50']:>6}   p99 {m['p99']:>6}   p99.9 {m['p999']:>6}", flush=True)


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
        lab.spawn("mta-sts-daemon", ["mta-sts-daemon", "-c", str(lab.dir / "mta-sts.yml"), "-v", "warn"])
        wait_port("127.0.0.1", 8461)

        print(f"policy requests, {CONNS} persistent connections, {REQUESTS} requests, {DOMAINS} cached destinations")
        mxtls = load(build, "policy", "inet:127.0.0.1:10040", domains, CONNS, REQUESTS)
        show("mxtls-policyd (cached decisions, logging)", mxtls)
        minimal = load(build, "policy", "inet:127.0.0.1:10041", domains, CONNS, REQUESTS)
        show("minimal responder (action=DUNNO)", minimal)
        print(f"  mxtls-policyd / minimal = {float(mxtls['rps']) / float(minimal['rps']):.0%}")
        paced = load(build, "policy", "inet:127.0.0.1:10040", domains, CONNS, 5000 * 10, rate=5000)
        show("mxtls-policyd paced at 5,000 req/s for 10 s", paced)

        print(f"\nsocketmap lookups, {CONNS} connections")
        sm = load(build, "socketmap:tlspolicy", f"unix:{lab.socketmap_socket}", domains, CONNS, REQUESTS)
        show("mxtls-policyd socketmap (tlspolicy)", sm)
        sts = load(build, "socketmap:default", "inet:127.0.0.1:8461", domains, CONNS, 20_000)
        show("mta-sts-daemon (cached policies)", sts)
        print(f"  mxtls / mta-sts-daemon = {float(sm['rps']) / float(sts['rps']):.1f}x")

    print("\nmemory per cached destination:")
    print(subprocess.run([str(build / "tests" / "mxtls-bench-cache-memory"), "1000000"],
                         capture_output=True, text=True).stdout)


if __name__ == "__main__":
    main()
