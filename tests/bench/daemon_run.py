"""Shared by probe_bench and answer_latency_bench: one mxtls-policyd (of a
given build) started on a lab with a configuration of the bench's own,
driven with the load generator, watched through its log (probe lines) and
/proc (RSS)."""

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from lab import unix_socket_accepts, wait_for

STEP_TIMEOUT = 2


def bench_certificate(lab):
    """A certificate for *.bench.test (RSA-2048, under the lab's intermediate):
    a healthy destination's MX host mx<i>.bench.test is then named by its
    server's certificate, as a healthy server's is. Made before the lab starts."""
    lab.dir.mkdir(parents=True, exist_ok=True)
    lab.make_certs()
    c = lab.certs
    cert = c / "bench-wildcard.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-new", "-key", c / "leaf.key", "-subj", "/CN=*.bench.test/O=mxtls lab",
                        "-out", c / "bench-wildcard.csr"], check=True, capture_output=True)
        (c / "bench-wildcard.ext").write_text("subjectAltName=DNS:*.bench.test\n")
        subprocess.run(["openssl", "x509", "-req", "-in", c / "bench-wildcard.csr", "-CA", c / "intermediate.pem",
                        "-CAkey", c / "intermediate.key", "-CAcreateserial", "-days", "30",
                        "-extfile", c / "bench-wildcard.ext", "-out", cert], check=True, capture_output=True)
    return cert


def probe_sections(lab, concurrency):
    """The [probe], [dns] and [tls] settings every bench probes with: the
    lab's DNS and Postfix configuration, short step timeouts."""
    return f"""[probe]
allow_private_targets = yes
concurrency = {concurrency}
connect_timeout = {STEP_TIMEOUT}s
greeting_timeout = {STEP_TIMEOUT}s
command_timeout = {STEP_TIMEOUT}s
handshake_timeout = {STEP_TIMEOUT}s
destination_timeout = 4s
helo_name = mta.lab.test
[dns]
forwarder = 127.0.0.1@5353
transparent_zones = test.
[tls]
profile = postfix
postfix_config_dir = {lab.dir / "postfix"}
"""


def daemon_conf(lab, name, store="none", extra="", parallel=200, connections=None):
    """A policyd configuration: the lab's DNS and Postfix profile, a policy
    socket, no wait for unknown destinations (answers never wait on a
    probe), a queue that takes every new destination of a run; `parallel`
    destinations probed at once over at most `connections` (twice as many
    unless given: a survey's second connection)."""
    sock = lab.dir / f"{name}.sock"
    log = lab.dir / f"{name}.log"
    conf = lab.dir / f"{name}.conf"
    for stale in lab.dir.glob(f"{name}.db*"):  # a store of an earlier run would answer from its verdicts
        stale.unlink()
    conf.write_text(probe_sections(lab, connections or 2 * parallel) + f"""security_level = may
[policy]
listen = unix:{sock}
socketmap_listen =
socket_mode = 0666
unknown_wait = 0
max_connections = 2000
[cache]
max_queue = 50000
max_parallel = {parallel}
[store]
backend = {store}
path = {lab.dir / (name + ".db")}
[log]
target = file:{log}
{extra}""")
    return conf, sock, log


class Daemon:
    """mxtls-policyd from `binary` with `conf`; stopped with SIGTERM."""

    def __init__(self, binary, conf, sock, log):
        self.sock, self.log = sock, log
        self._offset, self._probed = 0, set()
        self.reasons = Counter()
        for stale in (sock, log):
            if Path(stale).exists():
                Path(stale).unlink()
        # A session of its own, as systemd starts a service: the scheduler
        # then shares the cores between it and the bench's other processes
        # (with autogroups, per session), not among all of them as one group.
        self.proc = subprocess.Popen([str(binary), "--config", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        wait_for(lambda: unix_socket_accepts(sock) or self.proc.poll() is not None, timeout=30, what=f"{sock}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"{binary} exited: {self.proc.stderr.read()}")

    def rss_mib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def probe_lines(self):
        """How many destinations were probed (their "probe:" log lines, read
        on from where the last call stopped); their reasons in self.reasons."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return 0
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            if "probe: domain=" in line:
                domain = line.split("probe: domain=", 1)[1].split(",", 1)[0]
                if domain not in self._probed:
                    self._probed.add(domain)
                    self.reasons[line.split(" reason=", 1)[-1].split(",", 1)[0]] += 1
        return len(self._probed)

    def wait_probed(self, n, timeout=300, samples=None, every=1.0):
        """Waits until `n` destinations were probed; returns when (monotonic)
        or None on timeout. With `samples`, appends (t, RSS MiB, probed)."""
        t0 = time.monotonic()
        last_sample = -every
        while time.monotonic() - t0 < timeout:
            now = time.monotonic()
            done = self.probe_lines()
            if samples is not None and now - last_sample >= every:
                samples.append((now - t0, self.rss_mib(), done))
                last_sample = now
            if done >= n:
                return time.monotonic()
            time.sleep(0.05)
        return None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


def as_instrument():
    """In the load generator's child: SCHED_FIFO where allowed, so that its
    latency figures are the daemon's, not the generator's own wait for a core."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except OSError:
        pass


def load(build, target, domains, conns, requests, rate=None, mode="policy", instrument=False):
    """One run of the load generator: its key=value summary, or None (and says why).
    `instrument`: the generator measures latency and runs first (as_instrument)."""
    cmd = [str(build / "tests" / "mxtls-bench-load"), mode, target, str(conns), str(requests)] + ([str(rate)] if rate else [])
    # A session of its own, as the MTA asking is not in the daemon's.
    r = subprocess.run(cmd, input="\n".join(domains), capture_output=True, text=True, timeout=900,
                       start_new_session=True, preexec_fn=as_instrument if instrument else None)
    m = dict(kv.split("=") for kv in r.stdout.split()) if r.stdout.strip() else {}
    if r.returncode != 0 or int(m.get("requests", 0)) != requests:
        print(f"  FAILED: {' '.join(cmd[1:])}: {r.stdout.strip()} {r.stderr.strip()}", flush=True)
        return None
    return m


def load_in_background(build, target, domains, conns, requests, rate=None):
    """load() on a thread: returns (thread, result list)."""
    out = []
    t = threading.Thread(target=lambda: out.append(load(build, target, domains, conns, requests, rate)))
    t.start()
    return t, out


def cpu_count_note():
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
