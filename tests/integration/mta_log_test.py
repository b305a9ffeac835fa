"""The MTA's own log, classified: the real Postfix (3.7) and the real
Sendmail (8.17) deliver to the lab's destinations, and `mxtls report --log`
on the lines they wrote must classify every TLS deferral and say how every
delivered message was protected; a verdict seeded wrong into the store must
come out as a disagreement, listed first. Each table entry of
policy/report/mta_log*.cpp that this lab can make an MTA write is checked
here on the real line (EXPECTED below); those it cannot (Postfix 3.10+
TLSRPT lines and 3.11 tls= fields: Debian 12 has 3.7; OpenSSL's "dh key too
small", "wrong signature type", "unexpected eof" need servers the lab does
not run) are tested in tests/unit/mta_log_test.cpp on lines built from the
documented formats. The texts are printed so a reader sees the real lines.

Sendmail logs only through syslog(3) to /dev/log, and this namespace has no
syslog daemon: the test puts a tmpfs over /dev (private mount namespace;
the device nodes the daemons need are bound back) and reads /dev/log itself.

Runs inside tests/lab/netns-run; the lab lives under /run because Sendmail
refuses some files below a world-writable directory such as /tmp.

usage: mta_log_test.py BUILD_DIR"""

import json
import os
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import CASES  # noqa: E402
from lab import Lab, run, wait_for  # noqa: E402
from postfix_ground_truth_test import RETRY_SETTINGS, settle  # noqa: E402

# What `mxtls report` must make of the real MTA's lines: (MTA, Postfix
# security level or "sendmail", case) -> (status, tls or reason).
EXPECTED = {
    ("postfix", "may", "healthy12"): ("sent", "trusted"),
    ("postfix", "may", "expired"): ("sent", "untrusted"),
    ("postfix", "may", "nostarttls"): ("sent", "none"),
    ("postfix", "encrypt", "nostarttls"): ("deferred", "starttls_not_offered"),
    ("postfix", "encrypt", "starttls454"): ("deferred", "starttls_refused"),
    ("postfix", "encrypt", "refused"): ("deferred", "connect_failed"),
    ("postfix", "encrypt", "tlsonplain"): ("deferred", "timeout"),
    ("postfix", "encrypt", "stall"): ("deferred", "timeout"),
    ("postfix", "encrypt", "nocipher"): ("deferred", "no_shared_cipher"),
    ("postfix", "secure", "healthy13"): ("sent", "verified"),
    ("postfix", "secure", "expired"): ("deferred", "cert_expired"),
    ("postfix", "secure", "notyetvalid"): ("deferred", "cert_not_yet_valid"),
    ("postfix", "secure", "selfsigned"): ("deferred", "cert_self_signed"),
    ("postfix", "secure", "nointermediate"): ("deferred", "cert_untrusted_chain"),
    ("postfix", "secure", "mismatch"): ("deferred", "cert_host_mismatch"),
    ("postfix", "secure, >=TLSv1.2", "tls10"): ("deferred", "protocol_version"),
}
# The Postfix levels run, and the cases each delivers to.
LEVELS = {
    "may": ["healthy12", "expired", "nostarttls"],
    "encrypt": ["nostarttls", "starttls454", "refused", "tlsonplain", "stall", "nocipher"],
    "secure": ["healthy13", "expired", "notyetvalid", "selfsigned", "nointermediate", "mismatch"],
    "secure, >=TLSv1.2": ["tls10"],
}
LEVEL_SETTINGS = {
    "may": {"smtp_tls_security_level": "may"},
    "encrypt": {"smtp_tls_security_level": "encrypt"},
    "secure": {"smtp_tls_security_level": "secure"},
    "secure, >=TLSv1.2": {"smtp_tls_security_level": "secure", "smtp_tls_mandatory_protocols": ">=TLSv1.2"},
}
# Sendmail 8.17 at its defaults (OpenSSL's default security level, no name
# check, opportunistic TLS): a failed handshake defers ("454 4.7.0 TLS
# handshake failed"), an untrusted certificate does not.
SENDMAIL_EXPECTED = {
    "healthy12": ("sent", "verified"),
    "expired": ("sent", "untrusted"),
    "selfsigned": ("sent", "untrusted"),
    "mismatch": ("sent", "verified"),
    "nostarttls": ("sent", "none"),
    "starttls454": ("sent", "none"),
    "tls10": ("deferred", "legacy_sigalg"),
    "nocipher": ("deferred", "no_shared_cipher"),
    "legacysig": ("deferred", "no_shared_cipher"),
    "refused": ("deferred", "connect_failed"),
    "tlsonplain": ("deferred", "timeout"),
}
SENDMAIL_CASES = list(SENDMAIL_EXPECTED)
DEV_NODES = ["null", "zero", "full", "random", "urandom", "tty", "ptmx"]
DEV_DIRS = ["pts", "shm"]


