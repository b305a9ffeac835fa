"""MTA-STS in the lab: `mxtls probe` verdicts for every STS case (policies
served by Debian's nginx with certificates from the lab CA), the drop-in
tlspolicy socketmap (tlspolicy_source = dane-sts) diffed against Debian's
postfix-mta-sts-resolver (mta-sts-daemon) asked the same questions over the
same lab DNS and HTTPS, the TLSRPT attributes, and the hostile policy hosts
(10 MB policy, slow-loris server, 60 KB TXT record): a clear reason each,
in bounded time and memory. Runs inside tests/lab/netns-run.

usage: mta_sts_test.py BUILD_DIR"""

import json
import os
import resource
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import STS_CASES  # noqa: E402
from lab import Lab, socketmap_query, tcp_socketmap_query, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
DAEMON_PORT = 8461


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-sts", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()
    lab.start_sts_hosts()


def normalize(answer):
    """A socketmap answer as a comparable value: NOTFOUND, or the level with
    its attributes, match= as a set (mta-sts-daemon orders the patterns by
    Python's set iteration, which varies from run to run)."""
    answer = answer.strip()
    if answer.startswith("NOTFOUND"):
        return ("NOTFOUND",)
    status, _, value = answer.partition(" ")
    words = value.split()
    attrs = tuple(sorted(w for w in words[1:] if not w.startswith("match=")))
    match = frozenset(p for w in words if w.startswith("match=") for p in w[len("match="):].split(":"))
    return (status, words[0], match, attrs)


class ProbeVerdicts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cases = [c for c in STS_CASES if not c.hostile]
        r = lab.probe("--json", *[f"{c.name}.test" for c in cases], conf=lab.sts_conf())
        cls.results = {d["destination"]: d for d in json.loads(r.stdout)}

    def test_each_case_has_its_verdict(self):
        for c in STS_CASES:
            if c.hostile:
                continue
            with self.subTest(case=c.name):
                got = self.results[f"{c.name}.test"]["result"]
                self.assertEqual((got["reason"], got["outcome"]), (c.reason, c.outcome), got["detail"])

    def test_policy_and_match_are_shown(self):
        sts = self.results["sts-enforce.test"]["mta_sts"]
        self.assertEqual(sts["policy"]["mode"], "enforce")
        self.assertEqual(sts["policy"]["mx"], ["mx.sts-enforce.test"])
        self.assertEqual(sts["id"], "20240101T000000")
        host = self.results["sts-enforce.test"]["hosts"][0]["mta_sts"]
        self.assertTrue(host["mx_matches"])
        self.assertTrue(host["certificate_matches_policy"])
        miss = self.results["sts-mismatch.test"]["hosts"][0]["mta_sts"]
        self.assertFalse(miss["mx_matches"])
        self.assertIn("matches none", miss["explanation"])
        self.assertEqual(self.results["sts-mismatch.test"]["result"]["rfc8460"], "validation-failure")
        self.assertEqual(self.results["sts-webpki.test"]["result"]["rfc8460"], "sts-webpki-invalid")
        fetch = self.results["sts-unreachable.test"]["mta_sts"]
        self.assertIsNone(fetch["policy"])
        self.assertEqual(fetch["problem"], "sts_policy_fetch_failed")
        self.assertIn("connect", fetch["problem_detail"])
        self.assertIn("redirect", self.results["sts-redirect.test"]["mta_sts"]["problem_detail"])
        self.assertIn("text/html", self.results["sts-badtype.test"]["mta_sts"]["problem_detail"])
        self.assertIn("max_age", self.results["sts-invalid.test"]["mta_sts"]["problem_detail"])

    def test_text_report_explains_the_match(self):
        r = lab.probe("sts-mismatch.test", conf=lab.sts_conf())
        self.assertIn("MTA-STS   record \"v=STSv1; id=20240101T000000;\"", r.stdout)
        self.assertIn("policy enforce, max_age 86400, mx mx.elsewhere.test", r.stdout)
        self.assertIn("mx.sts-mismatch.test matches none of the policy's mx patterns", r.stdout)
        self.assertIn("reason sts_mx_mismatch", r.stdout)
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_not_enforced_is_a_warning(self):
        r = lab.probe("--json", "sts-mismatch.test", conf=lab.sts_conf("enforce = no"))
        got = json.loads(r.stdout)["result"]
        self.assertEqual((got["reason"], got["verdict"], got["outcome"]), ("sts_mx_mismatch", "warning", "tls"))

    def test_private_policy_host_is_refused_like_probes(self):
        conf = lab.sts_conf()
        text = conf.read_text().replace("allow_private_targets = yes", "allow_private_targets = no")
        strict = lab.dir / "mxtls-sts-public.conf"
        strict.write_text(text)
        r = lab.probe("--json", "sts-enforce.test", conf=strict)
        sts = json.loads(r.stdout)["mta_sts"]
        self.assertEqual(sts["problem"], "sts_policy_fetch_failed")
        self.assertIn("not a public address", sts["problem_detail"])


