"""Body of tests/bench/probe_bench: see there."""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, wait_port  # noqa: E402
from daemon_run import Daemon, bench_certificate, daemon_conf, load, cpu_count_note, probe_sections, STEP_TIMEOUT  # noqa: E402

HEALTHY = 2000   # healthy destinations per daemon round, each on an address of its own
PARALLEL = 50    # destinations probed at once: the daemon's ([cache] max_parallel's default) and the
                 # control's ([probe] concurrency); more in flight only lengthens each handshake
CEILING_PAIRS = 4  # openssl s_server + s_time pairs of the ceiling (2 already fill 2 cores)
CEILING_SECONDS = 5
MIXED = 10_000   # destinations of the mixed daemon run
MIXED_HOSTS = 500  # MX hosts (every lab server behaviour) the mixed destinations point at

# Both tools wait STEP_TIMEOUT (daemon_run) per step; slow cases (tarpit,
# stall, implicit TLS) cost at most that, and mxtls's destination deadline caps all.


def cli_bench(build, n):
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-bench", build, bench=n) as lab:
        conf = lab.dir / "bench.conf"
        conf.write_text(probe_sections(lab, 400) + "[log]\ntarget = none\n")
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


def lines_in(path):
    return len(path.read_text().splitlines()) if path.exists() else 0


def healthy_round(lab, build, binary, name, domains, conns_file):
    """One mxtls-policyd asked about every domain at once (policy requests,
    answered at once); the time until the last one is probed, and the
    connections the fake server saw."""
    conf, sock, log = daemon_conf(lab, name, parallel=PARALLEL)
    before = lines_in(conns_file)
    d = Daemon(binary, conf, sock, log)
    t0 = time.monotonic()
    asked = load(build, f"unix:{sock}", domains, 4, len(domains))
    t1 = d.wait_probed(len(domains), timeout=180)
    rss = d.rss_mib()
    rc = d.stop()
    if not asked or t1 is None or rc != 0:
        print(f"  {name}: FAILED (asked: {bool(asked)}, probed: {d.probe_lines()}/{len(domains)}, exit {rc})")
        return None
    if d.reasons["ok"] != len(domains):  # healthy servers judged otherwise: a failed round, not a rate
        print(f"  {name}: FAILED (verdicts {dict(d.reasons)})")
        return None
    connections = lines_in(conns_file) - before
    return {"rate": len(domains) / (t1 - t0), "conns": connections / len(domains), "rss": rss}


