"""Body of tests/bench/milter_bench: see there."""

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab  # noqa: E402


def queue_size():
    out = subprocess.run(["postqueue", "-j"], capture_output=True, text=True).stdout
    return sum(1 for _ in out.splitlines())


class LabCpu:
    """CPU time (user + system) of every process in this network namespace
    but this one: Postfix, the milter, mxtls-policyd, smtp-source and
    smtp-sink. Unlike wall time it does not count what other work on the
    machine takes: on saturated cores, throughput is its inverse. Sampled
    every 0.1 s; a process that exits loses at most its last 0.1 s."""

    def __init__(self):
        self.ns = os.readlink("/proc/self/ns/net")
        self.hz = os.sysconf("SC_CLK_TCK")
        self.seen = {}
        self.names = {}  # (pid, start time) -> program name

    def sample(self):
        for p in Path("/proc").iterdir():
            if not p.name.isdigit() or int(p.name) == os.getpid():
                continue
            try:
                if os.readlink(p / "ns" / "net") != self.ns:
                    continue
                name, rest = (p / "stat").read_text().split("(", 1)[1].rsplit(")", 1)
                fields = rest.split()
            except (OSError, ValueError):
                continue
            key = (p.name, fields[19])  # pid and start time: a reused pid is another process
            self.names[key] = name
            self.seen[key] = max(self.seen.get(key, 0), (int(fields[11]) + int(fields[12])) / self.hz)

    def measure(self, work):
        """Runs work(); returns its result and the lab's CPU seconds
        meanwhile, in total and per program name."""
        self.seen = {}
        self.sample()
        before = dict(self.seen)
        done = threading.Event()

        def sampler():
            while not done.wait(0.1):
                self.sample()
        thread = threading.Thread(target=sampler)
        thread.start()
        try:
            result = work()
        finally:
            done.set()
            thread.join()
        self.sample()
        per_program = {}
        for k, t in self.seen.items():
            per_program[self.names[k]] = per_program.get(self.names[k], 0) + t - before.get(k, 0)
        return result, sum(per_program.values()), per_program


def run_once(lab, messages, recipients, milter):
    extra = {"relayhost": f"[{lab.RELAY}]:25", "smtp_tls_security_level": "may",
             "smtpd_milters": f"unix:{lab.milter_socket}" if milter else "",
             "milter_default_action": "accept"}
    lab.postfix_reconfigure(extra)
    time.sleep(1)
    start = time.monotonic()
    subprocess.run(["smtp-source", "-s", "10", "-m", str(messages), "-r", str(recipients), "-l", "2000",
                    "-f", "sender@lab.test", "-t", "user@healthy12.test", "127.0.0.1:25"], check=True)
    injected = time.monotonic() - start
    while queue_size() > 0 and time.monotonic() - start < 600:
        time.sleep(0.2)
    if queue_size() > 0:
        return injected, None  # not all delivered: this run measured nothing
    return injected, time.monotonic() - start


CONTROL = "control"  # a round plan marker: the null milter, not mxtls-milter
ROUNDS = 5


def start_control(lab, binary):
    proc = subprocess.Popen([str(binary), f"unix:{lab.milter_socket}"], stdout=subprocess.PIPE, text=True,
                            stderr=open(lab.dir / "null-milter.err", "a"))
    deadline = time.monotonic() + 10
    while not lab.milter_socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the null milter did not start: see " + str(lab.dir / "null-milter.err"))
        time.sleep(0.05)
    os.chmod(lab.milter_socket, 0o666)  # Postfix's smtpd and cleanup run as postfix
    return proc


def stop_control(lab, proc):
    """Stops the null milter; returns how many messages it saw end."""
    proc.terminate()
    out, _ = proc.communicate(timeout=30)
    lab.milter_socket.unlink(missing_ok=True)
    return int(out.split()[-1]) if out.startswith("messages ") else 0