def start_dane_sts_policyd():
    """mxtls-policyd answering the tlspolicy socketmap from published policies (DANE, MTA-STS)."""
    lab.start_policyd(policy_extra=f"""tlspolicy_source = dane-sts

[mta_sts]
ca_file = {lab.certs}/ca.pem
fetch_timeout = 4s
""")


class DropInSocketmap(unittest.TestCase):
    """tlspolicy_source = dane-sts answers what postfix-mta-sts-resolver answers."""

    @classmethod
    def setUpClass(cls):
        start_dane_sts_policyd()
        cls.addClassCleanup(lab.stop_policyd)
        lab.start_mta_sts_daemon(DAEMON_PORT)

    def test_answers_match_postfix_mta_sts_resolver(self):
        for c in STS_CASES:
            domain = f"{c.name}.test"
            with self.subTest(case=c.name):
                ours = socketmap_query(lab.socketmap_socket, "tlspolicy", domain)
                theirs = tcp_socketmap_query(DAEMON_PORT, "postfix", domain)
                expected = "NOTFOUND " if c.answer == "NOTFOUND" else "OK " + c.answer
                self.assertEqual(normalize(ours), normalize(expected), ours)
                if c.daemon_answer is None:
                    self.assertEqual(normalize(ours), normalize(theirs), f"ours {ours!r}, mta-sts-daemon {theirs!r}")
                else:  # a difference on purpose (see cases.py)
                    self.assertEqual(normalize(theirs), normalize("OK " + c.daemon_answer), theirs)

    def test_second_answer_comes_from_the_cache(self):
        socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-enforce.test")
        start = time.time()
        for _ in range(100):
            ours = socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-enforce.test")
        self.assertLess(time.time() - start, 2.0)
        self.assertEqual(ours, "OK secure match=mx.sts-enforce.test servername=hostname")

    def test_parent_domains_and_next_hops_are_not_found(self):
        for key in (".test", "[mx.healthy12.test]:25", "[127.0.0.10]"):
            with self.subTest(key=key):
                self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", key), "NOTFOUND ")


class PolicyCacheByIdAndExpiry(unittest.TestCase):
    """mxtls-policyd's policy cache (RFC 8461 3.3, 5): the same TXT id keeps
    the cached policy even when the file changed; a new id fetches the new
    policy; a failed fetch keeps the cached policy while it is unexpired."""

    @classmethod
    def setUpClass(cls):
        cls.case = next(c for c in STS_CASES if c.name == "sts-rotate")
        cls.policy_file = lab.dir / "sts-www" / "sts-rotate" / ".well-known" / "mta-sts.txt"
        cls.original = (cls.case.txt, cls.policy_file.read_text())
        lab.start_policyd(policy_extra=f"""tlspolicy_source = dane-sts

[mta_sts]
ca_file = {lab.certs}/ca.pem
fetch_timeout = 4s
recheck = 1s
""")
        cls.addClassCleanup(cls.restore)
        cls.addClassCleanup(lab.stop_policyd)

    @classmethod
    def restore(cls):
        cls.case.txt, text = cls.original
        cls.policy_file.write_text(text)
        lab.restart_unbound()

    @staticmethod
    def answer_after_refresh(expected=None):
        """An answer once the background re-check (recheck = 1s) has run;
        with `expected`, asks until that is the answer (at most 20 s)."""
        deadline = time.time() + 20
        while True:
            time.sleep(1.2)
            socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-rotate.test")  # starts the re-check
            time.sleep(2.0)
            answer = socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-rotate.test")
            if expected is None or answer == expected or time.time() > deadline:
                return answer

    def test_id_drives_refetch_and_a_failed_fetch_keeps_the_cached_policy(self):
        first = "OK secure match=mx.sts-rotate.test servername=hostname"
        second = "OK secure match=mx.rotated.test servername=hostname"
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-rotate.test"), first)
        # A new policy file under the same id: the cached policy stays.
        self.policy_file.write_text(self.original[1].replace("mx.sts-rotate.test", "mx.rotated.test"))
        self.assertEqual(self.answer_after_refresh(), first)
        # A new id: the new policy is fetched.
        self.case.txt = "v=STSv1; id=20240202T000000;"
        lab.restart_unbound()
        self.assertEqual(self.answer_after_refresh(second), second)
        # Another id, but the policy host answers 404: the cached policy (unexpired) still applies.
        self.policy_file.unlink()
        self.case.txt = "v=STSv1; id=20240303T000000;"
        lab.restart_unbound()
        self.assertEqual(self.answer_after_refresh(), second)
        # Without a cache (a fresh `mxtls probe`) the same fetch is the finding.
        r = lab.probe("--json", "sts-rotate.test", conf=lab.sts_conf())
        sts = json.loads(r.stdout)["mta_sts"]
        self.assertEqual(sts["problem"], "sts_policy_fetch_failed")
        self.assertIn("HTTP 404", sts["problem_detail"])


