"""Body of tests/bench/answer_latency_bench: see there."""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, unix_socket_accepts, wait_for  # noqa: E402
from daemon_run import Daemon, bench_certificate, daemon_conf, load, load_in_background, cpu_count_note  # noqa: E402

KNOWN = 1000        # cached destinations the answers are about
ANSWER_RATE = 2000  # policy requests/s about them
ANSWER_CONNS = 20
PROBE_RATE = 300    # new destinations/s asked about meanwhile (each starts a probe)
SECONDS = 5
ROUNDS = 6          # windows alone and probing take turns: the machine's drift hits both alike
HOSTS = 1500        # fake MX addresses the new destinations point at
REMOTE_GROUP = Path("/sys/fs/cgroup/cpu/mxtls-bench-remote")  # cgroup v1's cpu controller: see as_remote()
REMOTE_SHARES = 256
PROBE_GROUP = Path("/sys/fs/cgroup/cpu/mxtls-bench-probe")  # --probe-group
AWAKE_GROUP = Path("/sys/fs/cgroup/cpu/mxtls-bench-awake")  # see keep_cores_awake()
SERVICE_GROUP = Path("/sys/fs/cgroup/cpu/mxtls-bench-service")  # see as_service()


def fill_store(db, domains):
    now = int(time.time())
    with sqlite3.connect(db) as c:
        for d in domains:
            c.execute("INSERT OR REPLACE INTO verdicts (domain, reason, severity, outcome, level, mx, tls, detail,"
                      " probed_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (d, "ok", "ok", "tls", "may", f"mx.{d}[192.0.2.1]:25", "TLSv1.3", "", now, now + 86400))


def us(m):
    return float(m["p99"].rstrip("us"))


def thread_times(pid):
    """Per thread name of process `pid`: [CPU s, s waited runnable for a core, runs] (/proc/PID/task/*/schedstat).
    The first thread (mxtls-policyd's answering thread) is "answering"; threads of one name are summed."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "answering" if task.name == str(pid) else (task / "comm").read_text().strip()
            cpu, wait, runs = (int(x) for x in (task / "schedstat").read_text().split())
        except (OSError, ValueError):
            continue
        t = out.setdefault(name, [0.0, 0.0, 0])
        t[0] += cpu / 1e9
        t[1] += wait / 1e9
        t[2] += runs
    return out


def lab_cpu():
    """CPU seconds per command of every process in this network namespace but this one."""
    ns, hz, out = os.readlink("/proc/self/ns/net"), os.sysconf("SC_CLK_TCK"), {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            if os.readlink(p / "ns" / "net") != ns:
                continue
            comm, rest = (p / "stat").read_text().rsplit(")", 1)
            fields = rest.split()
        except OSError:
            continue
        name = comm.split("(", 1)[1]
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / hz
    return out


def machine_busy():
    """(busy, total) jiffies of all cores (/proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(f) - f[3] - f[4], sum(f)


class Profile:
    """Where one phase's time went: the daemon's threads (CPU, and how long
    each waited runnable for a core per run: the answering thread's wait is
    the tail that probing adds when cores are short), the lab's processes'
    CPU and the whole machine's (other work on it included)."""

    def __init__(self, pid):
        self.pid = pid
        self.threads, self.lab, self.machine, self.t = thread_times(pid), lab_cpu(), machine_busy(), time.monotonic()

    def summary(self):
        took = time.monotonic() - self.t
        threads, lab, (busy, total) = thread_times(self.pid), lab_cpu(), machine_busy()
        parts = []
        for name, (cpu, wait, runs) in sorted(threads.items()):
            c0, w0, r0 = self.threads.get(name, [0, 0, 0])
            if runs - r0:
                parts.append(f"{name} {100 * (cpu - c0) / took:.0f}% CPU, waited {1e6 * (wait - w0) / (runs - r0):.0f}us/run")
        spent = sorted(((t - self.lab.get(n, 0), n) for n, t in lab.items()), reverse=True)
        parts.append("lab CPU: " + ", ".join(f"{n} {100 * t / took:.0f}%" for t, n in spent[:5] if t > 0))
        parts.append(f"machine {200 * (busy - self.machine[0]) / max(1, total - self.machine[1]):.0f}% of 200%")
        return "; ".join(parts)


def start_trivial_server(build, sock):
    """The minimal responder (one Asio thread answering "action=DUNNO") on a
    unix socket (it replaces a stale one), in a session of its own as the
    daemon is."""
    proc = subprocess.Popen([str(build / "tests" / "mxtls-bench-minimal-responder"), f"unix:{sock}"],
                            start_new_session=True)
    wait_for(lambda: unix_socket_accepts(sock) or proc.poll() is not None, timeout=30, what=str(sock))
    if proc.poll() is not None:
        raise RuntimeError("mxtls-bench-minimal-responder exited")
    return proc


def as_service(pid):
    """Process `pid` (all its threads) into one cpu cgroup standing for the
    daemon's systemd service (a cgroup of its own at the usual weight, as an
    autogroup gives a session). The trivial server joins it in its run: it
    then meets the probing load where our answering thread does, beside the
    nice-10 probe thread in one group, not as a group of its own behind the
    daemon's. Without cgroup v1's cpu controller, the daemon's session
    (its autogroup) is its group, and the trivial server's is its own."""
    if not SERVICE_GROUP.parent.is_dir():
        return
    SERVICE_GROUP.mkdir(exist_ok=True)
    (SERVICE_GROUP / "cgroup.procs").write_text(str(pid))


def rounds(build, d, target, answering, answered, known, new_domains):
    """ROUNDS pairs of windows: answers from `answered` alone, then while
    daemon `d` is asked about new destinations (over `target`) at PROBE_RATE."""
    quiet, busy, probed, profiles = [], [], [], []
    per_round = PROBE_RATE * SECONDS
    for rnd in range(ROUNDS):
        prof = Profile(answering.pid)
        quiet.append(load(build, answered, known, ANSWER_CONNS, ANSWER_RATE * SECONDS, ANSWER_RATE, instrument=True))
        profiles.append(prof.summary())
        before = d.probe_lines()
        chunk = new_domains[rnd * per_round:(rnd + 1) * per_round]
        prof = Profile(answering.pid)
        t, asked = load_in_background(build, target, chunk, 2, per_round, PROBE_RATE)
        busy.append(load(build, answered, known, ANSWER_CONNS, ANSWER_RATE * SECONDS, ANSWER_RATE, instrument=True))
        profiles.append(prof.summary())
        t.join()
        probed.append(d.probe_lines() - before)
        if not asked[0]:
            busy[-1] = None
        d.wait_probed(before + per_round, timeout=120)  # the next round starts quiet
    return quiet, busy, probed, profiles


def measure(lab, build, label, binary, known, new_domains, show_profile, trivial=False):
    """Rounds of: answers alone, then answers while new destinations are
    asked about at PROBE_RATE; the p99 of each. With `trivial`, the answers
    measured are the minimal responder's, while the daemon beside it gets
    the same probing load: what that load does to a server doing nothing."""
    name = "latency-" + label.split(" (")[0].replace(" ", "-")  # short: a unix socket path has 108 bytes
    conf, sock, log = daemon_conf(lab, name, store="sqlite")
    db = lab.dir / f"{name}.db"
    Daemon(binary, conf, sock, log).stop()  # makes the store
    fill_store(db, known)
    d = Daemon(binary, conf, sock, log)
    as_service(d.proc.pid)
    if label.startswith("probe thread in"):
        probe_threads_apart(d.proc.pid)
    target = f"unix:{sock}"
    answering, answered = d.proc, target
    if trivial:
        answering = start_trivial_server(build, lab.dir / "trivial.sock")
        as_service(answering.pid)
        answered = f"unix:{lab.dir / 'trivial.sock'}"
    try:
        quiet, busy, probed, profiles = rounds(build, d, target, answering, answered, known, new_domains)
    finally:
        rc = d.stop()
        if trivial:
            answering.terminate()
            answering.wait()
    print(f"  {label}:")
    for rnd in range(ROUNDS):
        q, b = quiet[rnd], busy[rnd]
        if q and b:
            took = float(b["elapsed"].rstrip("s"))
            print(f"    round {rnd + 1}: p99 {q['p99']:>8} without probing, {b['p99']:>8} while probing "
                  f"({probed[rnd]} destinations probed in its {took:.1f} s, {probed[rnd] / took:.0f}/s; "
                  f"p50 {q['p50']} / {b['p50']}; generator CPU {q['generator_cpu']} / {b['generator_cpu']})")
            if show_profile:
                print(f"      without probing: {profiles[2 * rnd]}")
                print(f"      while probing:   {profiles[2 * rnd + 1]}")
        else:
            print(f"    round {rnd + 1}: FAILED")
    if rc != 0 or not all(quiet) or not all(busy):
        print(f"  {label}: NO RATIO (a run failed, or mxtls-policyd exited {rc})")
        return None
    # Each round's ratio compares two windows next to each other in time;
    # the median of them is what one noisy window (the machine's other work
    # comes and goes) cannot move.
    ratios = sorted(us(b) / us(q) for q, b in zip(quiet, busy))
    ratio = statistics.median(ratios)
    print(f"  {label}: p99 while probing / p99 without = {ratio:.2f}x (median of {ROUNDS} rounds' ratios; "
          f"they ranged {ratios[0]:.2f}x-{ratios[-1]:.2f}x)")
    return ratio


def as_remote(pid):
    """The fake servers stand in for hosts elsewhere, which take none of this
    machine's CPU: every thread of process `pid` into a cpu cgroup of its own
    with a quarter of a process's usual share (cpu.shares 256 of 1024), else
    at nice 10 (per thread: a process's nice value is its first thread's
    alone). Not idle-only (cpu.idle): on a machine busy with other work the
    servers would then stall, and with them the probes. Says which."""
    try:
        REMOTE_GROUP.mkdir(exist_ok=True)
        (REMOTE_GROUP / "cpu.shares").write_text(str(REMOTE_SHARES))
        (REMOTE_GROUP / "cgroup.procs").write_text(str(pid))
        return f"the fake servers in a cpu cgroup with cpu.shares {REMOTE_SHARES}"
    except OSError:
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.setpriority(os.PRIO_PROCESS, int(task.name), 10)
        return "the fake servers at nice 10 (no cgroup v1 cpu controller here)"


def probe_threads_apart(pid):
    """The experiment --probe-group: the daemon's probe thread (and libunbound's
    worker it started) moved into a cpu cgroup of their own with cpu.idle, so
    that probing no longer spends the answering thread's group's share (what a
    delegated cgroup, or a probing process of its own, would give the daemon).
    Needs cgroup v1's cpu controller (threads move one by one)."""
    PROBE_GROUP.mkdir(exist_ok=True)
    (PROBE_GROUP / "cpu.idle").write_text("1")
    wait_for(lambda: sum((t / "comm").read_text().strip() == "mxtls-probe" for t in Path(f"/proc/{pid}/task").iterdir()) >= 2,
             what="the probe thread")
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == "mxtls-probe":
            (PROBE_GROUP / "tasks").write_text(task.name)


def keep_cores_awake():
    """One busy loop per core, for the whole run, taking only time nobody
    else wants: any thread that wakes takes the core at once, but no core
    sits halted. On a virtual machine a halted vCPU takes the hypervisor
    milliseconds to wake, which inflated p99 without probing (cores idle)
    far more than while probing (cores busy): ratios under 1 that said
    nothing about probing. The loops run SCHED_IDLE in a cpu cgroup of
    their own with cpu.idle (a task's policy alone is not enough: its group,
    an autogroup or the bench's, would still compete at full weight).
    Returns the loops (kill them) and what to print; none without the cgroup."""
    try:
        AWAKE_GROUP.mkdir(exist_ok=True)
        (AWAKE_GROUP / "cpu.idle").write_text("1")
    except OSError:
        return [], "the cores may idle (no cgroup v1 cpu controller with cpu.idle here)"
    loops = [subprocess.Popen(["chrt", "--idle", "0", "sh", "-c", "while :; do :; done"]) for _ in range(os.cpu_count() or 1)]
    for loop in loops:
        (AWAKE_GROUP / "cgroup.procs").write_text(str(loop.pid))
    return loops, "the cores kept out of idle (a busy loop each in an idle cpu cgroup)"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build")
    p.add_argument("--baseline", help="build directory of another tree (e.g. main's), measured first")
    p.add_argument("--profile", action="store_true", help="where each phase's time went (threads, lab, machine)")
    p.add_argument("--probe-group", action="store_true",
                   help="experiment: this build's probe thread in a cpu cgroup of its own (cpu.idle), one more run")
    a = p.parse_args()
    build = Path(a.build).resolve()
    ours = build / "policy" / "mxtls-policyd"
    # Two controls. The trivial server: the minimal responder answers the
    # same paced requests while the daemon beside it probes as in "this
    # build": what the probing load does to the tail of a server that does
    # nothing (on 2 cores that load, both ends of each handshake, takes the
    # machine); this build's ratio over it is our share. And the same daemon
    # probing servers that offer no STARTTLS (no handshake on either side):
    # the tail that probing's bookkeeping alone adds.
    # (label, daemon, case offset: 0 healthy, 1 no STARTTLS, whose answers are measured)
    runs = [("this build", ours, 0, False), ("trivial server (machine control)", ours, 0, True),
            ("control (no TLS)", ours, 1, False)]
    if a.probe_group:
        runs.append(("probe thread in an idle cgroup", ours, 0, False))
    if a.baseline:
        runs.insert(0, ("baseline", Path(a.baseline).resolve() / "policy" / "mxtls-policyd", 0, False))
    # Bench hosts take turns at the cases: mx<even> healthy13, mx<odd> nostarttls.
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-latency-bench", build, bench=HOSTS,
              bench_cases=["healthy13", "nostarttls"])
    lab.case_options = {"healthy13": {"cert": bench_certificate(lab)}}
    per_run = PROBE_RATE * SECONDS * ROUNDS
    new = [f"n{i}.probing.test" for i in range(per_run * len(runs))]
    lab.records = [f"{d}. MX 10 mx{2 * (i % (HOSTS // 2)) + runs[i // per_run][2]}.bench.test." for i, d in enumerate(new)]
    known = [f"known{i}.bench.test" for i in range(KNOWN)]
    with lab:
        remote = as_remote(lab.spawned("fakedest").pid)
        loops, awake = keep_cores_awake()
        service = ("the daemon in a cpu cgroup of its own (as systemd runs a service)" if SERVICE_GROUP.parent.is_dir()
                   else "the daemon in a session of its own")
        print(f"policy answers about {KNOWN} cached destinations, paced at {ANSWER_RATE}/s over {ANSWER_CONNS} "
              f"connections for {SECONDS} s (latency from when each request was due), alone and while "
              f"{PROBE_RATE} new healthy destinations/s are asked about (each a probe); {service}; {remote}; {awake}; "
              f"{cpu_count_note()}")
        results = {}
        try:
            for i, (label, binary, _, trivial) in enumerate(runs):
                results[label] = measure(lab, build, label, binary, known, new[i * per_run:(i + 1) * per_run], a.profile,
                                         trivial)
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
    for group in (REMOTE_GROUP, PROBE_GROUP, AWAKE_GROUP, SERVICE_GROUP):
        if group.exists():
            group.rmdir()  # empty once the lab is down
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if results.get("this build") is None:
        return 1
    summary = ", ".join(f"{label} {r:.2f}x" for label, r in results.items() if r is not None)
    print(f"answer p99 ratio (probing / not): {summary}")
    trivial = results.get("trivial server (machine control)")
    if trivial:
        print(f"this build's share over the trivial server's: {results['this build'] / trivial:.2f}x "
              f"(1.00x: probing costs our answers no more than it costs a server doing nothing; target <= 1.20x)")
    else:
        print("this build's share over the trivial server's: NO RATIO (the trivial server's run failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
