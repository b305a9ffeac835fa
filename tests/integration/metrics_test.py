"""Prometheus metrics (issue 14, item 4): mxtls-policyd's and mxtls-milter's
endpoints scraped by a real Prometheus client parser (Debian's
python3-prometheus-client), each value checked against the traffic the test
sent. Runs inside tests/lab/netns-run.

usage: metrics_test.py BUILD_DIR"""

import socket
import sys
import tempfile
import unittest
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_exchange, socketmap_query, wait_for  # noqa: E402
from milter_client import MilterSession  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
POLICYD = "127.0.0.1:9478"
MILTER = "127.0.0.1:9479"
lab = None


def scrape(where):
    """{(name, frozenset(labels)): value} of every sample the endpoint serves."""
    text = urllib.request.urlopen(f"http://{where}/metrics", timeout=5).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-metrics", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd(sections=f"[metrics]\nlisten = inet:{POLICYD}\nmilter_listen = inet:{MILTER}\n")
    for domain in ("nostarttls.test", "healthy12.test"):
        lab.learn(domain)


class Metrics(unittest.TestCase):
    def test_policyd(self):
        before = scrape(POLICYD)
        with socket.create_connection(("127.0.0.1", lab.POLICY_PORT), timeout=10) as s:
            for _ in range(7):
                self.assertTrue(policy_exchange(s, "user@nostarttls.test").startswith(b"action=DEFER"))
            for _ in range(5):
                self.assertEqual(policy_exchange(s, "user@healthy12.test"), b"action=DUNNO\n\n")
            for _ in range(3):
                self.assertEqual(policy_exchange(s, "user@never-seen.test"), b"action=DUNNO\n\n")
        for _ in range(4):
            self.assertEqual(socketmap_query(lab.socketmap_socket, "transport", "user@nostarttls.test"), "NOTFOUND ")
        after = scrape(POLICYD)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(delta("mxtls_decisions_total", action="defer", reason="starttls_not_offered"), 7)
        self.assertEqual(delta("mxtls_decisions_total", action="dunno", reason="ok"), 5)
        self.assertEqual(delta("mxtls_decisions_total", action="dunno", reason="unknown"), 3)
        self.assertEqual(delta("mxtls_socketmap_lookups_total", map="transport", result="notfound"), 4)
        # The two learnt destinations were probed once each before the scrape.
        self.assertEqual(value(before, "mxtls_probes_total", severity="incompatible", reason="starttls_not_offered"), 1)
        self.assertEqual(value(before, "mxtls_probes_total", severity="ok", reason="ok"), 1)
        self.assertGreaterEqual(value(before, "mxtls_probe_duration_seconds_count"), 2)
        # The gauges are sampled every 5 s.
        gauges = wait_for(lambda: (lambda s: s if value(s, "mxtls_verdicts_cached", severity="ok") >= 1 else None)(
            scrape(POLICYD)), timeout=10, what="the sampled gauges")
        self.assertEqual(value(gauges, "mxtls_verdicts_cached", severity="incompatible"), 1)
        self.assertEqual(value(gauges, "mxtls_store_up"), 1)
        self.assertEqual(value(gauges, "mxtls_store_errors_total"), 0)
        self.assertIn(("mxtls_probe_queue_depth", frozenset()), gauges)

    def test_milter(self):
        lab.start_milter()
        before = scrape(MILTER)
        session = MilterSession(lab.milter_socket)
        self.assertIn(session.connect(), (b"c", None))  # None: no reply negotiated
        self.assertIn(session.mail("sender@lab.test"), (b"c", None))
        for _ in range(2):
            self.assertEqual(session.rcpt("user@nostarttls.test"), b"y")  # tempfailed: defer
        for _ in range(3):
            self.assertEqual(session.rcpt("user@healthy12.test"), b"c")
        session.eom()
        session.close()
        after = scrape(MILTER)
        self.assertEqual(value(after, "mxtls_milter_recipients_total", action="defer")
                         - value(before, "mxtls_milter_recipients_total", action="defer"), 2)
        self.assertEqual(value(after, "mxtls_milter_recipients_total", action="dunno")
                         - value(before, "mxtls_milter_recipients_total", action="dunno"), 3)
        self.assertEqual(value(after, "mxtls_milter_engine_failures_total"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