class TlsrptAttributes(unittest.TestCase):
    """tlspolicy_tlsrpt = yes: the attributes Postfix 3.10+ reads."""

    @classmethod
    def setUpClass(cls):
        lab.start_policyd(policy_extra=f"""tlspolicy_source = both
tlspolicy_tlsrpt = yes

[mta_sts]
ca_file = {lab.certs}/ca.pem
fetch_timeout = 4s
""")
        cls.addClassCleanup(lab.stop_policyd)

    def test_enforce_answer_has_the_policy(self):
        ours = socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-wildcard.test")
        self.assertTrue(ours.startswith("OK secure match=.sts-wildcard.test:mx.backup.test servername=hostname "), ours)
        for attr in ("policy_type=sts", "policy_domain=sts-wildcard.test", "mx_host_pattern=*.sts-wildcard.test",
                     "mx_host_pattern=mx.backup.test", "{ policy_string = version: STSv1 }",
                     "{ policy_string = mode: enforce }", "{ policy_string = max_age: 86400 }"):
            self.assertIn(attr, ours)
        self.assertNotIn("policy_failure", ours)

    def test_policy_failure_once_the_probe_found_no_mx_satisfies_it(self):
        lab.learn("sts-mismatch.test")
        ours = socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-mismatch.test")
        self.assertIn("policy_failure=validation-failure", ours)
        lab.learn("sts-webpki.test")
        ours = socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-webpki.test")
        self.assertIn("policy_failure=sts-webpki-invalid", ours)

    def test_both_falls_back_to_the_probe_rules(self):
        # No published policy: the probe-derived answer (NOTFOUND for a healthy destination).
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", "healthy12.test"), "NOTFOUND ")


class LookupsOffTheAnsweringThread(unittest.TestCase):
    """The socketmap's first lookup of a domain's policy (TXT record, HTTPS
    fetch) runs on the probe thread, whose DNS resolver is up from the
    start: the answer comes and no thread starts for it. A lookup on the
    answering thread would start a resolver there, and with it libunbound's
    worker thread, named after the answering thread."""

    @classmethod
    def setUpClass(cls):
        start_dane_sts_policyd()
        cls.addClassCleanup(lab.stop_policyd)

    @staticmethod
    def threads():
        tasks = Path(f"/proc/{lab.policyd_proc.pid}/task")
        return {t.name: (t / "comm").read_text().strip() for t in tasks.iterdir()}

    def test_first_lookup_answers_and_starts_no_thread(self):
        # The probe thread starts just after the sockets listen: it and its resolver's worker first.
        wait_for(lambda: list(self.threads().values()).count("mxtls-probe") >= 2, timeout=30, what="the probe thread")
        before = self.threads()
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", "sts-enforce.test"),
                         "OK secure match=mx.sts-enforce.test servername=hostname")
        self.assertEqual(self.threads(), before)


class Hostile(unittest.TestCase):
    """A clear reason for each, within the fetch deadline, in bounded memory."""

    def test_hostile_policy_hosts(self):
        cases = [c for c in STS_CASES if c.hostile]
        start = time.time()
        r = lab.probe("--json", *[f"{c.name}.test" for c in cases], conf=lab.sts_conf())
        elapsed = time.time() - start
        results = {d["destination"]: d for d in json.loads(r.stdout)}
        for c in cases:
            with self.subTest(case=c.name):
                got = results[f"{c.name}.test"]
                self.assertEqual(got["result"]["reason"], c.reason, got["mta_sts"])
                self.assertEqual(got["result"]["outcome"], "tls")
        self.assertIn("over the limit", results["sts-huge.test"]["mta_sts"]["problem_detail"])
        self.assertIn("no complete answer within 4.0s", results["sts-slow.test"]["mta_sts"]["problem_detail"])
        self.assertIn("over the limit", results["sts-bigtxt.test"]["mta_sts"]["problem_detail"])
        # The probes run in parallel; the slow-loris host is cut at fetch_timeout (4s).
        self.assertLess(elapsed, 30)
        max_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # A 10 MB policy is not held whole; the sanitizer build's shadow
        # memory and quarantine about double any process's RSS.
        self.assertLess(max_rss_mb, 400 if "ASAN_OPTIONS" in os.environ else 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
