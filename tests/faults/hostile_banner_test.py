"""A destination whose greeting forges a decision: its reply text (a '"'
and "to=<...>, domain=..., action=defer" fields) lands in the probe line's
detail="...", and `mxtls report --log` must count nothing forged, while the
genuine decision line for the same destination still counts. Runs inside
tests/lab/netns-run.

usage: hostile_banner_test.py BUILD_DIR"""

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_query, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-banner", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd()


class HostileBanner(unittest.TestCase):
    def test_report_counts_nothing_the_destination_forged(self):
        lab.learn("forger.test")
        self.assertEqual(policy_query("user@forger.test")[0], "action=DUNNO")  # not cached: backing off
        wait_for(lambda: "to=<user@forger.test>, domain=forger.test, verdict=unknown" in lab.policyd_log_text(),
                 what="the genuine decision line")
        r = subprocess.run([str(lab.mxtls), "report", "--config", str(lab.policyd_conf), "--json",
                            "--log", str(lab.policyd_log)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        report = json.loads(r.stdout)
        self.assertEqual([(d["domain"], d["recipients"]) for d in report["logged"]["mxtls-policyd"]], [("forger.test", 1)])
        self.assertEqual(report["decision_lines"], 1)
        self.assertNotIn("forged.test", r.stdout)

        probe_line = next(l for l in lab.policyd_log_text().splitlines() if "probe: domain=forger.test," in l)
        self.assertIn("reason=banner_rejected", probe_line)
        # The server's text is there, escaped inside its own field.
        self.assertIn('detail="greeting: 554 5.7.1 Q: to=<u@forged.test>, domain=forged.test', probe_line)
        self.assertTrue(probe_line.endswith('action=defer, x=\\"y"'), probe_line)


if __name__ == "__main__":
    unittest.main(verbosity=2)
