"""Ground truth: the real Postfix SMTP client delivers one message to every
lab destination under several TLS settings, and `mxtls probe --profile
postfix`, reading the same main.cf, must predict what Postfix did:

  tls                    delivered over TLS (the fake destination records the version)
  plaintext              delivered without TLS at the first attempt
  plaintext_after_delay  deferred at first; a retry after minimal_backoff_time
                         went out in plaintext (Postfix's opportunistic fallback)
  deferred               still in the queue after the retry
  bounced                gone from the queue, never delivered

and mxtls's reason code must agree with the evidence in Postfix's own
deferral text. The lab runs with its DNSSEC part (a signed zone, the
DANE cases of cases.py): at `dane` and `dane-only` (with
smtp_dns_support_level = dnssec) Postfix delivers to every case, DANE or
not, and mxtls, validating with the lab's trust anchor, must predict each
outcome; for the DANE cases the outcome and reason must also be the ones
cases.py expects (so the lab is what it claims to be). The destinations
include real MTAs of other families (Debian's Exim and OpenSMTPD,
cases.py MTA_CASES) beside the fake ones. Every scenario also
has the destinations with several MX hosts and addresses, IPv6 among them
(ADDR_CASES: Postfix with inet_protocols = all), and the slow servers
(SLOW_CASES), which Postfix gives up on at the lab's smtp_helo_timeout of
4 s and delivers to once it waits 15 s (a scenario of their own): mxtls
must wait exactly as long. Runs inside tests/lab/netns-run.

usage: postfix_ground_truth_test.py BUILD_DIR"""

import json
import resource
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import ADDR_CASES, CASES, DANE_CASES, MTA_CASES, SLOW_CASES, STS_CASES  # noqa: E402
from lab import Lab  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"

# Postfix settings per scenario (on top of the lab's main.cf).
SCENARIOS = {
    "may": {"smtp_tls_security_level": "may"},
    "encrypt": {"smtp_tls_security_level": "encrypt"},
    "secure": {"smtp_tls_security_level": "secure"},
    # verify: the chain must verify, the name must be the MX host (smtp_tls_verify_cert_match = hostname).
    "verify": {"smtp_tls_security_level": "verify"},
    "may, smtp_tls_protocols = >=TLSv1.2": {"smtp_tls_security_level": "may", "smtp_tls_protocols": ">=TLSv1.2"},
    "dane": {"smtp_tls_security_level": "dane", "smtp_dns_support_level": "dnssec"},
    "dane-only": {"smtp_tls_security_level": "dane-only", "smtp_dns_support_level": "dnssec"},
}
DANE_SCENARIOS = ("dane", "dane-only")
# Postfix waits long enough for the slow servers (SLOW_CASES): only they, and one healthy case.
SLOW_SCENARIO = "may, smtp_helo_timeout = 15s"
SCENARIOS[SLOW_SCENARIO] = {"smtp_tls_security_level": "may", "smtp_helo_timeout": "15s"}
# max_use = 1: an smtp(8) process serves one delivery and exits, so none
# that read the last scenario's main.cf (a reload lets idle ones live on)
# delivers under the next one.
RETRY_SETTINGS = {"minimal_backoff_time": "2s", "maximal_backoff_time": "4s", "queue_run_delay": "1h", "max_use": "1"}

