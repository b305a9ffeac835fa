"""A destination that answers STARTTLS and then stalls the TLS handshake:
the stall is transient, so mxtls-policyd logs that it stalled, caches no
verdict (README: timeouts are never cached as incompatibilities) and backs
off before probing it again, and Postfix's lookups meanwhile get no
verdict instead of a 6-hour incompatibility. Runs inside tests/lab/netns-run.

usage: handshake_stall_test.py BUILD_DIR"""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_query, socketmap_query, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-stall", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd()


class HandshakeStall(unittest.TestCase):
    def test_a_stalled_handshake_is_retried_later_not_cached(self):
        lab.learn("stall.test")
        self.assertEqual(policy_query("user@stall.test")[0], "action=DUNNO")
        wait_for(lambda: "to=<user@stall.test>, domain=stall.test, verdict=unknown, action=dunno, probe=backing-off"
                 in lab.policyd_log_text(), what="the backing-off decision line")
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", "stall.test"), "NOTFOUND ")
        listed = subprocess.run([str(lab.mxtls), "cache", "--config", str(lab.policyd_conf), "list"],
                                capture_output=True, text=True, timeout=30)
        self.assertNotIn("stall.test", listed.stdout)

        line = next(l for l in lab.policyd_log_text().splitlines() if "probe: domain=stall.test," in l)
        self.assertIn("verdict=unreachable, reason=timeout", line)
        self.assertIn('detail="TLS handshake stalled after STARTTLS: timed out during the TLS handshake"', line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
