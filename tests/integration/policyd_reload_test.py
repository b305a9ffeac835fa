"""SIGHUP under load (issue 14, item 6): while clients keep asking on
long-lived connections, as Postfix does, mxtls-policyd reloads its
configuration again and again; not one request fails, the new actions take
effect, the cache and the process stay, a configuration that does not load
keeps the running one with one line saying why, and a setting that takes a
restart is named. Runs inside tests/lab/netns-run.

usage: policyd_reload_test.py BUILD_DIR"""

import re
import signal
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, wait_for  # noqa: E402
import socket  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
DOMAINS = ["nostarttls.test", "healthy12.test"]


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-reload", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd()
    for domain in DOMAINS:
        lab.learn(domain)


class Load:
    """Clients on long-lived connections asking in a loop; every request
    that gets no reply (closed, reset, timed out) is a failure."""

    def __init__(self, clients=4):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.failures = []
        self.last = {}  # domain -> last reply
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]

    def client(self, i):
        s = None
        while not self.stop.is_set():
            domain = DOMAINS[i % len(DOMAINS)]
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", lab.POLICY_PORT), timeout=5)
                reply = policy_exchange(s, f"user@{domain}")
            except OSError as e:
                reply, s = b"", None
                with self.lock:
                    self.failures.append(f"{domain}: {e}")
                continue
            with self.lock:
                self.requests += 1
                if not reply:
                    self.failures.append(f"{domain}: connection closed")
                    s = None
                else:
                    self.last[domain] = reply.decode().strip()
        if s:
            s.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def reply(self, domain):
        with self.lock:
            return self.last.get(domain, "")


def reload_with(policy_extra):
    lab.write_policyd_conf(policy_extra)
    lab.policyd_proc.send_signal(signal.SIGHUP)


class ReloadUnderLoad(unittest.TestCase):
    def test_reloads_under_load(self):
        pid = lab.policyd_proc.pid
        with Load() as load:
            wait_for(lambda: load.reply("nostarttls.test").startswith("action=DEFER"), timeout=10,
                     what="the deferred destination answered DEFER")
            # A new override takes effect on the connections already open.
            reload_with("domain_actions = nostarttls.test:dunno\n")
            wait_for(lambda: load.reply("nostarttls.test") == "action=DUNNO", timeout=10,
                     what="the reloaded override applied")
            # A file that does not load: the running configuration stays.
            reload_with("reason_actions = no_such_reason:defer\n")
            wait_for(lambda: "keeping the running configuration" in lab.policyd_log_text(), timeout=10,
                     what="the refused reload's log line")
            time.sleep(0.5)
            self.assertEqual(load.reply("nostarttls.test"), "action=DUNNO")
            # Back to the defaults, many times in a row, under load: each
            # SIGHUP once the last is applied (two pending at once are one
            # signal to the kernel, so the count below would be short).
            for n in range(20):
                before = lab.policyd_log_text().count("reload: configuration applied from")
                reload_with("")
                wait_for(lambda: lab.policyd_log_text().count("reload: configuration applied from") > before, timeout=10,
                         what=f"reload {n + 1} of 20 applied")
            wait_for(lambda: load.reply("nostarttls.test").startswith("action=DEFER"), timeout=10,
                     what="the default action back")
            # A setting that takes a restart is named, and the rest applies.
            reload_with("listen = inet:127.0.0.1:10099\ndomain_actions = nostarttls.test:dunno\n")
            wait_for(lambda: "taking a restart: policy.listen" in lab.policyd_log_text(), timeout=10,
                     what="the restart-only setting named")
            wait_for(lambda: load.reply("nostarttls.test") == "action=DUNNO", timeout=10,
                     what="the rest of that reload applied")
            time.sleep(1)
        log = lab.policyd_log_text()
        print(f"{load.requests} requests during 23 reloads, {len(load.failures)} failed", file=sys.stderr)
        self.assertGreater(load.requests, 100)
        self.assertEqual(load.failures, [])
        self.assertEqual(lab.policyd_proc.pid, pid)
        self.assertIsNone(lab.policyd_proc.poll())
        refused = [l for l in log.splitlines() if "keeping the running configuration" in l]
        self.assertEqual(len(refused), 1, refused)
        self.assertIn("no_such_reason", refused[0])
        applied = re.findall(r"reload: configuration applied from", log)
        self.assertEqual(len(applied), 22)
        # The cache stayed: the destinations were not probed again.
        for domain in DOMAINS:
            self.assertEqual(log.count(f"probe: domain={domain},"), 1, domain)


if __name__ == "__main__":
    unittest.main(verbosity=2)