def serve_dev_log(lab, log_path):
    """A tmpfs over /dev with the daemons' device nodes bound back, and a
    datagram socket at /dev/log whose messages become lines of log_path."""
    saved = lab.dir / "hostdev"
    saved.mkdir(exist_ok=True)
    run(["mount", "--bind", "/dev", str(saved)])
    run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/dev"])
    for name in DEV_NODES + DEV_DIRS:
        if not (saved / name).exists():
            continue
        target = Path("/dev") / name
        target.mkdir() if name in DEV_DIRS else target.touch()
        run(["mount", "--bind", str(saved / name), str(target)])
    for name, to in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                     ("stderr", "/proc/self/fd/2")):
        (Path("/dev") / name).symlink_to(to)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    os.chmod("/dev/log", 0o666)

    def receive():
        with open(log_path, "a") as out:
            while True:
                data = sock.recv(16384).decode(errors="replace").rstrip("\n\0")
                if data.startswith("<"):  # "<PRI>": the rest is "Mmm dd hh:mm:ss tag[pid]: message"
                    data = data[data.find(">") + 1:]
                out.write(data.replace("\n", " ") + "\n")
                out.flush()

    threading.Thread(target=receive, daemon=True).start()


def report(lab, *logs, store=None):
    conf = lab.dir / "report.conf"
    conf.write_text(lab.conf.read_text() + f"\n[store]\npath = {store or lab.dir / 'report-store.db'}\n")
    r = subprocess.run([str(lab.mxtls), "report", "--json", "--config", str(conf), *sum((["--log", str(l)] for l in logs), [])],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


def outcome(entry):
    """(status, tls or reason) of a report's destination with one delivery."""
    if entry["deferred"] or entry["bounced"]:
        return ("deferred" if entry["deferred"] else "bounced", entry["reason"])
    for tls in ("verified", "trusted", "untrusted", "plaintext"):
        if entry["sent"][tls]:
            return ("sent", "none" if tls == "plaintext" else tls)
    return ("?", None)


class MtaLog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(Path("/run/mxtls-lab-mtalog"), BUILD)
        cls.addClassCleanup(cls.lab.stop)
        cls.lab.start()
        cls.syslog = cls.lab.dir / "syslog.log"
        serve_dev_log(cls.lab, cls.syslog)
        cls.lab.start_postfix(RETRY_SETTINGS)
        cls.postfix_logs = {}
        for level, cases in LEVELS.items():
            cls.postfix_logs[level] = cls.postfix_deliver(level, cases)

    @classmethod
    def postfix_deliver(cls, level, cases):
        """One message per case at `level`; returns the log file of this run."""
        lab = cls.lab
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        log = lab.dir / "postfix.log"
        start = log.stat().st_size if log.exists() else 0
        lab.postfix_reconfigure({**RETRY_SETTINGS, **LEVEL_SETTINGS[level]})
        for c in cases:
            subprocess.run(["sendmail", "-f", "", f"user@{c}.test"], check=True, text=True,
                           input=f"Subject: mta log {c} / {level}\n\nmxtls mta log\n")
        settle(expected_min_wait=1.0)
        # Every recipient has a status line (sent ones leave the queue).
        wait_for(lambda: all(f"to=<user@{c}.test>" in log.read_text(errors="replace")[start:] for c in cases),
                 timeout=60, what=f"Postfix's status lines at {level}")
        part = lab.dir / f"postfix-{level.replace(', >=', '-')}.log"
        part.write_bytes(log.read_bytes()[start:])
        return part

    def check(self, doc, expected, mta):
        got = {e["domain"][:-len(".test")]: e for e in doc["mta"]}
        for case, want in expected.items():
            with self.subTest(mta=mta, case=case):
                self.assertIn(case, got, f"no delivery of {case} in the report")
                self.assertEqual(outcome(got[case]), want, got[case])
                print(f"{mta:28} {case:15} {outcome(got[case])} {got[case]['evidence']!r}", file=sys.stderr)

    def test_postfix_lines_are_classified(self):
        for level, cases in LEVELS.items():
            doc = report(self.lab, self.postfix_logs[level])
            expected = {c: v for (mta, lvl, c), v in EXPECTED.items() if lvl == level}
            self.check(doc, expected, f"postfix {level}")
            # Every TLS deferral carries a reason.
            for e in doc["mta"]:
                if e["deferred"]:
                    self.assertTrue(e["reason"], e)

    def test_sendmail_lines_are_classified(self):
        lab = self.lab
        lab.start_sendmail(milter=False, mc_extra=f"define(`confCACERT_PATH', `{lab.certs}')dnl\n"
                                                  f"define(`confCACERT', `{lab.certs}/ca.pem')dnl\n")
        with smtplib.SMTP("127.0.0.1", lab.SENDMAIL_PORT, timeout=30) as s:
            for c in SENDMAIL_CASES:
                s.sendmail("sender@lab.test", [f"user@{c}.test"], f"Subject: sendmail {c}\r\n\r\nbody\r\n")

        def stat_lines():
            lines = self.syslog.read_text(errors="replace").splitlines()
            return all(any(f"to=<user@{c}.test>" in l and "stat=" in l for l in lines) for c in SENDMAIL_CASES)
        wait_for(stat_lines, timeout=90, what="Sendmail's stat= line for every message")
        text = self.syslog.read_text(errors="replace")
        print("".join(l + "\n" for l in text.splitlines() if "STARTTLS" in l or "stat=" in l or "tls_server" in l),
              file=sys.stderr)
        doc = report(lab, self.syslog)
        self.check(doc, SENDMAIL_EXPECTED, "sendmail")

    def test_a_wrong_verdict_is_a_disagreement_listed_first(self):
        """The store says healthy12.test cannot be reached over TLS and
        nostarttls.test speaks TLS: the real deliveries at `may` say
        otherwise, and the report lists both disagreements before the rest."""
        lab = self.lab
        store = lab.dir / "seeded.db"
        store.unlink(missing_ok=True)
        # The store as mxtls writes it: let mxtls-policyd create it and probe both.
        lab.start_policyd(level="may")
        try:
            for d in ("healthy12.test", "nostarttls.test", "expired.test"):
                lab.learn(d)
        finally:
            lab.stop_policyd()
        db = sqlite3.connect(lab.store)
        truth = dict(db.execute("SELECT domain, outcome FROM verdicts"))
        self.assertEqual(truth.get("healthy12.test"), "tls")
        self.assertEqual(truth.get("nostarttls.test"), "plaintext")
        db.execute("UPDATE verdicts SET outcome='deferred', reason='protocol_version', severity='incompatible' "
                   "WHERE domain='healthy12.test'")
        db.execute("UPDATE verdicts SET outcome='tls', reason='ok', severity='ok' WHERE domain='nostarttls.test'")
        db.commit()
        db.close()
        doc = report(lab, self.postfix_logs["may"], store=lab.store)
        order = [e["domain"] for e in doc["mta"]]
        disagreeing = [e["domain"] for e in doc["mta"] if e["disagreements"]]
        print(json.dumps(doc["mta"], indent=1), file=sys.stderr)
        self.assertEqual(sorted(disagreeing), ["healthy12.test", "nostarttls.test"])
        self.assertEqual(sorted(order[:2]), ["healthy12.test", "nostarttls.test"])
        by = {e["domain"]: e for e in doc["mta"]}
        self.assertIn("mxtls predicted deferred (protocol_version); the MTA sent it over TLS",
                      by["healthy12.test"]["disagreement"])
        self.assertIn("mxtls predicted tls (ok); the MTA sent it in plaintext", by["nostarttls.test"]["disagreement"])
        self.assertEqual(by["expired.test"]["disagreements"], 0)  # the true verdict agrees


if __name__ == "__main__":
    unittest.main(verbosity=2)
