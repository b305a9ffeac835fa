"""One client cannot starve Postfix (issue 9, item 2): connections that
never send a request, a flood of connections held idle after one request,
and one client address over its share, while Postfix's policy lookups and a
second client's are still answered within Postfix's deadline; on a unix
socket with the documented mode and group, Postfix gets in and another
user does not. Runs inside tests/lab/netns-run with the real Postfix.

usage: connection_flood_test.py BUILD_DIR"""

import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, policy_request, smtp_submit, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
# A small budget so that floods stay small; silence is allowed for long, so
# only the first-request deadline and the budget decide who is closed.
LIMITS = "max_connections = 40\nidle_timeout = 120s\n"
POSTFIX = {
    "smtp_tls_security_level": "encrypt",
    # The lab's deadline for an answer; without one Postfix goes on as if
    # the answer were DUNNO (fail open), and the verdict is not applied.
    "smtpd_recipient_restrictions":
        "check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO, timeout=10s }, "
        "permit_mynetworks, reject_unauth_destination",
}
DEADLINE = 10


def postfix_asking(policy_socket):
    return {**POSTFIX, "smtpd_recipient_restrictions":
            POSTFIX["smtpd_recipient_restrictions"].replace("inet:127.0.0.1:10040", policy_socket)}


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-flood", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_postfix(POSTFIX)
    lab.start_policyd(LIMITS)
    lab.learn("nostarttls.test")


def connect(source="127.0.0.1"):
    s = socket.socket()
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", lab.POLICY_PORT))
    return s


def closed_by_daemon(s):
    try:
        s.settimeout(0.05)
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def assert_postfix_is_answered(test):
    """Postfix's policy lookup is answered by mxtls-policyd (the verdict,
    not Postfix failing open) within Postfix's deadline."""
    start = time.time()
    code, text = smtp_submit(["user@nostarttls.test"])["user@nostarttls.test"]
    elapsed = time.time() - start
    print(f"\nPostfix's lookup answered in {elapsed:.2f}s", file=sys.stderr)
    test.assertEqual(code, 450, text)
    test.assertIn("starttls_not_offered", text)
    test.assertLess(elapsed, DEADLINE)


class Flood(unittest.TestCase):
    def setUp(self):
        self.held = []

    def tearDown(self):
        for s in self.held:
            s.close()

    def test_silent_connections_give_way_and_are_closed_at_the_first_request_deadline(self):
        self.held = [connect() for _ in range(60)]  # more than the budget, never a byte
        assert_postfix_is_answered(self)
        self.assertEqual(policy_request("a@healthy12.test", lab.POLICY_PORT, source="127.0.0.9"), b"action=DUNNO\n\n")
        # policy.first_request_timeout (5s), not idle_timeout (120s).
        wait_for(lambda: all(closed_by_daemon(s) for s in self.held), timeout=8, what="silent connections closed")
        wait_for(lambda: "policy: closed=first_request_timeout, after=5s, connections=" in lab.policyd_log_text(),
                 what="the first-request deadline's log line")

    def test_a_flood_of_idle_connections_cannot_starve_the_others(self):
        log_before = len(lab.policyd_log_text())
        for _ in range(200):
            s = connect()
            self.assertEqual(policy_exchange(s, "a@healthy12.test"), b"action=DUNNO\n\n")
            self.held.append(s)
        # The budget is full of idle connections: each new one replaces the idle longest.
        for i in range(5):
            self.assertEqual(policy_request("b@healthy12.test", lab.POLICY_PORT, source="127.0.0.9"), b"action=DUNNO\n\n")
        assert_postfix_is_answered(self)
        evictions = [l for l in lab.policyd_log_text()[log_before:].splitlines() if "closed=idle_longest" in l]
        self.assertTrue(evictions)
        self.assertLessEqual(len(evictions), 3)  # one line per interval, with a count
        self.assertRegex(evictions[0], r"policy: closed=idle_longest, listener=inet:127\.0\.0\.1:\d+, "
                                       r"client=127\.0\.0\.1, limit=max_connections, connections=\d+")


class PerClient(unittest.TestCase):
    def setUp(self):
        lab.stop_policyd()
        lab.start_policyd(LIMITS + "max_connections_per_client = 10\n")
        self.held = []

    def tearDown(self):
        for s in self.held:
            s.close()
        lab.stop_policyd()
        lab.start_policyd(LIMITS)

    def test_one_client_address_holds_at_most_its_share(self):
        others = []
        for _ in range(10):
            s = connect("127.0.0.3")
            self.assertEqual(policy_exchange(s, "a@healthy12.test"), b"action=DUNNO\n\n")
            others.append(s)
        self.held += others
        for _ in range(100):
            s = connect("127.0.0.2")
            policy_exchange(s, "a@healthy12.test")
            self.held.append(s)
        # 127.0.0.2 replaced its own connections; 127.0.0.3's are all served.
        for s in others:
            self.assertEqual(policy_exchange(s, "c@healthy12.test"), b"action=DUNNO\n\n")
        self.assertEqual(sum(1 for s in self.held[len(others):] if not closed_by_daemon(s)), 10)
        assert_postfix_is_answered(self)
        self.assertIn("client=127.0.0.2, limit=max_connections_per_client", lab.policyd_log_text())


class UnixSocket(unittest.TestCase):
    def tearDown(self):
        lab.postfix_reconfigure(POSTFIX)
        lab.stop_policyd()
        lab.start_policyd(LIMITS)

    def test_only_postfix_gets_in(self):
        # As mxtls.conf documents: mode 0660 and a group Postfix's user is in.
        lab.add_group("mxtls-lab", ["postfix"])
        lab.stop_policyd()
        lab.start_policyd(LIMITS + "socket_mode = 0660\nsocket_group = mxtls-lab\n")
        lab.postfix_reconfigure(postfix_asking(f"unix:{lab.policy_socket}"))
        assert_postfix_is_answered(self)
        other = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c",
                                f"import socket; socket.socket(socket.AF_UNIX).connect('{lab.policy_socket}')"],
                               capture_output=True, text=True)
        self.assertNotEqual(other.returncode, 0)
        self.assertIn("PermissionError", other.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