# The words in Postfix's deferral reason that go with each mxtls reason code.
EVIDENCE = {
    "starttls_not_offered": "TLS is required, but was not offered",
    "starttls_refused": "refused to start TLS",
    "protocol_version": "Cannot start TLS: handshake failure",
    "no_shared_cipher": "Cannot start TLS: handshake failure",
    "legacy_sigalg": "Cannot start TLS: handshake failure",
    "cert_expired": "Server certificate not",
    "cert_not_yet_valid": "Server certificate not",
    "cert_self_signed": "Server certificate not",
    "cert_untrusted_chain": "Server certificate not",
    "cert_host_mismatch": "Server certificate not",
    "sni_dependent": "Server certificate not",
    "tls_on_plain_port": "timed out while receiving the initial server greeting",
    "dh_too_small": "Cannot start TLS: handshake failure",
    # TLSv1.3: Postfix's handshake completes; the server's alert ends the session at EHLO.
    "client_cert_required": ("Cannot start TLS: handshake failure", "while performing the EHLO handshake"),
    "handshake_failed": "Cannot start TLS: handshake failure",
    "connect_failed": "Connection refused",
    "banner_rejected": "refused to talk to me",
    "tlsa_mismatch": ("Server certificate not verified",),
    "dnssec_bogus": ("TLSA lookup error",),
    "dane_required": ("non DNSSEC destination", "no TLSA records found"),
    # dane-only: no record Postfix keeps (before connecting), or none OpenSSL takes.
    "tlsa_unusable": ("TLSA records unusable", "Server certificate not verified"),
}
# What `mxtls report` may classify Postfix's own log lines as, per mxtls
# reason: the MTA sees less than the probe (alert 40 is how a cipher, a
# signature-algorithm and, at OpenSSL level 1, a version mismatch all look;
# TLSv1.0/1.1 fail at level 1 as "legacy sigalg"; without a library
# problem line Postfix says only "handshake failure").
MTA_REASONS = {
    "protocol_version": {"protocol_version", "legacy_sigalg", "no_shared_cipher", "handshake_failed"},
    "no_shared_cipher": {"no_shared_cipher", "handshake_failed"},
    "legacy_sigalg": {"legacy_sigalg", "no_shared_cipher", "handshake_failed"},
    "sni_dependent": {"cert_host_mismatch"},
    "tls_on_plain_port": {"timeout"},
    "dnssec_bogus": {"dns_failure", "dnssec_bogus"},
    "tlsa_unusable": {"tlsa_unusable", "tlsa_mismatch"},
    # The server's alert after its CertificateRequest is all Postfix logs.
    "client_cert_required": {"client_cert_required", "no_shared_cipher", "handshake_failed"},
}
# `mxtls report --what-if` from a store probed once at may, per scenario
# whose Postfix outcomes the scenario tests recorded (test_what_if_...).
WHAT_IF = {
    "encrypt": "smtp_tls_security_level=encrypt",
    "secure": "smtp_tls_security_level=secure",
    "verify": "smtp_tls_security_level=verify",
    "may, smtp_tls_protocols = >=TLSv1.2": "smtp_tls_protocols=>=TLSv1.2",
}
# Exim and OpenSMTPD destinations (cases.py MTA_CASES).
MTA_NAMES = {c.name for c in MTA_CASES}
# A timeout is a greeting timeout or a handshake timeout, depending on where the server stalled.
TIMEOUT_EVIDENCE = ("timed out while receiving the initial server greeting", "Cannot start TLS: handshake failure")


def queue():
    out = subprocess.run(["postqueue", "-j"], capture_output=True, text=True, check=True).stdout
    return {r["address"]: r.get("delay_reason") for m in map(json.loads, out.splitlines()) for r in m["recipients"]}


def settle(expected_min_wait=0.0, timeout=60):
    """Waits until every queued recipient has been tried (has a delay reason)."""
    start = time.time()
    while time.time() - start < timeout:
        q = queue()
        if time.time() - start >= expected_min_wait and all(reason for reason in q.values()):
            return q
        time.sleep(0.3)
    raise AssertionError(f"Postfix queue did not settle in {timeout}s: {queue()}")


