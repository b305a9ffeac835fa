"""DNS down and DNS slow under a running mxtls-policyd with the real Postfix
asking it at RCPT: answers keep coming within the deadline (from the cache,
or DUNNO for what is not known yet), a destination that cannot be resolved
gets one probe line and a backoff rather than a flood of retries, and
probing works again once DNS is back. Runs inside tests/lab/netns-run.

usage: dns_test.py BUILD_DIR"""

import socket
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_query, smtp_submit, socketmap_query, wait_for, wait_port  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
DEADLINE = 1.0  # seconds per answer; smtpd's check_policy_service below waits 10s
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-dns", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()
    (lab.dir / "tls_policy").write_text(f"[{lab.RELAY}]:25 may\n")
    lab.start_postfix({
        "smtp_tls_security_level": "encrypt",
        "smtpd_recipient_restrictions":
            "check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO, timeout=10s }, "
            "permit_mynetworks, reject_unauth_destination",
    })


class SlowDns(threading.Thread):
    """A UDP relay in front of the lab's unbound that holds each query `delay` seconds."""

    def __init__(self, port, delay):
        super().__init__(daemon=True)
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))

    def run(self):
        while True:
            try:
                query, client = self.sock.recvfrom(4096)
            except OSError:
                return
            threading.Timer(self.delay, self.relay, (query, client)).start()

    def relay(self, query, client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream:
            upstream.settimeout(5)
            try:
                upstream.sendto(query, ("127.0.0.1", 5353))
                self.sock.sendto(upstream.recv(65535), client)
            except OSError:
                pass

    def close(self):
        self.sock.close()


class Dns(unittest.TestCase):
    def setUp(self):
        self.log_start = len(lab.policyd_log_text())
        for f in lab.dir.glob("cache.db*"):  # each case starts knowing nothing
            f.unlink()

    def tearDown(self):
        lab.stop_policyd()

    def log(self):
        return lab.policyd_log_text()[self.log_start:]

    def probe_lines(self, domain):
        return [line for line in self.log().splitlines() if f"probe: domain={domain}," in line]

    def answered_in_time(self, domain):
        reply, took = policy_query(f"user@{domain}")
        self.assertLess(took, DEADLINE, f"{domain}: answered after {took:.2f}s")
        return reply

    def test_down(self):
        lab.start_policyd()
        lab.learn("nostarttls.test")
        unbound = lab.spawned("unbound")
        unbound.terminate()
        unbound.wait(timeout=10)
        try:
            # Known: answered from the cache as before. Unknown: DUNNO at once.
            self.assertIn("DEFER_IF_PERMIT", self.answered_in_time("nostarttls.test"))
            self.assertEqual(self.answered_in_time("healthy12.test"), "action=DUNNO")
            start = time.time()
            replies = smtp_submit(["user@nostarttls.test", "user@tls13.test"], subject="dns down")
            self.assertLess(time.time() - start, 10)
            self.assertEqual(replies["user@nostarttls.test"][0], 450)
            self.assertEqual(replies["user@tls13.test"][0], 250)
            line = wait_for(lambda: self.probe_lines("healthy12.test"), timeout=20, what="the failed probe")[0]
            self.assertIn("reason=dns_failure", line)
            # Asked again and again: backing off, not probing again.
            for _ in range(20):
                self.assertIn("action=DUNNO", self.answered_in_time("healthy12.test"))
            self.assertTrue(socketmap_query(lab.socketmap_socket, "tlspolicy", "healthy12.test").startswith("NOTFOUND"))
            time.sleep(1)
            self.assertEqual(len(self.probe_lines("healthy12.test")), 1, self.log())
        finally:
            lab.spawn("unbound", ["unbound", "-d", "-c", str(lab.dir / "unbound.conf")])
            wait_port("127.0.0.1", 5353)
        # DNS back: a destination not tried during the outage is probed and judged.
        lab.learn("healthy13.test")
        self.assertIn("reason=ok", self.probe_lines("healthy13.test")[0])

    def test_slow(self):
        # Every query answered after 300 ms: below libunbound's first retransmit
        # (376 ms), so the probes are slow but not failed.
        slow = SlowDns(5399, delay=0.3)
        slow.start()
        self.addCleanup(slow.close)
        lab.conf.write_text(lab.conf.read_text().replace("forwarder = 127.0.0.1@5353", "forwarder = 127.0.0.1@5399"))
        self.addCleanup(lab.write_mxtls_conf)
        lab.start_policyd()
        start = time.time()
        self.assertEqual(self.answered_in_time("healthy12.test"), "action=DUNNO")
        replies = smtp_submit(["user@nostarttls.test"], subject="dns slow")
        self.assertEqual(replies["user@nostarttls.test"][0], 250)  # not known yet: DUNNO, at once
        self.assertLess(time.time() - start, 5)
        # The probes finish in their own time and are judged.
        wait_for(lambda: self.probe_lines("nostarttls.test"), timeout=30, what="the slow probe")
        self.assertIn("reason=starttls_not_offered", self.probe_lines("nostarttls.test")[0])
        time.sleep(0.2)
        self.assertIn("DEFER_IF_PERMIT", self.answered_in_time("nostarttls.test"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
