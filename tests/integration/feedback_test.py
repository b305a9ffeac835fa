"""Live feedback (issue 12, item 3): mxtls-policyd follows the real
Postfix's log ([feedback] mta_log); when Postfix delivers in a way the
cached verdict did not predict, the daemon logs one `prediction disagreed`
line with both sides, counts it, and re-probes that destination at once;
a destination that keeps disagreeing is re-probed once per
reprobe_interval. It keeps following through Postfix's own rotation
(`postfix logrotate`: rename, new file) and a copytruncate; and the same
from the systemd journal ("mta_log = journal:DIR"): the lines the real
Postfix wrote are written as journald would into a journal file in DIR
(by systemd-journal-remote, from journal export format), since no
journald runs in the lab.

Wrong verdicts are seeded into the daemon's store between two runs (the
store is the daemon's own, made by probing the lab); one disagreement is
real: the daemon judges at `encrypt`, Postfix delivers at `may`, so
nostarttls.test (predicted: deferred) goes out in plaintext.

Runs inside tests/lab/netns-run.

usage: feedback_test.py BUILD_DIR"""

import os
import re
import struct
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, wait_for  # noqa: E402

METRICS = "127.0.0.1:9671"
SEEDED_WRONG = ["healthy12.test", "healthy13.test", "expired.test"]


