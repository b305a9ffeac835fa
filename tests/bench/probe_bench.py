"""Body of tests/bench/probe_bench: see there."""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab  # noqa: E402

# The same per-step timeouts for both tools; slow cases (tarpit, stall,
# implicit TLS) cost at most these, and mxtls's destination deadline caps all.
STEP_TIMEOUT = 2
BENCH_CONF = f"""
[probe]
allow_private_targets = yes
concurrency = 400
connect_timeout = {STEP_TIMEOUT}s
greeting_timeout = {STEP_TIMEOUT}s
command_timeout = {STEP_TIMEOUT}s
handshake_timeout = {STEP_TIMEOUT}s
destination_timeout = 4s
helo_name = mta.lab.test
[dns]
forwarder = 127.0.0.1@5353
transparent_zones = test.
[log]
target = none
[tls]
profile = postfix
postfix_config_dir = {{postfix}}
"""


def main():
    build, n = sys.argv[1], int(sys.argv[2])
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-bench", build, bench=n) as lab:
        conf = lab.dir / "bench.conf"
        conf.write_text(BENCH_CONF.replace("{postfix}", str(lab.dir / "postfix")))
        domains = [d for d, _, _ in lab.bench_destinations()]
        cases = Counter(c.name for _, _, c in lab.bench_destinations())

        def run_mxtls():
            t0 = time.monotonic()
            r = subprocess.run([str(lab.mxtls), "probe", "--config", str(conf), "--json", *domains],
                               capture_output=True, text=True)
            return r, time.monotonic() - t0

        # The first run pays the lab's own start-up (the fake servers' first
        # accepts, page faults); the second is the steady state. Both are shown.
        _, cold_wall = run_mxtls()
        r, mxtls_wall = run_mxtls()
        mxtls_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        results = json.loads(r.stdout)
        reasons = Counter(d["result"]["reason"] for d in results)
        slowest = max(d["elapsed_s"] for d in results)

        # posttls-finger reads a Postfix configuration (a fresh machine has
        # none: every run would end at once with a fatal error): the lab's own.
        finger_env = dict(os.environ, MAIL_CONFIG=str(lab.dir / "postfix"))
        t0 = time.monotonic()
        finger_ok, finger_fatal = 0, []
        for d in domains:
            p = subprocess.run(["posttls-finger", "-c", "-l", "may", "-t", str(STEP_TIMEOUT), "-T", str(STEP_TIMEOUT), d],
                               capture_output=True, text=True, env=finger_env)
            out = p.stdout + p.stderr
            finger_ok += "TLS connection established" in out
            if "fatal:" in out:
                finger_fatal.append(next(line for line in out.splitlines() if "fatal:" in line))
        finger_wall = time.monotonic() - t0

        print(f"destinations: {n} ({len(cases)} server behaviours, e.g. {dict(list(cases.items())[:4])} ...)")
        print(f"mxtls probe (first run): {cold_wall:.2f} s wall")
        print(f"mxtls probe:    {mxtls_wall:7.2f} s wall, {n / mxtls_wall:7.1f} destinations/s, "
              f"peak RSS {mxtls_rss_kib / 1024:.1f} MiB, slowest destination {slowest:.2f} s, exit {r.returncode}")
        print(f"  verdicts: {dict(reasons)}")
        print(f"posttls-finger: {finger_wall:7.2f} s wall, {n / finger_wall:7.1f} destinations/s "
              f"(one after another; TLS established on {finger_ok})")
        if finger_fatal or finger_ok == 0 or r.returncode not in (0, 1, 2, 3):
            print(f"NO RATIO: a baseline or our run failed (posttls-finger fatal on {len(finger_fatal)}: "
                  f"{finger_fatal[:1]}; TLS established on {finger_ok}; mxtls exit {r.returncode})")
            return 1
        print(f"ratio: mxtls is {finger_wall / mxtls_wall:.1f}x faster than the posttls-finger loop")
        return 0


if __name__ == "__main__":
    sys.exit(main())
