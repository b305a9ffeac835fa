"""mxtls-policyd SIGKILLed in the middle of its work (a flood of policy
requests, each logging a line, and probes whose verdicts are being
stored), three times over: its log file holds only whole lines, but for
the one line a kill may cut (the kernel stops a write that crosses a page
of the file when SIGKILL comes), which the next start ends with a newline;
and every verdict that was in the store before the kill is there when it
starts again. Runs inside tests/lab/netns-run.

usage: sigkill_test.py BUILD_DIR"""

from contextlib import closing
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from cases import CASES  # noqa: E402
from lab import Lab, policy_query, socketmap_query, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
# One line: one time stamp and tag, a message, nothing of another line.
HEADER = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} mxtls-policyd\[\d+\]: "
WHOLE_LINE = re.compile(HEADER + r"(?:(?!" + HEADER + r").)+")
# The start of one line: no second header after its first character.
ONE_FRAGMENT = re.compile(r"\d(?:(?!" + HEADER + r").)*")
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-sigkill", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()


def stored():
    with closing(sqlite3.connect(lab.store, timeout=10)) as db:
        return {row[0] for row in db.execute("SELECT domain FROM verdicts")}


def flood(stop):
    """Policy requests back to back until `stop` is set or the daemon is gone."""
    while not stop.is_set():
        try:
            policy_query(f"user{random.randrange(1000)}@healthy12.test", timeout=2)
        except (OSError, RuntimeError):
            return


class Sigkill(unittest.TestCase):
    def test_whole_log_lines_and_no_stored_verdict_lost(self):
        domains = [f"{c.name}.test" for c in CASES]
        random.shuffle(domains)
        seen = ""  # the log as the last kill left it
        for round in range(3):
            proc = lab.start_policyd()
            stop = threading.Event()
            threads = [threading.Thread(target=flood, args=(stop,)) for _ in range(4)]
            for t in threads:
                t.start()
            for domain in domains[round::3]:  # probes whose verdicts are written as the kill comes
                socketmap_query(lab.socketmap_socket, "tlspolicy", domain)
            time.sleep(random.uniform(0.5, 1.5))
            before = stored()
            lab.stop_policyd(9)
            stop.set()
            for t in threads:
                t.join()
            text = lab.policyd_log_text()
            self.assertTrue(text.startswith(seen), f"round {round}: the log was rewritten")
            new = text[len(seen):]
            if seen and not seen.endswith("\n"):
                self.assertTrue(new.startswith("\n"), f"round {round}: the start did not end the line the last kill cut")
                new = new[1:]
            lines = new.split("\n")
            for n, line in enumerate(lines[:-1]):
                self.assertTrue(WHOLE_LINE.fullmatch(line), f"round {round}, line {n + 1} is not one whole line: {line[:300]!r}")
            self.assertTrue(lines[-1] == "" or ONE_FRAGMENT.fullmatch(lines[-1]),
                            f"round {round}: the line the kill cut holds more than one line: {lines[-1][:300]!r}")
            seen = text
            self.assertGreater(text.count("to=<user"), 100 * (round + 1), "the flood did not reach the daemon")
            self.assertIsNotNone(proc.returncode)
            lab.start_policyd()
            loaded = wait_for(lambda: re.findall(r"store: \S+: (\d+) verdicts loaded", lab.policyd_log_text()),
                              what="the store to load")
            self.assertGreaterEqual(int(loaded[-1]), len(before))
            self.assertLessEqual(before, stored(), f"round {round}: stored verdicts lost")
            lab.stop_policyd()


if __name__ == "__main__":
    unittest.main(verbosity=2)
