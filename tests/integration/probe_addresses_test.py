"""`mxtls probe` and the addresses of a destination (issue 11): every MX
address is probed as Postfix tries them (inet_protocols,
smtp_address_preference, read from the lab's main.cf), the first address
that takes the mail decides, a broken one before or beside it is a finding
that names it; the report shows each address. The lab's Postfix outcomes
for the same destinations are in postfix_ground_truth_test.py. Runs inside
tests/lab/netns-run.

usage: probe_addresses_test.py BUILD_DIR"""

import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import ADDR_CASES  # noqa: E402
from lab import Lab  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-addresses", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()


def probe(*args, conf=None):
    r = lab.probe("--json", *args, conf=conf)
    docs = json.loads(r.stdout)
    return {d["destination"]: d for d in (docs if isinstance(docs, list) else [docs])}


class Addresses(unittest.TestCase):
    def test_strict_reasons(self):
        got = probe(*[f"{c.name}.test" for c in ADDR_CASES], conf=lab.strict_conf)
        for c in ADDR_CASES:
            with self.subTest(case=c.name):
                self.assertEqual(got[f"{c.name}.test"]["result"]["reason"], c.strict_reason, got[f"{c.name}.test"]["result"])

    def test_every_address_in_postfix_order(self):
        d = probe("v6broken.test", "firstbroken.test", "twomx.test")
        v6 = d["v6broken.test"]
        # inet_protocols = all, smtp_address_preference = any: IPv6 judged first.
        self.assertEqual([h["address"] for h in v6["hosts"]], ["fd00::17", "127.0.0.10"])
        self.assertEqual(v6["decisive"], 1)
        self.assertEqual(v6["hosts"][0]["result"]["reason"], "no_shared_cipher")
        self.assertTrue(v6["hosts"][1]["alternate"])
        self.assertEqual((v6["result"]["outcome"], v6["result"]["verdict"]), ("tls", "warning"))
        self.assertIn("mx.v6broken.test[fd00::17]:25", v6["result"]["detail"])
        first = d["firstbroken.test"]
        self.assertEqual(sorted(h["result"]["reason"] for h in first["hosts"]), ["connect_failed", "ok"])
        self.assertEqual(first["result"]["outcome"], "tls")
        two = d["twomx.test"]
        self.assertEqual([h["host"] for h in two["hosts"]], ["mx1.twomx.test", "mx2.twomx.test"])
        self.assertEqual((two["result"]["outcome"], two["decisive"]), ("tls", 1))

    def test_healthy_alternate_costs_one_connection(self):
        d = probe("dualstack.test")["dualstack.test"]
        first, alternate = d["hosts"]
        self.assertTrue(any(s["attempted"] for s in first["survey"].values()))
        self.assertFalse(any(s["attempted"] for s in alternate["survey"].values()))
        self.assertEqual(d["result"]["reason"], "ok")

    def test_inet_protocols_ipv4_leaves_out_ipv6(self):
        lab.write_postfix({"inet_protocols": "ipv4"})  # the main.cf mxtls reads (no Postfix runs here)
        try:
            d = probe("v6broken.test", "v6only.test")
        finally:
            lab.write_postfix()
        self.assertEqual([h["address"] for h in d["v6broken.test"]["hosts"]], ["127.0.0.10"])
        self.assertEqual(d["v6broken.test"]["result"]["reason"], "ok")
        self.assertEqual(d["v6only.test"]["result"]["reason"], "dns_failure")
        self.assertEqual(d["v6only.test"]["hosts"][0]["failure_detail"], "mx.v6only.test A: nodata")

    def test_report_shows_each_address(self):
        text = lab.probe("v6broken.test").stdout
        self.assertIn("addresses IPv4 and IPv6, equal preference in random order", text)
        self.assertIn("MX 10 mx.v6broken.test[fd00::17]:25", text)
        self.assertIn("decides, another address of the host", text)
        self.assertIn("not surveyed (another address of the host)", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