class PostfixGroundTruth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-postfix", BUILD, dnssec=True, mtas=True).start()
        cls.lab.start_postfix(RETRY_SETTINGS)
        cls.rows = []
        cls.outcomes = {}  # scenario -> Postfix's outcomes, for test_what_if_matches_postfix

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        print("\ncase              scenario                              postfix                mxtls                  reason", file=sys.stderr)
        for row in cls.rows:
            print("%-17s %-37s %-22s %-22s %s" % row, file=sys.stderr)

    def delivered(self, case):
        # A case whose MX is another case's host (danehalf) shares its log:
        # the recipient tells them apart.
        if case in MTA_NAMES:  # Exim, OpenSMTPD: what they say they took (lab.py mta_delivery)
            return self.lab.mta_delivery(case, wait=f"user@{case}.test" not in queue())
        c = next((d for d in DANE_CASES if d.name == case), None)
        server = c.mx_host[len("mx."):-len(".test")] if c and c.mx_host else case
        # A case of several addresses is delivered by the servers behind them.
        a = next((d for d in ADDR_CASES if d.name == case), None)
        servers = {b for _, _, addrs in a.mx for _, b in addrs if b} if a else {server}
        logs = [self.lab.spool / f"{s}.log" for s in servers]
        lines = [l for log in logs if log.exists() for l in log.read_text().splitlines() if f"rcpt=<user@{case}.test>" in l]
        if not lines:
            return None
        return "plaintext" if "tls=none" in lines[0] else "tls"

    @staticmethod
    def cases(scenario):
        if scenario == SLOW_SCENARIO:
            return SLOW_CASES + [c for c in CASES if c.name == "healthy12"]
        return CASES + MTA_CASES + (DANE_CASES if scenario in DANE_SCENARIOS else []) + ADDR_CASES + SLOW_CASES

    def postfix_outcomes(self, scenario):
        """Sends one message per case and returns {case: (outcome, deferral text)}."""
        cases = self.cases(scenario)
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        log = self.lab.dir / "postfix.log"
        self.log_start = log.stat().st_size if log.exists() else 0
        for f in self.lab.spool.glob("*.log"):
            f.unlink()
        self.lab.forget_mta_deliveries()
        self.lab.postfix_reconfigure({**RETRY_SETTINGS, **SCENARIOS[scenario]})
        sent = time.time()
        for c in cases:
            subprocess.run(["sendmail", "-f", "", f"user@{c.name}.test"], check=True, text=True,
                           input=f"Subject: ground truth {c.name} / {scenario}\n\nmxtls ground truth\n")
        first = settle(expected_min_wait=1.0)
        first_delivery = {c.name: self.delivered(c.name) for c in cases}
        # Let minimal_backoff_time pass, then have Postfix retry everything deferred.
        time.sleep(max(0.0, sent + 2.5 - time.time()))
        subprocess.run(["postqueue", "-f"], check=True)
        second = settle(expected_min_wait=1.0)
        outcomes = {}
        for c in cases:
            rcpt = f"user@{c.name}.test"
            if first_delivery[c.name]:
                outcomes[c.name] = (first_delivery[c.name], "")
            elif rcpt in second:
                outcomes[c.name] = ("deferred", second[rcpt])
            elif self.delivered(c.name) == "plaintext":
                outcomes[c.name] = ("plaintext_after_delay", first.get(rcpt, ""))
            elif self.delivered(c.name) == "tls":
                outcomes[c.name] = ("tls_after_delay", first.get(rcpt, ""))
            else:
                outcomes[c.name] = ("bounced", "")
        return outcomes

    def mxtls_predictions(self, cases):
        r = self.lab.probe("--json", "--profile", "postfix", *[f"{c.name}.test" for c in cases])
        self.assertIn(r.returncode, (0, 1, 2, 3), r.stderr)
        return {d["destination"][:-len(".test")]: d["result"] for d in json.loads(r.stdout)}

    def mta_log_reasons(self):
        """`mxtls report` on the lines Postfix logged in this scenario: {case: reason}."""
        log = (self.lab.dir / "postfix.log").read_bytes()[self.log_start:]
        r = subprocess.run([str(self.lab.mxtls), "report", "--json", "--config", str(self.lab.conf), "--log", "-"],
                           input=log, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {d["domain"][:-len(".test")]: d["reason"] for d in json.loads(r.stdout)["mta"] if d["reason"]}

    def check_scenario(self, scenario):
        postfix = self.postfix_outcomes(scenario)
        self.outcomes[scenario] = postfix
        mxtls = self.mxtls_predictions(self.cases(scenario))
        mta_reasons = self.mta_log_reasons()
        for c in self.cases(scenario):
            outcome, why = postfix[c.name]
            got = mxtls[c.name]
            self.rows.append((c.name, scenario, outcome, got["outcome"], got["reason"]))
            with self.subTest(case=c.name, scenario=scenario):
                self.assertEqual(got["outcome"], outcome, f"Postfix said: {why!r}; mxtls: {got}")
                if getattr(c, "expect", None):
                    expected = c.expect[DANE_SCENARIOS.index(scenario)]
                    self.assertEqual((outcome, got["reason"]), expected, f"Postfix said: {why!r}; mxtls: {got}")
                if why and outcome in ("deferred", "plaintext_after_delay"):
                    evidence = EVIDENCE.get(got["reason"], "?")
                    evidence = TIMEOUT_EVIDENCE if got["reason"] == "timeout" else evidence if isinstance(evidence, tuple) else (evidence,)
                    self.assertTrue(any(e in why for e in evidence),
                                    f"reason {got['reason']} does not fit Postfix's {why!r}")
                # Postfix's log may lose lines (postlogd in a namespace): judge what is there.
                if outcome in ("deferred", "plaintext_after_delay") and c.name in mta_reasons:
                    allowed = MTA_REASONS.get(got["reason"], {got["reason"]})
                    self.assertIn(mta_reasons[c.name], allowed,
                                  f"mxtls report classified Postfix's log as {mta_reasons[c.name]}, mxtls probe said {got['reason']}")
        return mxtls

    def test_may(self):
        self.check_scenario("may")

    def test_encrypt(self):
        self.check_scenario("encrypt")

    def test_secure(self):
        self.check_scenario("secure")

    def test_verify(self):
        self.check_scenario("verify")

    def test_may_with_tls12_minimum(self):
        self.check_scenario("may, smtp_tls_protocols = >=TLSv1.2")

    def test_slow_greetings_within_smtp_helo_timeout(self):
        """Postfix waiting 15 s delivers to a server that greets after 12 s
        and to one whose multi-line greeting pauses 6 s (and drops early
        talkers); mxtls, reading the same smtp_helo_timeout, predicts both,
        and notes the 12 s greeting."""
        got = self.check_scenario(SLOW_SCENARIO)["slowgreet"]
        self.assertEqual((got["outcome"], got["reason"]), ("tls", "slow_greeting"), got)

    def test_dane(self):
        self.check_scenario("dane")

    def test_dane_only(self):
        self.check_scenario("dane-only")

    def test_other_mta_families_under_the_strict_profile(self):
        """Exim and OpenSMTPD destinations get the reasons cases.py gives them
        under the lab's strict custom profile."""
        r = self.lab.probe("--json", *[f"{c.name}.test" for c in MTA_CASES], conf=self.lab.strict_conf)
        got = {d["destination"][:-len(".test")]: d["result"] for d in json.loads(r.stdout)}
        for c in MTA_CASES:
            with self.subTest(case=c.name):
                self.assertEqual(got[c.name]["reason"], c.strict_reason, got[c.name]["detail"])

    def test_hostile_tlsa_rrsets_are_bounded(self):
        """1,000 TLSA records: bogus when too big to validate (80 KB canonical
        form), else Postfix's first 100 count; either way a clear reason,
        quickly, in bounded memory, with a bounded report."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.time()
        # custom: mxtls alone decides DNSSEC (the lab main.cf may lack smtp_dns_support_level = dnssec)
        r = self.lab.probe("--json", "--profile", "custom", "--security-level", "dane-only", "daneflood.dnssec.test", "danefloodsmall.dnssec.test")
        elapsed = time.time() - start
        rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.assertIn(r.returncode, (2,), r.stderr)
        docs = {d["destination"]: d for d in json.loads(r.stdout)}
        print(f"\nhostile TLSA RRsets: probe {elapsed:.2f}s, peak RSS of children {rss_kib} KiB, JSON {len(r.stdout)} bytes",
              file=sys.stderr)
        self.assertLess(elapsed, 10.0)
        self.assertLess(len(r.stdout), 64 * 1024)
        if rss_kib > before:  # the probe was the largest child so far: it is its own peak
            self.assertLess(rss_kib, 200 * 1024)
        big = docs["daneflood.dnssec.test"]["result"]
        self.assertEqual((big["outcome"], big["reason"]), ("deferred", "dnssec_bogus"))
        small = docs["danefloodsmall.dnssec.test"]
        self.assertEqual((small["result"]["outcome"], small["result"]["reason"]), ("deferred", "tlsa_unusable"))
        dane = small["hosts"][0]["dane"]
        self.assertEqual(dane["records_total"], 1000)
        self.assertEqual(len(dane["records"]), 100)
        self.assertIn("Postfix reads the first 100", small["result"]["detail"])
        text = self.lab.probe("--profile", "custom", "--security-level", "dane", "danefloodsmall.dnssec.test").stdout
        self.assertIn("... and 980 more record(s)", text)
        self.assertLess(text.count("\n"), 120)

    def test_what_if_matches_postfix(self):
        """Issue 12's what-if: every case probed once at may into a store
        (`mxtls probe --store`), then `mxtls report --what-if` per scenario
        (encrypt, secure, verify, >=TLSv1.2 at may) must say what the real
        Postfix did after the change (the outcomes test_encrypt,
        test_secure, test_verify and test_may_with_tls12_minimum recorded:
        no deliveries of its own; it sorts after them), and the verdict
        re-judged under the current settings (may) what Postfix did at may.
        Three times: probed with the full survey, with mxtls-policyd's
        default (on-failure), and without it. A definite answer must equal
        Postfix's outcome; "unknown" (the stored facts cannot tell) and "not
        judged" (no facts stored) are counted and listed, and with a survey
        there must be none."""
        missing = [s for s in WHAT_IF if s not in self.outcomes]
        if missing:
            self.skipTest(f"needs the Postfix outcomes of {missing}: run the whole file")
        lab = self.lab
        lab.postfix_reconfigure({**RETRY_SETTINGS, **SCENARIOS["may"]})
        cases = self.cases("may")
        # With the full survey, as mxtls-policyd surveys by default (only
        # when the compat handshake fails, is anonymous or finds a
        # certificate problem), and without it (the negotiated version alone
        # must do).
        for variant, survey in (("survey", "always"), ("on-failure survey", "on-failure"), ("no survey", "no")):
            options = ["--survey", survey]
            store = lab.dir / f"whatif-{survey}.db"
            store.unlink(missing_ok=True)
            conf = lab.dir / f"mxtls-whatif-{survey}.conf"
            conf.write_text(lab.conf.read_text() + f"\n[store]\npath = {store}\n")
            r = lab.probe("--store", *options, *[f"{c.name}.test" for c in cases], conf=conf)
            self.assertIn(r.returncode, (0, 1, 2, 3), r.stderr)
            tally = {"agree": 0, "unknown": 0, "not judged": 0, "disagree": 0}
            for scenario, change in WHAT_IF.items():
                r = subprocess.run([str(lab.mxtls), "report", "--json", "--config", str(conf), "--what-if", change],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stderr)
                rows = {d["domain"][:-len(".test")]: d for d in json.loads(r.stdout)["what_if"]["destinations"]}
                for c in cases:
                    self.check_what_if(c.name, f"what-if ({variant}) {change}", self.outcomes[scenario][c.name], rows.get(c.name), tally)
                    if scenario == "encrypt" and "may" in self.outcomes:  # the current settings, judged from the same facts
                        self.check_what_if(c.name, f"what-if ({variant}) now: may", self.outcomes["may"][c.name], rows.get(c.name), tally, "now")
            scenarios = len(WHAT_IF) + ("may" in self.outcomes)
            print(f"\nwhat-if ({variant}) vs Postfix, {len(cases)} cases x {scenarios} scenarios: {tally}", file=sys.stderr)
            if survey != "no":  # the survey's handshakes leave no lab case unjudged
                self.assertEqual(tally["unknown"] + tally["not judged"], 0, f"what-if ({variant}): {tally}")

    def check_what_if(self, case, label, postfix, row, tally, judged="proposed"):
        outcome = postfix[0]
        with self.subTest(case=case, what_if=label):
            self.assertIsNotNone(row, f"{case} missing from the what-if report")
            if row["effect"] == "not_judged" or row[judged] is None:
                kind = "not judged" if row["effect"] == "not_judged" else "unknown"
                tally[kind] += 1
                self.rows.append((case, label, outcome, kind, row["why"][:90]))
                return
            got = row[judged]
            tally["agree" if got["outcome"] == outcome else "disagree"] += 1
            self.rows.append((case, label, outcome, got["outcome"], got["reason"]))
            self.assertEqual(got["outcome"], outcome, f"Postfix: {postfix!r}; what-if: {row}")

    def start_sts(self):
        lab = self.lab
        if not getattr(lab, "sts_started", False):
            lab.start_sts_hosts()
            lab.start_mta_sts_daemon(8461)
            lab.sts_started = True

    def test_mta_sts_with_postfix_mta_sts_resolver(self):
        """Postfix at may with Debian's postfix-mta-sts-resolver in
        smtp_tls_policy_maps delivers to each MTA-STS case; mxtls probe
        (MTA-STS on, the lab CA for policy fetches) predicts every outcome."""
        self.start_sts()
        self.check_mta_sts("mta-sts-daemon", "socketmap:inet:127.0.0.1:8461:postfix")

    def test_mta_sts_with_mxtls_tlspolicy(self):
        """The same with mxtls-policyd's tlspolicy map (tlspolicy_source =
        dane-sts) in place of postfix-mta-sts-resolver: the drop-in."""
        self.start_sts()
        lab = self.lab
        lab.start_policyd(policy_extra=f"""tlspolicy_source = dane-sts

