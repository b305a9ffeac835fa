"""miltertest (Lua) drives mxtls-milter through every callback against the
lab's mxtls-policyd: tempfail, header, quarantine, abort mid-message, an
unreachable engine (fail open and tempfail), recipients of 9000 bytes
(sent by a client of our own: miltertest cannot), and thousands of sessions
after which the milter must stop cleanly (under ASan, LeakSanitizer makes a
leak fail the exit status). Runs inside tests/lab/netns-run.

usage: milter_miltertest_test.py BUILD_DIR"""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab  # noqa: E402
from milter_client import NR_CONN, NR_MAIL, NR_RCPT, MilterSession  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
SCRIPTS = Path(__file__).resolve().parent / "miltertest"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-miltertest", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()
    lab.start_policyd("domain_actions = starttls454.test:hold")
    for domain in ["healthy12.test", "healthy13.test", "nostarttls.test", "starttls454.test"]:
        lab.learn(domain)



def miltertest(script, **env):
    r = subprocess.run(["miltertest", "-s", str(SCRIPTS / script)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "MXTLS_MILTER_SOCKET": f"unix:{lab.milter_socket}", **env})
    return r.returncode, r.stdout + r.stderr


class Miltertest(unittest.TestCase):
    def tearDown(self):
        lab.stop_milter()

    def test_every_callback(self):
        lab.start_milter()
        code, out = miltertest("callbacks.lua")
        self.assertEqual(code, 0, out)
        self.assertIn("all checks passed", out)

    def test_engine_unreachable_fails_open(self):
        lab.start_milter(engine=f"unix:{lab.dir}/nothing-listens-here.sock")
        code, out = miltertest("engine_down.lua", MXTLS_EXPECT="continue")
        self.assertEqual(code, 0, out)

    def test_engine_unreachable_can_tempfail(self):
        lab.start_milter("on_engine_failure = tempfail", engine=f"unix:{lab.dir}/nothing-listens-here.sock")
        code, out = miltertest("engine_down.lua", MXTLS_EXPECT="tempfail")
        self.assertEqual(code, 0, out)

    def test_a_9000_byte_recipient_is_judged_by_its_domain(self):
        # miltertest sends at most about 1 KB per value (and Postfix refuses
        # commands over 2048 bytes): a client of our own plays the local
        # process that reaches the milter's socket.
        lab.start_milter()
        session = MilterSession(lab.milter_socket)
        self.assertIn(session.connect(), (b"c", None))  # None: no reply negotiated
        session.macros(b"M", {"i": "6B7C8D9E0F"})
        self.assertIn(session.mail("sender@lab.test"), (b"c", None))
        self.assertEqual(session.rcpt("a" * 9000 + "@nostarttls.test"), b"y")  # 450 4.7.5, not fail-open
        self.assertEqual(session.rcpt("user@" + "b" * 9000 + ".test"), b"c")  # no valid domain: nothing to check
        self.assertEqual(session.rcpt("user@healthy12.test"), b"c")
        replies = session.eom()
        session.close()
        self.assertIn((b"h", b"X-MXTLS\0healthy12.test=ok\0"), replies)
        log = lab.milter_log_text()
        self.assertIn("to=<aaaa", log)
        self.assertIn("domain=nostarttls.test, verdict=incompatible, reason=starttls_not_offered, action=defer", log)
        self.assertIn("6B7C8D9E0F: to=<user@bbbb", log)
        self.assertIn(">, action=dunno, note=no valid recipient domain: nothing to check", log)
        self.assertNotIn("engine unavailable", log)

    def test_round_trips_the_mta_can_skip(self):
        # Inspecting every message, the milter answers neither connect nor
        # MAIL (always "continue"): Postfix and Sendmail then do not wait.
        lab.start_milter("inspect = all")
        session = MilterSession(lab.milter_socket)
        self.assertEqual(session.protocol & (NR_CONN | NR_MAIL), NR_CONN | NR_MAIL)
        self.assertIsNone(session.connect())
        self.assertIsNone(session.mail("sender@lab.test"))
        self.assertEqual(session.rcpt("user@nostarttls.test"), b"y")
        session.close()
        # Inspecting some clients only, MAIL is answered: "accept" ends the
        # milter's part in a message it does not inspect.
        lab.stop_milter()
        lab.start_milter("inspect = networks\nnetworks = 192.0.2.0/24")
        session = MilterSession(lab.milter_socket)
        self.assertEqual(session.protocol & (NR_CONN | NR_MAIL | NR_RCPT), NR_CONN)
        self.assertIsNone(session.connect(address="127.0.0.1"))
        self.assertEqual(session.mail("sender@lab.test"), b"a")
        session.close()

    def test_recipients_get_no_reply_when_never_deferred(self):
        # defer_recipients = no: the milter answers no RCPT (the MTA does not
        # wait at each recipient) and only annotates. A reply it sent anyway
        # would be read below as end of message's and fail the header check.
        lab.start_milter("inspect = all\ndefer_recipients = no")
        session = MilterSession(lab.milter_socket)
        self.assertEqual(session.protocol & (NR_CONN | NR_MAIL | NR_RCPT), NR_CONN | NR_MAIL | NR_RCPT)
        self.assertIsNone(session.connect())
        session.macros(b"M", {"i": "5A6B7C8D9E"})
        self.assertIsNone(session.mail("sender@lab.test"))
        self.assertIsNone(session.rcpt("user@nostarttls.test"))
        self.assertIsNone(session.rcpt("user@healthy12.test"))
        replies = session.eom()
        session.close()
        self.assertEqual(replies, [(b"h", b"X-MXTLS\0nostarttls.test=incompatible(starttls_not_offered); healthy12.test=ok\0"),
                                   (b"c", b"")])
        log = lab.milter_log_text()
        self.assertIn("5A6B7C8D9E: to=<user@nostarttls.test>, domain=nostarttls.test, verdict=incompatible, "
                      "reason=starttls_not_offered, action=defer(not applied), note=accepted (milter defer_recipients = no)", log)

    def test_thousands_of_sessions_then_a_clean_stop(self):
        lab.start_milter()
        code, out = miltertest("sessions.lua", MXTLS_SESSIONS="2000")
        self.assertEqual(code, 0, out)
        proc = lab.milter_proc
        lab.stop_milter()
        self.assertEqual(proc.returncode, 0, (lab.dir / "milter.err").read_text()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
