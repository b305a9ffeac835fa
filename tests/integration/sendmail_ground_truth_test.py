"""Ground truth for the sendmail compat profile: the real Sendmail (8.17,
Debian's build, unpacked by tests/setup-debian12) is the SENDING MTA. It
queues one message per lab destination (cases.py CASES), runs its queue
twice (a first attempt and a retry), and `mxtls probe --profile sendmail`,
reading the same sendmail.cf and access map, must predict what Sendmail
did, per case and scenario:

  tls / plaintext         delivered at the first attempt (the fake destination records the TLS version)
  tls_after_delay,        delivered only at the retry
  plaintext_after_delay
  deferred                still in Sendmail's queue (a qf file) after the retry
  bounced                 gone from the queue, never delivered

Scenarios: Sendmail's defaults; TLSFallbacktoClear; an access map with
TLS_Srv/Try_TLS rules (a VERIFY default, per-host and per-domain entries,
PERM+, ENCR:bits); CipherList with @SECLEVEL=0 and ClientSSLOptions
without TLSv1.3. Sendmail's own log (its syslog, STARTTLS=client lines
and all) is kept in LAB/sendmail-gt.log. Runs inside tests/lab/netns-run,
in a fixed directory under /run (Sendmail refuses a queue below a
world-writable directory such as /tmp).

usage: sendmail_ground_truth_test.py BUILD_DIR"""

import json
import re
import shutil
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import CASES  # noqa: E402
from lab import Lab  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
LAB_DIR = Path("/run/mxtls-lab-sendmail-gt")

# The access map of the "access map" scenario: every server must verify
# (Sendmail's VERIFY: the chain, not the name), with exceptions by host
# name, by parent domain and by address, a permanent requirement and a
# cipher-strength one.
ACCESS = """TLS_Srv:\tVERIFY
Try_TLS:mx.healthy12.test\tNO
TLS_Srv:selfsigned.test\tENCR:128
TLS_Srv:127.0.0.20\tOK
TLS_Srv:mx.notyetvalid.test\tPERM+VERIFY
TLS_Srv:mx.healthy13.test\tENCR:512
"""

# The words in Sendmail's deferral (the qf file's status line) that go with
# each mxtls reason code; certificate reasons: "authentication failed"
# (TLS_Srv VERIFY, ${verify} = FAIL).
HANDSHAKE_FAILED = "TLS handshake failed."
EVIDENCE = {
    "protocol_version": (HANDSHAKE_FAILED,),
    "no_shared_cipher": (HANDSHAKE_FAILED, "encryption too weak"),
    "legacy_sigalg": (HANDSHAKE_FAILED,),
    "weak_key": (HANDSHAKE_FAILED, "authentication failed"),
    "timeout": (HANDSHAKE_FAILED, "read error from"),
    "tls_on_plain_port": ("read error from",),
    "connect_failed": ("Connection refused",),
    "starttls_not_offered": ("other side does not support STARTTLS",),
    "starttls_refused": ("authentication failure",),
    "dh_too_small": (HANDSHAKE_FAILED,),
    # TLSv1.2: the handshake fails; TLSv1.3: the server ends the session
    # after it, which Sendmail reads as a lost connection.
    "client_cert_required": (HANDSHAKE_FAILED, "read error from"),
}

SCENARIOS = {
    "defaults": ("", ""),
    "TLSFallbacktoClear": ("define(`confTLS_FALLBACK_TO_CLEAR', `True')dnl\n", ""),
    "access map": ("", ACCESS),
    # OpenSSL security level 0 (TLSv1.0/1.1 and SHA-1 signatures complete),
    # and no TLSv1.3.
    "ciphers and options": ("define(`confCIPHER_LIST', `DEFAULT:@SECLEVEL=0')dnl\n"
                            "define(`confCLIENT_SSL_OPTIONS', `+SSL_OP_NO_TLSv1_3')dnl\n", ""),
}