[mta_sts]
ca_file = {lab.certs}/ca.pem
fetch_timeout = 4s
""", level="may")
        try:
            self.check_mta_sts("mxtls tlspolicy", f"socketmap:unix:{lab.socketmap_socket}:tlspolicy")
        finally:
            lab.stop_policyd()

    def check_mta_sts(self, label, policy_map):
        lab = self.lab
        subprocess.run(["postsuper", "-d", "ALL"], capture_output=True)
        for c in STS_CASES:
            mx_case = lab.spool / f"{c.mx}.msgs"
            mx_case.unlink(missing_ok=True)
        lab.postfix_reconfigure({**RETRY_SETTINGS, "smtp_tls_security_level": "may",
                                 "smtp_tls_policy_maps": policy_map})
        cases = [c for c in STS_CASES if not c.hostile]
        for c in cases:
            subprocess.run(["sendmail", "-f", "", f"user@{c.name}.test"], check=True, text=True,
                           input=f"Subject: ground truth {c.name} / {label}\n\nmxtls ground truth\n")
        # The resolver fetches each policy (up to 4 s); then every recipient is delivered or deferred.
        deadline = time.time() + 60
        while time.time() < deadline:
            q = queue()
            pending = [c for c in cases if f"user@{c.name}.test" in q and not q[f"user@{c.name}.test"]]
            if not pending and time.time() > deadline - 55:
                break
            time.sleep(0.5)
        q = queue()
        r = lab.probe("--json", "--profile", "postfix", *[f"{c.name}.test" for c in cases], conf=lab.sts_conf())
        mxtls = {d["destination"][:-len(".test")]: d["result"] for d in json.loads(r.stdout)}
        for c in cases:
            rcpt = f"user@{c.name}.test"
            delivered = any(f"ground truth {c.name} / {label}" in m for m in lab.delivered_messages(c.mx))
            outcome = "tls" if delivered else "deferred" if rcpt in q else "bounced"
            got = mxtls[c.name]
            self.rows.append((c.name, f"may + {label}", outcome, got["outcome"], got["reason"]))
            with self.subTest(case=c.name):
                self.assertEqual(got["outcome"], outcome, f"Postfix queue: {q.get(rcpt)!r}; mxtls: {got}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