def control_round(lab, build, domains, conns_file):
    """The control: `mxtls probe --no-survey` (one connection and handshake
    per destination, no daemon) over the same destinations, as many at once
    as the daemon probes."""
    conf, _, _ = daemon_conf(lab, "control", connections=PARALLEL)
    before = lines_in(conns_file)
    t0 = time.monotonic()
    r = subprocess.run([str(build / "policy" / "mxtls"), "probe", "--config", str(conf), "--no-survey", "--json", *domains],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    try:
        results = [d["result"] for d in json.loads(r.stdout)]
    except ValueError:
        results = []
    reasons = Counter(d["reason"] for d in results)
    if reasons["ok"] != len(domains):
        example = next((d["detail"] for d in results if d["reason"] != "ok"), "")
        print(f"  control: FAILED (exit {r.returncode}, verdicts {dict(reasons)}, e.g. {example[:160]!r}: {r.stderr.strip()[:200]})")
        return None
    return {"rate": len(domains) / wall, "conns": (lines_in(conns_file) - before) / len(domains)}


def ceiling_round(lab, cert):
    """The machine's ceiling for these handshakes: OpenSSL alone at both
    ends (openssl s_server and s_time -new, CEILING_PAIRS pairs at once on
    loopback, the healthy servers' certificate, key and chain, TLSv1.3), no
    SMTP, DNS, verification or verdict. Handshakes per second, or None."""
    c = lab.certs
    ports = [24431 + i for i in range(CEILING_PAIRS)]
    servers = [subprocess.Popen(["openssl", "s_server", "-quiet", "-accept", f"127.0.0.1:{port}", "-cert", cert,
                                 "-key", c / "leaf.key", "-cert_chain", c / "intermediate.pem", "-naccept", "1000000"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True) for port in ports]
    try:
        for port in ports:
            wait_port("127.0.0.1", port)
        t0 = time.monotonic()
        clients = [subprocess.Popen(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
                                     "-time", str(CEILING_SECONDS)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True) for port in ports]
        outputs = [p.communicate()[0] for p in clients]
        wall = time.monotonic() - t0
    finally:
        for s in servers:
            s.kill()
            s.wait()
    counts = [re.search(r"^(\d+) connections in [\d.]+s", out, re.M) for out in outputs]
    if not all(counts) or any(p.returncode for p in clients):
        print(f"  OpenSSL alone: FAILED ({outputs[0].strip()[-200:]!r})")
        return None
    return sum(int(m.group(1)) for m in counts) / wall


def rsa_signs_per_second():
    """`openssl speed rsa2048`: RSA-2048 signatures per second on one core."""
    r = subprocess.run(["openssl", "speed", "-seconds", "1", "rsa2048"], capture_output=True, text=True)
    m = re.search(r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)", r.stdout, re.M)
    return float(m.group(1)) if m else None


def daemon_healthy_bench(build, baseline):
    """Healthy destinations through the daemon's path, this build against
    `baseline`'s (a build directory of another tree) and the control,
    alternating, two rounds each, best of each."""
    builds = [("this build", build / "policy" / "mxtls-policyd")]
    if baseline:
        builds.insert(0, ("baseline", baseline / "policy" / "mxtls-policyd"))
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-bench-daemon", build, bench=HEALTHY, bench_cases=["healthy13"])
    lab.case_options = {"healthy13": {"log_connections": "yes", "cert": bench_certificate(lab)}}
    with lab:
        domains = [d for d, _, _ in lab.bench_destinations()]
        conns_file = lab.spool / "healthy13.connections"
        print(f"\nmxtls-policyd, {HEALTHY} new healthy destinations (TLSv1.2-1.3, RSA-2048, a certificate naming the MX host, "
              f"each its own address) "
              f"asked at once; {cpu_count_note()}")
        runs = {label: [] for label, _ in builds + [("control", None)]}
        ceilings = []
        for rnd in range(2):
            for label, binary in builds:
                runs[label].append(healthy_round(lab, build, binary, f"healthy-{rnd}-{label.replace(' ', '-')}",
                                                 domains, conns_file))
            runs["control"].append(control_round(lab, build, domains, conns_file))
            ceilings.append(ceiling_round(lab, lab.case_options["healthy13"]["cert"]))
        best = {k: max((r for r in v if r), key=lambda r: r["rate"], default=None) for k, v in runs.items()}
        for label, b in best.items():
            if b:
                extra = f", RSS at the end {b['rss']:.1f} MiB" if "rss" in b else ""
                print(f"  {label:<12} {b['rate']:7.1f} healthy destinations/s, {b['conns']:.2f} connections per destination{extra}")
        ceiling = max((c for c in ceilings if c), default=None)
        signs = rsa_signs_per_second()
        if ceiling:
            print(f"  OpenSSL alone {ceiling:7.1f} handshakes/s ({CEILING_PAIRS} openssl s_server + s_time -new pairs, "
                  f"the same certificates; the machine's ceiling for these handshakes)")
        if signs:
            print(f"  openssl speed rsa2048: {signs:.0f} signatures/s on one core")
        control = best["control"]
        for label, _ in builds:
            if best[label] and control:
                print(f"  {label}: {best[label]['rate'] / control['rate']:.0%} of the control (mxtls probe --no-survey)")
            if best[label] and ceiling:
                print(f"  {label}: {best[label]['rate'] / ceiling:.0%} of OpenSSL alone")
        if baseline and best["baseline"] and best["this build"]:
            print(f"  ratio: this build / baseline = {best['this build']['rate'] / best['baseline']['rate']:.2f}x")


def daemon_mixed_bench(build):
    """MIXED destinations (every lab server behaviour, healthy and broken)
    through one daemon, RSS sampled each second."""
    bench = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-bench-mixed", build, bench=MIXED_HOSTS)
    hosts = [d for d, _, _ in bench.bench_destinations()]
    bench.records = [f"m{i}.mixed.test. MX 10 mx{i % len(hosts)}.bench.test." for i in range(MIXED)]
    with bench as lab:
        domains = [f"m{i}.mixed.test" for i in range(MIXED)]
        conf, sock, log = daemon_conf(lab, "mixed", store="sqlite")
        d = Daemon(build / "policy" / "mxtls-policyd", conf, sock, log)
        samples = []
        t0 = time.monotonic()
        asked = load(build, f"unix:{sock}", domains, 4, len(domains))
        t1 = d.wait_probed(len(domains), timeout=600, samples=samples)
        rc = d.stop()
        print(f"\nmxtls-policyd, {MIXED} new destinations over {len(hosts)} MX hosts of every lab behaviour "
              f"(sqlite store, probes logged)")
        if not asked or t1 is None or rc != 0:
            print(f"  FAILED (asked: {bool(asked)}, probed: {d.probe_lines()}/{MIXED}, exit {rc})")
            return
        print(f"  {MIXED / (t1 - t0):.1f} destinations/s ({t1 - t0:.1f} s)")
        print("  RSS over time (s, MiB, destinations probed): " +
              ", ".join(f"{t:.0f}s {rss:.1f} {n}" for t, rss, n in samples[::max(1, len(samples) // 12)]))
        quarter = [s for s in samples if s[2] >= MIXED // 4]
        if quarter:
            grew = samples[-1][1] - quarter[0][1]
            print(f"  RSS from a quarter probed to the end: {quarter[0][1]:.1f} -> {samples[-1][1]:.1f} MiB "
                  f"({grew * 1024 * 1024 / max(1, samples[-1][2] - quarter[0][2]):.0f} bytes per further destination,"
                  f" the verdict cache included)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("n", type=int)
    p.add_argument("--baseline", help="build directory of another tree (e.g. main's) for the daemon comparison")
    p.add_argument("--only", choices=["cli", "healthy", "mixed"], help="run only this part")
    a = p.parse_args()
    status = 0 if a.only not in (None, "cli") else cli_bench(a.build, a.n)
    build = Path(a.build).resolve()
    if a.only in (None, "healthy"):
        daemon_healthy_bench(build, Path(a.baseline).resolve() if a.baseline else None)
    if a.only in (None, "mixed"):
        daemon_mixed_bench(build)
    return status


if __name__ == "__main__":
    sys.exit(main())
