"""Destinations that break SMTP with sheer size: a 100 KB greeting line and
an EHLO reply of 10,000 lines. Each is read only up to the probe's limits
and classified smtp_protocol_violation with a detail naming the limit hit
(not connect_failed), once, without caching a TLS verdict, while the daemon
keeps answering. Runs inside tests/lab/netns-run.

usage: huge_replies_test.py BUILD_DIR"""

import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_query, socketmap_query  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-huge", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd()


class HugeReplies(unittest.TestCase):
    def check(self, domain, limit):
        lab.learn(domain)
        lines = [l for l in lab.policyd_log_text().splitlines() if f"probe: domain={domain}," in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("verdict=unreachable, reason=smtp_protocol_violation", lines[0])
        self.assertIn(limit, lines[0])
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", domain), "NOTFOUND ")
        start = time.time()
        self.assertEqual(policy_query(f"user@{domain}")[0], "action=DUNNO")
        self.assertLess(time.time() - start, 1)

    def test_a_100_kb_greeting_line(self):
        self.check("hugeline.test", 'detail="greeting: protocol violation: reply line longer than 2048 bytes"')

    def test_an_ehlo_reply_of_10000_lines(self):
        self.check("hugeehlo.test", 'detail="EHLO: protocol violation: reply has more than 100 lines"')


if __name__ == "__main__":
    unittest.main(verbosity=2)