class SendmailGroundTruth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(LAB_DIR, BUILD).start()
        cls.syslog = cls.lab.start_syslog("sendmail-gt")
        cls.rows = []
        cls.started = time.time()

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        print("\ncase              scenario             sendmail               mxtls                  reason", file=sys.stderr)
        for row in cls.rows:
            print("%-17s %-20s %-22s %-22s %s" % row, file=sys.stderr)
        print(f"{len(cls.rows)} case/scenario pairs in {time.time() - cls.started:.0f}s", file=sys.stderr)

    def delivered(self, case, rcpt):
        """'tls', 'plaintext' or None: what the fake destination recorded for RCPT."""
        log = self.lab.spool / f"{case}.log"
        lines = [l for l in log.read_text().splitlines() if f"<{rcpt}>" in l] if log.exists() else []
        return None if not lines else "plaintext" if "tls=none" in lines[0] else "tls"

    def queued(self, sm):
        """{recipient: Sendmail's status text (the qf file's M line)} for what is still in the queue."""
        out = {}
        for qf in (sm / "queue").glob("qf*"):
            lines = qf.read_text(errors="replace").splitlines()
            status = next((l[1:] for l in lines if l.startswith("M")), "")
            for line in lines:
                m = re.match(r"^R[^:]*:<?([^>\s]+)>?", line)
                if m:
                    out[m.group(1)] = status
        return out

    def sendmail_outcomes(self, scenario):
        mc_extra, access = SCENARIOS[scenario]
        tag = scenario.replace(" ", "-")
        sm = self.lab.dir / f"sendmail-gt-{tag}"
        shutil.rmtree(sm, ignore_errors=True)
        sm.mkdir()
        cf = self.lab.write_sendmail_sender(sm, mc_extra, access)
        rcpt = {c.name: f"{tag.lower()}@{c.name}.test" for c in CASES}  # one recipient per case and scenario
        for c in CASES:
            r = self.lab.sendmail_sender_run(cf, "-odq", "-f", "sender@lab.test", rcpt[c.name],
                                             syslog=self.syslog, input=f"Subject: ground truth {c.name} / {tag}\n\nbody\n")
            self.assertEqual(r.returncode, 0, r.stderr)
        attempts = []
        for _ in range(2):  # the first attempt, then a retry of what is left
            r = self.lab.sendmail_sender_run(cf, "-qf", syslog=self.syslog)
            self.assertEqual(r.returncode, 0, r.stderr)
            attempts.append(({c.name: self.delivered(c.name, rcpt[c.name]) for c in CASES}, self.queued(sm)))
        (first, _), (second, queue) = attempts
        outcomes = {}
        for c in CASES:
            if first[c.name]:
                outcomes[c.name] = first[c.name]
            elif second[c.name]:
                outcomes[c.name] = second[c.name] + "_after_delay"
            elif rcpt[c.name] in queue:
                outcomes[c.name] = "deferred"
            else:
                outcomes[c.name] = "bounced"
        return cf, outcomes, queue

    def mxtls_predictions(self, cf):
        conf = self.lab.dir / "mxtls-sendmail.conf"
        common = self.lab.conf.read_text().split("\n[tls]\n")[0]
        conf.write_text(common + f"\n[tls]\nprofile = sendmail\nsendmail_cf = {cf}\n")
        r = self.lab.probe("--json", *[f"{c.name}.test" for c in CASES], conf=conf)
        self.assertIn(r.returncode, (0, 1, 2, 3), r.stderr)
        docs = json.loads(r.stdout)
        for d in docs:
            self.assertEqual(d["profile"], "sendmail")
        return {d["destination"][:-len(".test")]: d["result"] for d in docs}

    def check_scenario(self, scenario):
        cf, sendmail, queue = self.sendmail_outcomes(scenario)
        mxtls = self.mxtls_predictions(cf)
        for c in CASES:
            got = mxtls[c.name]
            self.rows.append((c.name, scenario, sendmail[c.name], got["outcome"], got["reason"]))
            with self.subTest(case=c.name, scenario=scenario):
                why = queue.get(f"{scenario.replace(' ', '-').lower()}@{c.name}.test", "")
                self.assertEqual(got["outcome"], sendmail[c.name], f"Sendmail said {why!r}; mxtls: {got}")
                if sendmail[c.name] == "deferred":
                    evidence = EVIDENCE.get(got["reason"], ("authentication failed",))
                    self.assertTrue(any(e in why for e in evidence), f"reason {got['reason']} does not fit Sendmail's {why!r}")
        # Sendmail's own account of its TLS sessions is in the kept log.
        self.assertIn("STARTTLS=client", (self.lab.dir / "sendmail-gt.log").read_text(errors="replace"))

    def test_auto_profile_on_a_sendmail_host(self):
        """profile = auto on a host without Postfix (no postconf) and with a
        sendmail.cf: the sendmail profile, said by --check-config, in the
        start-up log line and in mxtls probe's report."""
        sm = self.lab.dir / "sendmail-gt-auto"
        shutil.rmtree(sm, ignore_errors=True)
        sm.mkdir()
        cf = self.lab.write_sendmail_sender(sm)
        conf = self.lab.dir / "mxtls-auto.conf"
        common = self.lab.conf.read_text().split("\n[tls]\n")[0]
        conf.write_text(common + f"\n[tls]\npostconf = {sm}/no-postconf\nsendmail_cf = {cf}\n")
        r = subprocess.run([str(self.lab.policyd), "--config", str(conf), "--check-config", "--log", "stderr"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"profile sendmail (auto: no Postfix (cannot run {sm}/no-postconf", r.stdout)
        self.assertIn(f"{cf}, access map {sm}/access (0 TLS_Srv, 0 Try_TLS))", r.stdout)
        self.assertIn("profile sendmail (auto: no Postfix", r.stderr)
        r = self.lab.probe("healthy12.test", conf=conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(profile sendmail, level may", r.stdout)
        self.assertIn("  profile   sendmail: auto: no Postfix", r.stdout)

    def test_defaults(self):
        self.check_scenario("defaults")

    def test_tls_fallback_to_clear(self):
        self.check_scenario("TLSFallbacktoClear")

    def test_access_map(self):
        self.check_scenario("access map")

    def test_cipher_list_and_ssl_options(self):
        self.check_scenario("ciphers and options")


if __name__ == "__main__":
    unittest.main(verbosity=2)
