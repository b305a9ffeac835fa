"""A fleet (issue 14, items 2 and 3): three mxtls-policyd instances share
one real redis-server. Asked about the same 300 new destinations at once,
each destination is probed exactly once across the three (the fake
destinations count the connections) and all three answer the same
verdicts; a lease holder killed mid-probe lets another instance probe once
its lease ran out, not before; Redis killed mid-run: answers keep flowing,
each instance probes for itself, one line each way, and what was learnt
meanwhile reaches Redis once it is back, where probes are shared again.
Runs inside tests/lab/netns-run.

usage: fleet_test.py BUILD_DIR"""

import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, unix_socket_accepts, wait_for, wait_port  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
SHARED = 300          # b1..b300: asked of all three at once
OUTAGE = range(301, 311)   # probed while Redis is down
AFTER = range(311, 321)    # asked of all three once Redis is back
LEASE_S = 8
lab = None
instances = []


def domain(i):
    return f"b{i}.bench.test"


def address(i):
    return f"127.0.{2 + i // 250}.{1 + i % 250}"


class Instance:
    def __init__(self, n):
        self.n = n
        self.port = 10051 + n
        self.socketmap = lab.dir / f"socketmap{n}.sock"
        self.log = lab.dir / f"policyd{n}.log"
        self.conf = lab.dir / f"policyd{n}.conf"
        self.proc = None
        base = lab.conf.read_text().replace("[log]\ntarget = stderr\n", "").replace(
            "destination_timeout = 20s", "destination_timeout = 4s")
        self.conf.write_text(base + f"""security_level = encrypt

[policy]
listen = inet:127.0.0.1:{self.port}
socketmap_listen = unix:{self.socketmap}
socket_mode = 0666

[store]
backend = redis
redis = unix:{lab.dir}/redis.sock
redis_lease = {LEASE_S}s
redis_timeout = 1s

[log]
target = file:{self.log}
""")

    def start(self):
        with open(lab.dir / f"policyd{self.n}.err", "a") as err:
            self.proc = subprocess.Popen([str(lab.policyd), "--config", str(self.conf)],
                                         stdout=subprocess.DEVNULL, stderr=err)
        wait_port("127.0.0.1", self.port)

    def stop(self, sig=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def text(self):
        return self.log.read_text() if self.log.exists() else ""

    def probed(self, d):
        return self.text().count(f"probe: domain={d},")

    def adopted(self, d):
        return self.text().count(f"fleet: domain={d}, source=fleet,")

    def verdict(self, d):
        """The engine's verdict for d (request=mxtls_verdict, as mxtls-milter asks)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(f"request=mxtls_verdict\nprotocol_state=RCPT\nrecipient=user@{d}\n\n".encode())
            data = b""
            while not data.endswith(b"\n\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        attrs = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
        return attrs.get("mxtls_verdict"), attrs.get("mxtls_reason")


def start_redis():
    sock = lab.dir / "redis.sock"
    lab.spawn("redis", ["redis-server", "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
                        "--save", "", "--appendonly", "no", "--dir", str(lab.dir)])
    wait_for(lambda: unix_socket_accepts(sock), timeout=10, what="redis-server")


def redis(*args):
    return subprocess.run(["redis-cli", "-s", str(lab.dir / "redis.sock"), *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def connections(addr, case):
    log = lab.spool / f"{case}.connections"
    return log.read_text().split().count(f"{addr}:25") if log.exists() else 0


def ask_all(domains, inst):
    """One long-lived client per instance, as Postfix's smtpd is, asking
    about every domain; all instances at once. Returns the slowest answer."""
    slowest = [0.0]

    def client(i):
        with socket.create_connection(("127.0.0.1", i.port), timeout=10) as s:
            for d in domains:
                start = time.time()
                reply = policy_exchange(s, f"user@{d}")
                slowest[0] = max(slowest[0], time.time() - start)
                assert reply.startswith(b"action="), reply
    threads = [threading.Thread(target=client, args=(i,)) for i in inst]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return slowest[0]


def setUpModule():
    global lab, instances
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-fleet", BUILD, bench=max(AFTER) + 1,
              bench_cases=["healthy12"],
              case_options={"healthy12": {"log_connections": "yes"}, "tarpit": {"log_connections": "yes"}})
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    start_redis()
    instances = [Instance(n) for n in range(3)]
    for i in instances:
        unittest.addModuleCleanup(i.stop)
        i.start()


class Fleet(unittest.TestCase):
    def test_1_each_destination_probed_once(self):
        # One probe of a healthy destination, alone: its connections.
        ask_all([domain(0)], instances[:1])
        wait_for(lambda: instances[0].probed(domain(0)), what="the baseline probe")
        per_probe = connections(address(0), "healthy12")
        self.assertGreater(per_probe, 0)

        shared = [domain(i) for i in range(1, SHARED + 1)]
        slowest = ask_all(shared, instances)
        wait_for(lambda: all(i.probed(d) + i.adopted(d) for i in instances for d in shared), timeout=180,
                 what="every instance to know every destination")
        probes = {d: sum(i.probed(d) for i in instances) for d in shared}
        self.assertEqual({d: n for d, n in probes.items() if n != 1}, {})
        adopted = sum(i.adopted(d) for i in instances for d in shared)
        self.assertEqual(adopted, 2 * SHARED)
        counts = {address(n): connections(address(n), "healthy12") for n in range(1, SHARED + 1)}
        self.assertEqual({a: c for a, c in counts.items() if c != per_probe}, {})
        verdicts = [[i.verdict(d) for d in shared] for i in instances]
        self.assertEqual(verdicts[0], verdicts[1])
        self.assertEqual(verdicts[0], verdicts[2])
        self.assertEqual(set(verdicts[0]), {("ok", "ok")})
        print(f"{SHARED} destinations asked of 3 instances at once: {sum(probes.values())} probes, "
              f"{adopted} verdicts taken from the fleet, {per_probe} connections per destination, "
              f"slowest answer {slowest * 1000:.0f} ms", file=sys.stderr)

    def test_2_lease_of_a_killed_holder_expires(self):
        holder, other = instances[0], instances[1]
        before = connections("127.0.0.27", "tarpit")
        ask_all(["tarpit.test"], [holder])
        wait_for(lambda: redis("EXISTS", "mxtls:lease:tarpit.test") == "1", timeout=5, what="the lease")
        wait_for(lambda: connections("127.0.0.27", "tarpit") > before, timeout=5, what="the holder's probe")
        holder.stop(9)
        taken = time.time()
        held = connections("127.0.0.27", "tarpit")
        # While the dead holder's lease runs, the other instance waits.
        while time.time() - taken < LEASE_S - 2:
            ask_all(["tarpit.test"], [other])
            time.sleep(0.5)
        self.assertEqual(connections("127.0.0.27", "tarpit"), held)
        self.assertEqual(other.probed("tarpit.test"), 0)
        # Then it probes.
        wait_for(lambda: redis("EXISTS", "mxtls:lease:tarpit.test") == "0", timeout=LEASE_S, what="the lease to run out")
        ask_all(["tarpit.test"], [other])
        wait_for(lambda: connections("127.0.0.27", "tarpit") > held, timeout=5, what="the other instance's probe")
        holder.start()

    def test_3_redis_down_and_back(self):
        down, up = instances[1], instances[2]
        for i in instances:
            wait_for(lambda: "fleet: " in i.text(), what="the fleet started")
        lab.spawned("redis").kill()
        lab.spawned("redis").wait()
        outage = [domain(n) for n in OUTAGE]
        slowest = ask_all(outage, [down, up])
        # Within the deadline Postfix gives a policy server (the lab's 10 s):
        # answers never wait for Redis's connect timeouts.
        self.assertLess(slowest, 10.0)
        wait_for(lambda: all(i.probed(d) for i in (down, up) for d in outage), timeout=60,
                 what="each instance to probe for itself")
        for i in (down, up):
            self.assertEqual(len(re.findall(r"fleet: .*each instance probes for itself", i.text())), 1, i.text()[-2000:])
        start_redis()
        for i in (down, up):
            wait_for(lambda: "fleet: reachable again" in i.text(), timeout=30, what="the fleet back")
        # What they learnt while Redis was down reaches it.
        wait_for(lambda: all(redis("EXISTS", f"mxtls:verdict:{d}") == "1" for d in outage), timeout=30,
                 what="the outage's verdicts written to Redis")
        after = [domain(n) for n in AFTER]
        ask_all(after, instances)
        wait_for(lambda: all(i.probed(d) + i.adopted(d) for i in instances for d in after), timeout=60,
                 what="every instance to know the destinations asked after")
        self.assertEqual([sum(i.probed(d) for i in instances) for d in after], [1] * len(after))


if __name__ == "__main__":
    unittest.main(verbosity=2)
