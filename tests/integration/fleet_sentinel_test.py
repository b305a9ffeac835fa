"""A fleet behind Redis Sentinel (issue 14, items 1-3): a master, a replica
and three sentinels (redis-server --sentinel) on loopback; two
mxtls-policyd instances find the master through the sentinels. The master
is failed over (SENTINEL FAILOVER): the instances follow the new master
without a restart; the verdicts written before and during the failover
(while the old master still took writes: WAIT makes a write count only once
a replica has it) are on the new master; destinations asked afterwards are
again probed once across the two. Runs inside tests/lab/netns-run.

usage: fleet_sentinel_test.py BUILD_DIR"""

import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, wait_for, wait_port  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
MASTER, REPLICA, SENTINELS = 6380, 6381, (26380, 26381, 26382)
BEFORE = [f"b{i}.bench.test" for i in range(20)]   # asked before the failover
DURING = [f"b{i}.bench.test" for i in range(20, 30)]  # while the old master still takes writes
AFTER = [f"b{i}.bench.test" for i in range(30, 40)]   # once the failover is done
lab = None
instances = []


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10).stdout.strip()


def master_port():
    out = cli(SENTINELS[0], "SENTINEL", "get-master-addr-by-name", "mymaster").split()
    return int(out[1]) if len(out) == 2 else None


def start_redis():
    # A replica saves what it syncs (dump.rdb) even with --save "": a lab dir
    # kept from an earlier run must not start with its verdicts.
    for rdb in lab.dir.glob("*.rdb"):
        rdb.unlink()
    for port, extra in ((MASTER, []), (REPLICA, ["--replicaof", "127.0.0.1", str(MASTER)])):
        lab.spawn(f"redis{port}", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(lab.dir)] + extra)
        wait_port("127.0.0.1", port)
    wait_for(lambda: "master_link_status:up" in cli(REPLICA, "INFO", "replication"), what="the replica in sync")
    for port in SENTINELS:
        conf = lab.dir / f"sentinel{port}.conf"
        conf.write_text(f"""port {port}
bind 127.0.0.1
dir {lab.dir}
sentinel monitor mymaster 127.0.0.1 {MASTER} 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
""")
        lab.spawn(f"sentinel{port}", ["redis-server", str(conf), "--sentinel"])
        wait_port("127.0.0.1", port)
    wait_for(lambda: master_port() == MASTER, what="the sentinels to know the master")


class Instance:
    def __init__(self, n):
        self.port = 10071 + n
        self.log = lab.dir / f"policyd{n}.log"
        conf = lab.dir / f"policyd{n}.conf"
        conf.write_text(lab.conf.read_text().replace("[log]\ntarget = stderr\n", "") + f"""security_level = encrypt

[policy]
listen = inet:127.0.0.1:{self.port}
socketmap_listen =

[store]
backend = redis
redis_sentinels = {" ".join(f"127.0.0.1:{p}" for p in SENTINELS)}
redis_sentinel_master = mymaster
redis_timeout = 1s

[log]
target = file:{self.log}
""")
        with open(lab.dir / f"policyd{n}.err", "a") as err:
            self.proc = subprocess.Popen([str(lab.policyd), "--config", str(conf)], stdout=subprocess.DEVNULL, stderr=err)
        wait_port("127.0.0.1", self.port)

    def text(self):
        return self.log.read_text() if self.log.exists() else ""

    def knows(self, d):
        t = self.text()
        return f"probe: domain={d}," in t or f"fleet: domain={d}," in t


def ask(inst, domains):
    def client(i):
        with socket.create_connection(("127.0.0.1", i.port), timeout=10) as s:
            for d in domains:
                assert policy_exchange(s, f"user@{d}").startswith(b"action=")
    threads = [threading.Thread(target=client, args=(i,)) for i in inst]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def setUpModule():
    global lab, instances
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-sentinel", BUILD, bench=len(BEFORE) + len(DURING) + len(AFTER),
              bench_cases=["healthy12"])
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    start_redis()
    instances = [Instance(n) for n in range(2)]
    for i in instances:
        unittest.addModuleCleanup(lambda p=i.proc: (p.terminate(), p.wait(timeout=30)))


class Failover(unittest.TestCase):
    def test_instances_follow_a_failover(self):
        pids = [i.proc.pid for i in instances]
        ask(instances, BEFORE)
        wait_for(lambda: all(i.knows(d) for i in instances for d in BEFORE), timeout=60, what="the first destinations known")
        wait_for(lambda: all(cli(MASTER, "EXISTS", f"mxtls:verdict:{d}") == "1" for d in BEFORE), timeout=30,
                 what="their verdicts on the master")
        self.assertEqual(sum(i.text().count("probe: domain=") for i in instances), len(BEFORE))

        self.assertEqual(cli(SENTINELS[0], "SENTINEL", "failover", "mymaster"), "OK")
        wait_for(lambda: master_port() == REPLICA, timeout=30, what="the sentinels to name the new master")
        wait_for(lambda: "role:master" in cli(REPLICA, "INFO", "replication"), timeout=30, what="the replica promoted")

        ask(instances, DURING)
        wait_for(lambda: all(i.knows(d) for i in instances for d in DURING), timeout=60, what="DURING known")
        # The old master rejoins as a replica; the instances reconnect.
        wait_for(lambda: "role:slave" in cli(MASTER, "INFO", "replication"), timeout=30, what="the old master demoted")
        for i in instances:
            wait_for(lambda: "fleet: reachable again" in i.text(), timeout=30, what="the fleet back on the new master")

        ask(instances, AFTER)
        wait_for(lambda: all(i.knows(d) for i in instances for d in AFTER), timeout=60, what="the later destinations known")
        # Nothing acknowledged was lost: all on the new master.
        wait_for(lambda: all(cli(REPLICA, "EXISTS", f"mxtls:verdict:{d}") == "1" for d in BEFORE + DURING + AFTER),
                 timeout=40, what="every verdict on the new master")
        probes_after = {d: sum(i.text().count(f"probe: domain={d},") for i in instances) for d in AFTER}
        self.assertEqual({d: n for d, n in probes_after.items() if n != 1}, {})
        self.assertEqual([i.proc.pid for i in instances], pids)
        self.assertEqual([i.proc.poll() for i in instances], [None, None])


if __name__ == "__main__":
    unittest.main(verbosity=2)
