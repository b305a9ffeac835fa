"""`mxtls probe` against every lab destination: the reason code for each
failure case, exit statuses, literal targets, the target guard, the report
and the probe log line. Runs inside tests/lab/netns-run.

usage: probe_cases_test.py BUILD_DIR"""

import json
import re
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import CASES, PROTOCOL_VIOLATIONS, by_name  # noqa: E402
from lab import Lab  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
EXIT = {"ok": 0, "warning": 1, "incompatible": 2, "unreachable": 3}


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-probe", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()



class EveryCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = lab.probe("--json", *[f"{c.name}.test" for c in CASES], conf=lab.strict_conf)
        cls.exit_status = r.returncode
        cls.results = {d["destination"]: d for d in json.loads(r.stdout)}

    def test_each_case_has_its_reason(self):
        for c in CASES:
            with self.subTest(case=c.name):
                got = self.results[f"{c.name}.test"]["result"]
                self.assertEqual(got["reason"], c.strict_reason, got["detail"])

    def test_worst_verdict_sets_exit_status(self):
        self.assertEqual(self.exit_status, EXIT["unreachable"])

    def test_survey_lists_server_versions(self):
        hosts = self.results["tls10.test"]["hosts"]
        self.assertEqual(hosts[0]["server_versions"], ["TLSv1"])
        self.assertEqual(self.results["tls13.test"]["hosts"][0]["server_versions"], ["TLSv1.3"])

    def test_certificate_facts(self):
        leaf = self.results["weakkey.test"]["hosts"][0]["compat"]["chain"][0]
        self.assertEqual((leaf["key_type"], leaf["key_bits"]), ("RSA", 1024))
        expired = self.results["expired.test"]["hosts"][0]["compat"]["chain"][0]
        self.assertLess(expired["days_left"], 0)
        self.assertEqual(expired["not_after"], "2021-01-01")

    def test_remediation_and_rfc8460_are_reported(self):
        r = self.results["expired.test"]["result"]
        self.assertEqual(r["rfc8460"], "certificate-expired")
        self.assertIn("renew", r["remediation"])


class ProtocolViolations(unittest.TestCase):
    def test_oversized_replies_are_protocol_violations_naming_the_limit(self):
        r = lab.probe("--json", *[f"{c.name}.test" for c in PROTOCOL_VIOLATIONS], conf=lab.strict_conf)
        got = {d["destination"]: d["result"] for d in json.loads(r.stdout)}
        for c in PROTOCOL_VIOLATIONS:
            with self.subTest(case=c.name):
                self.assertEqual(got[f"{c.name}.test"]["reason"], c.strict_reason)
                self.assertEqual(got[f"{c.name}.test"]["rfc8460"], "validation-failure")
        self.assertEqual(got["hugeline.test"]["detail"], "greeting: protocol violation: reply line longer than 2048 bytes")
        self.assertEqual(got["hugeehlo.test"]["detail"], "EHLO: protocol violation: reply has more than 100 lines")


class SingleTargets(unittest.TestCase):
    def test_exit_status_per_verdict(self):
        for domain, status in [("healthy12.test", "ok"), ("snidependent.test", "warning"),
                               ("tls10.test", "incompatible"), ("refused.test", "unreachable")]:
            with self.subTest(domain=domain):
                self.assertEqual(lab.probe(domain, conf=lab.strict_conf).returncode, EXIT[status])

    def test_literal_targets_skip_mx_lookup(self):
        r = lab.probe("--json", "[mx.tls11.test]:25", "[127.0.0.10]", conf=lab.strict_conf)
        got = json.loads(r.stdout)
        self.assertEqual(got[0]["result"]["reason"], "protocol_version")
        self.assertEqual(got[1]["hosts"][0]["address"], "127.0.0.10")

    def test_guard_refuses_private_targets_unless_allowed(self):
        conf = Path(lab.dir) / "guarded.conf"
        conf.write_text(lab.strict_conf.read_text().replace("allow_private_targets = yes", "allow_private_targets = no"))
        r = lab.probe("--json", "healthy12.test", conf=conf)
        self.assertEqual(json.loads(r.stdout)["result"]["reason"], "target_forbidden")
        self.assertEqual(r.returncode, EXIT["unreachable"])
        r = lab.probe("--json", "--allow-private-targets", "healthy12.test", conf=conf)
        self.assertEqual(json.loads(r.stdout)["result"]["reason"], "ok")

    def test_text_report_reads_at_a_glance(self):
        out = lab.probe("tls10.test", conf=lab.strict_conf).stdout
        for expected in ["verdict   incompatible, reason protocol_version", "versions     TLSv1 (server accepts)",
                         "MX 10 mx.tls10.test[127.0.0.14]:25", "fix       no TLS protocol version in common"]:
            self.assertIn(expected, out)

    def test_probe_log_line_has_postfix_shape(self):
        err = lab.probe("-v", "tls10.test", conf=lab.strict_conf).stderr
        line = next(l for l in err.splitlines() if "probe: " in l)
        self.assertRegex(line, r"mxtls\[\d+\]: probe: domain=tls10\.test, mx=mx\.tls10\.test\[127\.0\.0\.14\]:25, "
                               r"starttls=yes, versions=TLSv1, .*verdict=incompatible, reason=protocol_version, ")
        self.assertRegex(line, r"elapsed=\d+\.\d\ds")

    def test_many_targets_wait_their_turn_outside_their_deadline(self):
        # One connection at once, a 2 s deadline: the tarpits time out in
        # turn; the healthy destination waits behind them, and its deadline
        # starts only with its turn.
        conf = Path(lab.dir) / "one-at-a-time.conf"
        conf.write_text(lab.strict_conf.read_text()
                        .replace("allow_private_targets = yes", "allow_private_targets = yes\nconcurrency = 1")
                        .replace("destination_timeout = 20s", "destination_timeout = 2s"))
        r = lab.probe("--json", "[127.0.0.27]", "[mx.tarpit.test]", "healthy12.test", conf=conf)
        results = {d["destination"]: d for d in json.loads(r.stdout)}
        self.assertEqual({k: d["result"]["reason"] for k, d in results.items()},
                         {"[127.0.0.27]": "timeout", "[mx.tarpit.test]": "timeout", "healthy12.test": "ok"})
        # Its time is its own probe's (milliseconds here), not the 4 s it waited.
        self.assertLess(results["healthy12.test"]["elapsed_s"], 1.0)

    def test_usage_and_config_errors(self):
        self.assertEqual(lab.probe("not a domain").returncode, 64)
        self.assertEqual(lab.probe("--bogus-flag", "x.test").returncode, 64)
        bad = Path(lab.dir) / "bad.conf"
        bad.write_text("[probe]\nport = banana\n")
        r = lab.probe("x.test", conf=bad)
        self.assertEqual(r.returncode, 78)
        self.assertIn("bad.conf:2: bad value 'banana' for 'probe.port'", r.stderr)


