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
PERM+, ENCR:bits). Sendmail's own log (its syslog, STARTTLS=client lines
and all) is kept in LAB/sendmail-gt.log. Runs inside tests/lab/netns-run,
in a fixed directory under /run (Sendmail refuses a queue below a
world-writable directory such as /tmp).

usage: sendmail_ground_truth_test.py BUILD_DIR"""

import json
import re
import shutil
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

SCENARIOS = {
    "defaults": ("", ""),
    "TLSFallbacktoClear": ("define(`confTLS_FALLBACK_TO_CLEAR', `True')dnl\n", ""),
    "access map": ("", ACCESS),
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
        """Recipients with a qf file in Sendmail's queue."""
        out = set()
        for qf in (sm / "queue").glob("qf*"):
            for line in qf.read_text(errors="replace").splitlines():
                m = re.match(r"^R[^:]*:<?([^>\s]+)>?", line)
                if m:
                    out.add(m.group(1))
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
        return cf, outcomes

    def mxtls_predictions(self, cf, access):
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
        cf, sendmail = self.sendmail_outcomes(scenario)
        mxtls = self.mxtls_predictions(cf, SCENARIOS[scenario][1])
        for c in CASES:
            got = mxtls[c.name]
            self.rows.append((c.name, scenario, sendmail[c.name], got["outcome"], got["reason"]))
            with self.subTest(case=c.name, scenario=scenario):
                self.assertEqual(got["outcome"], sendmail[c.name], f"mxtls: {got}")
        # Sendmail's own account of its TLS sessions is in the kept log.
        self.assertIn("STARTTLS=client", (self.lab.dir / "sendmail-gt.log").read_text(errors="replace"))

    def test_defaults(self):
        self.check_scenario("defaults")

    def test_tls_fallback_to_clear(self):
        self.check_scenario("TLSFallbacktoClear")

    def test_access_map(self):
        self.check_scenario("access map")


if __name__ == "__main__":
    unittest.main(verbosity=2)