def metric(name, labels=""):
    text = urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=5).read().decode()
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class Feedback(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        lab = cls.lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-feedback", BUILD)
        cls.addClassCleanup(lab.stop)
        lab.start()
        lab.start_postfix({"smtp_tls_security_level": "may"})
        cls.mail_log = lab.dir / "postfix.log"
        # The daemon's true verdicts first, in its own store...
        lab.start_policyd(level="encrypt")
        for d in SEEDED_WRONG + ["nostarttls.test"]:
            lab.learn(d)
        lab.stop_policyd()
        # ... then wrong ones for three of them.
        db = sqlite3.connect(lab.store)
        for d in SEEDED_WRONG:
            db.execute("UPDATE verdicts SET outcome='deferred', reason='protocol_version', severity='incompatible', "
                       "expires_at=?1 WHERE domain=?2", (int(time.time()) + 86400, d))
        db.commit()
        db.close()
        lab.start_policyd(level="encrypt", sections=f"""[metrics]
listen = inet:{METRICS}

[feedback]
mta_log = {cls.mail_log}
reprobe_interval = 1h
poll_interval = 200ms
""")
        wait_for(lambda: "feedback: following" in lab.policyd_log_text(), what="the follower to start")

    def send(self, domain):
        subprocess.run(["sendmail", "-f", "", f"user@{domain}"], check=True, text=True,
                       input=f"Subject: feedback {domain}\n\nmxtls feedback\n")

    def disagreement_lines(self, domain):
        return [l for l in self.lab.policyd_log_text().splitlines()
                if f"feedback: prediction disagreed: domain={domain}," in l]

    def wait_reprobed(self, domain):
        """The disagreement line for `domain`, then a probe of it after that line."""
        wait_for(lambda: self.disagreement_lines(domain), timeout=60, what=f"a disagreement about {domain}")

        def probed_after():
            text = self.lab.policyd_log_text()
            at = text.find(f"feedback: prediction disagreed: domain={domain},")
            return f"probe: domain={domain}," in text[at:]
        wait_for(probed_after, timeout=60, what=f"a re-probe of {domain}")
        return self.disagreement_lines(domain)[0]

    def test_1_a_wrong_verdict_is_reprobed(self):
        self.send("healthy12.test")
        line = self.wait_reprobed("healthy12.test")
        print("\n" + line, file=sys.stderr)
        for part in ("predicted=deferred", "predicted_reason=protocol_version", "mta=sent", "action=reprobe",
                     "mta_tls=trusted", "relay=mx.healthy12.test[127.0.0.10]:25"):
            self.assertIn(part, line)
        self.assertGreaterEqual(metric("mxtls_prediction_disagreements_total", '{result="reprobed"}'), 1)
        self.assertGreaterEqual(metric("mxtls_mta_deliveries_seen_total"), 1)

    def test_2_a_lasting_disagreement_is_reprobed_once_per_interval(self):
        before = metric("mxtls_prediction_disagreements_total", '{result="rate_limited"}')
        self.send("nostarttls.test")
        line = self.wait_reprobed("nostarttls.test")
        self.assertIn("predicted=deferred", line)
        self.assertIn("mta_tls=none", line)
        self.send("nostarttls.test")
        wait_for(lambda: metric("mxtls_prediction_disagreements_total", '{result="rate_limited"}') == before + 1,
                 timeout=60, what="the second delivery counted as rate-limited")
        self.assertEqual(len(self.disagreement_lines("nostarttls.test")), 1)

    def test_3_postfix_logrotate(self):
        subprocess.run(["postfix", "logrotate"], check=True, capture_output=True)
        self.assertTrue(list(self.lab.dir.glob("postfix.log.*")))  # renamed; the next line logged makes a new file
        self.send("expired.test")
        self.wait_reprobed("expired.test")

    def test_5_the_journal(self):
        lab = self.lab
        journal = lab.dir / "journal"
        shutil.rmtree(journal, ignore_errors=True)  # an earlier run's
        journal.mkdir()
        lab.stop_policyd()
        db = sqlite3.connect(lab.store)
        db.execute("UPDATE verdicts SET outcome='deferred', reason='protocol_version', severity='incompatible', "
                   "expires_at=?1 WHERE domain='healthy12.test'", (int(time.time()) + 86400,))
        db.commit()
        db.close()
        lab.start_policyd(level="encrypt", sections=f"""[feedback]
mta_log = journal:{journal}
reprobe_interval = 1h
poll_interval = 200ms
""")
        wait_for(lambda: f"feedback: following the journal in {journal}" in lab.policyd_log_text(),
                 what="the follower to start on the journal")
        logged = self.mail_log.stat().st_size
        self.send("healthy12.test")
        wait_for(lambda: "status=sent" in self.mail_log.read_text()[logged:], timeout=60, what="the delivery")
        self.forward_to_journal(journal, self.mail_log.read_text()[logged:].splitlines())
        line = self.wait_reprobed("healthy12.test")
        self.assertIn("mta=sent", line)
        self.assertIn("mta_tls=trusted", line)

    def forward_to_journal(self, journal, lines):
        """Appends `lines` (Postfix's "... ident[pid]: text") to journal/mail.journal
        as journald stores syslog messages of the mail facility."""
        entries = []
        for i, line in enumerate(lines):
            m = re.match(r"^\S+(?: +\S+ +\S+)? (\S+) ([^\s\[]+)\[(\d+)\]: (.*)$", line)
            if not m:
                continue
            host, ident, pid, text = m.groups()
            entries.append(b"".join([
                f"__REALTIME_TIMESTAMP={time.time_ns() // 1000 + i}\n__MONOTONIC_TIMESTAMP={time.monotonic_ns() // 1000}\n"
                f"_BOOT_ID=6d78746c736c616262626f6f74000001\n_HOSTNAME={host}\nSYSLOG_FACILITY=2\n"
                f"SYSLOG_IDENTIFIER={ident}\nSYSLOG_PID={pid}\n_PID={pid}\n".encode(),
                b"MESSAGE\n" + struct.pack("<Q", len(text.encode())) + text.encode() + b"\n", b"\n"]))
        subprocess.run(["/lib/systemd/systemd-journal-remote", f"--output={journal / 'mail.journal'}", "-"],
                       input=b"".join(entries), check=True, capture_output=True)

    def test_4_copytruncate(self):
        shutil.copy(self.mail_log, self.lab.dir / "postfix.log.copy")
        os.truncate(self.mail_log, 0)
        self.send("healthy13.test")
        self.wait_reprobed("healthy13.test")


if __name__ == "__main__":
    unittest.main(verbosity=2)