class PostfixProfile(unittest.TestCase):
    """The postfix profile reads the lab's main.cf (Postfix defaults plus the
    lab CA): TLSv1 is allowed and OpenSSL security level 0 accepts SHA-1."""

    def test_postfix_profile_is_more_permissive(self):
        r = lab.probe("--json", "tls10.test", "legacysig.test", "weakkey.test", conf=lab.conf)
        got = {d["destination"]: d["result"] for d in json.loads(r.stdout)}
        self.assertEqual(got["tls10.test"]["outcome"], "tls")
        self.assertEqual(got["legacysig.test"]["outcome"], "tls")
        self.assertEqual(got["legacysig.test"]["reason"], "legacy_sigalg")
        self.assertEqual(got["weakkey.test"]["reason"], "weak_key")
        self.assertEqual(got["weakkey.test"]["verdict"], "warning")


class HandshakeDetails(unittest.TestCase):
    """What the handshake itself shows under the postfix profile (level may):
    the server's DH group, an anonymous session, a demanded client certificate."""

    @classmethod
    def setUpClass(cls):
        r = lab.probe("--json", "dh768.test", "dh1024.test", "dheonly.test", "anon.test", "clientcert13.test", conf=lab.conf)
        cls.got = {d["destination"][:-len(".test")]: d for d in json.loads(r.stdout)}

    def test_accepted_small_dh_group_is_a_warning_with_its_size(self):
        d = self.got["dh1024"]
        self.assertEqual((d["result"]["reason"], d["result"]["verdict"], d["result"]["outcome"]), ("dh_too_small", "warning", "tls"))
        self.assertEqual(d["hosts"][0]["compat"]["dh_bits"], 1024)
        self.assertGreaterEqual(self.got["dheonly"]["hosts"][0]["compat"]["dh_bits"], 2048)  # dh=auto: by cipher strength
        self.assertEqual(self.got["dheonly"]["result"]["reason"], "ok")

    def test_dh_group_under_openssl_floor_fails_with_its_size(self):
        r = self.got["dh768"]["result"]
        self.assertEqual((r["reason"], r["outcome"], r["rfc8460"]), ("dh_too_small", "plaintext_after_delay", "validation-failure"))
        self.assertIn("768 bits", r["detail"])

    def test_anonymous_session_is_tls_without_certificate_findings(self):
        d = self.got["anon"]
        self.assertTrue(d["hosts"][0]["compat"]["anonymous"])
        self.assertEqual(d["hosts"][0]["compat"]["chain"], [])
        self.assertEqual((d["result"]["reason"], d["result"]["verdict"], d["result"]["findings"]), ("ok", "ok", []))

    def test_tls13_client_certificate_demand_is_seen_after_the_handshake(self):
        d = self.got["clientcert13"]
        self.assertTrue(d["hosts"][0]["compat"]["client_cert_requested"])
        self.assertEqual(d["result"]["reason"], "client_cert_required")
        self.assertIn("after the handshake", d["result"]["detail"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