def main():
    build, messages, recipients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    # Optional: another mxtls-milter (e.g. main's) measured in the same rounds.
    baseline = Path(sys.argv[4]).resolve() if len(sys.argv) > 4 else None
    with Lab(Path("/run/mxtls-lab-milter-bench"), build) as lab:
        ours = lab.milter
        lab.start_sink(keep_messages=False)
        lab.start_postfix({"relayhost": f"[{lab.RELAY}]:25"})
        lab.start_policyd()
        lab.learn("healthy12.test")
        # "idle": the milter is in the path but inspects nothing (its client
        # is not in `networks`): the cost of the milter protocol alone.
        inspecting, idle = "inspect = all", "inspect = networks\nnetworks = 192.0.2.0/24"
        # "annotating": inspecting every message with defer_recipients = no
        # (header, log lines, hold; no reply at RCPT, so Postfix does not
        # wait for the milter at each recipient).
        annotating = inspecting + "\ndefer_recipients = no"
        # "control": a milter that asks for the same steps as ours inspecting
        # and does nothing in them (tests/bench/null_milter.cpp): the
        # protocol's own cost, on both sides. Ours over it is our work.
        control = Path(build).resolve() / "tests" / "mxtls-bench-null-milter"
        round_plan = [("without", None, None), ("inspecting", inspecting, ours), ("idle", idle, ours),
                      ("control", CONTROL, control), ("annotating", annotating, ours)]
        if baseline:
            round_plan += [("inspecting (baseline)", inspecting, baseline), ("idle (baseline)", idle, baseline)]
        results = {label: [] for label, _, _ in round_plan}
        cpu_used = {label: [] for label, _, _ in round_plan}
        programs = {label: [] for label, _, _ in round_plan}  # per round: program -> CPU seconds
        cpu = LabCpu()
        # Five rounds of each: with three, one run's ratios moved by 15
        # points from the next (the machine's speed swings within minutes).
        for label, milter_conf, binary in round_plan * ROUNDS:
            control_proc = None
            if milter_conf:
                lab.stop_milter()
                if milter_conf == CONTROL:
                    control_proc = start_control(lab, binary)
                else:
                    lab.milter = binary
                    lab.start_milter(milter_conf)
            (injected, done), used, per_program = cpu.measure(lambda: run_once(lab, messages, recipients, milter_conf is not None))
            if done is None:
                print(f"{label:<22} FAILED: mail left in the queue after 600 s; no ratio can be given", flush=True)
                return 1
            if control_proc and (seen := stop_control(lab, control_proc)) != messages:
                print(f"{label:<22} FAILED: the null milter saw {seen} of {messages} messages; no ratio can be given")
                return 1
            results[label].append(done)
            cpu_used[label].append(used)
            programs[label].append(per_program)
            print(f"{label:<22} {messages} messages x {recipients} recipients: accepted in {injected:6.2f} s, "
                  f"delivered in {done:6.2f} s, {messages / done:7.1f} msg/s; lab CPU {1000 * used / messages:5.2f} ms/msg",
                  flush=True)
        lab.milter = ours
        # Each figure: the median over the rounds of one round's ratio (its
        # runs are minutes apart at most, the rounds further), with the range.
        def shares(per_round, plan):
            parts = []
            for which, of in plan:
                r = [o / w for w, o in zip(per_round[which], per_round[of])]
                parts.append(f"{which} = {statistics.median(r):.1%} of {of} ({min(r):.0%}-{max(r):.0%})")
            return "; ".join(parts)
        plan = [("inspecting", "idle"), ("idle", "without"), ("inspecting", "without"), ("control", "idle"),
                ("inspecting", "control"), ("annotating", "idle"), ("annotating", "without")]
        if baseline:
            plan += [("inspecting (baseline)", "idle (baseline)"), ("inspecting", "inspecting (baseline)")]
        print(f"throughput, median of {ROUNDS} rounds' ratios (range): " + shares(results, plan))
        # The lab's own CPU per message: what the milter costs when the
        # cores are saturated, whatever else ran.
        print(f"CPU-bound throughput (lab CPU per message), median of {ROUNDS} rounds' ratios (range): " +
              shares(cpu_used, plan))
        per = {k: statistics.median(v) / messages for k, v in cpu_used.items()}
        print(f"lab CPU per message (median): " + ", ".join(f"{k} {1000 * v:.2f} ms" for k, v in per.items()))
        best = {k: min(v) for k, v in results.items()}  # each kind's least disturbed round
        print(f"best round of each (the figure before rounds were paired): inspecting = "
              f"{best['idle'] / best['inspecting']:.1%} of idle; annotating = {best['idle'] / best['annotating']:.1%} of idle")
        # Where inspecting costs more than idle, and than the control (its
        # milter counted against ours), and annotating more than idle: per
        # program, median of the rounds.
        def program_ms(label, name):
            return 1000 * statistics.median(r.get(name, 0) for r in programs[label]) / messages
        for which, over in (("inspecting", "idle"), ("inspecting", "control"), ("annotating", "idle")):
            names = {n for r in programs[which] + programs[over] for n in r} - {"mxtls-bench-nul"}
            grew = sorted(((program_ms(which, n) - program_ms(over, n) -
                            (program_ms(over, "mxtls-bench-nul") if n == "mxtls-milter" else 0), n) for n in names),
                          reverse=True)
            print(f"{which} - {over}, CPU per message by program (median): " +
                  ", ".join(f"{n} {d:+.3f} ms" for d, n in grew if abs(d) >= 0.005))
        log = lab.milter_log_text()
        print(f"milter log lines: {log.count('to=<')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
