"""Store faults under a running mxtls-policyd: its store read-only, full (a
small tmpfs), deleted and corrupted. Each asserts what the operator needs:
policy answers keep coming within the deadline, one clear log line for the
fault (none per retry), and nothing the daemon learnt is lost once the store
is back: it is all in the file the next start loads. Runs inside
tests/lab/netns-run.

usage: store_test.py BUILD_DIR"""

from contextlib import closing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, policy_query, run, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
DEADLINE = 1.0  # seconds per answer: smtpd waits 100s, the milter's engine_timeout is 1s
RETRY = 5       # StoreWriter::kRetryInterval
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-store", BUILD)
    unittest.addModuleCleanup(lab.stop)  # runs even when setUpModule fails
    lab.start()


def stored(path):
    """The domains with a verdict in the store at `path` (the daemon stopped)."""
    with closing(sqlite3.connect(path, timeout=10)) as db:
        return {row[0] for row in db.execute("SELECT domain FROM verdicts")}


class StoreFault(unittest.TestCase):
    """One daemon per case, its store in a directory of the case's own."""

    def fresh_directory(self, name):
        directory = lab.dir / name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir()
        return directory

    def start(self, directory):
        lab.store = directory / "cache.db"
        self.log_start = len(lab.policyd_log_text())
        lab.start_policyd()
        self.addCleanup(lab.stop_policyd, 9)

    def log(self):
        """What the daemon logged since this case started."""
        return lab.policyd_log_text()[self.log_start:]

    def lines(self, text):
        return [line for line in self.log().splitlines() if text in line]

    def answers_keep_coming(self):
        for domain in ["healthy12.test", "nostarttls.test", "never-seen.test"]:
            reply, took = policy_query(f"user@{domain}")
            self.assertTrue(reply.startswith("action="), reply)
            self.assertLess(took, DEADLINE, f"{domain}: answered after {took:.2f}s")

    def mount(self, *args, target):
        run(["mount", *args, str(target)])
        self.addCleanup(subprocess.run, ["umount", "-l", str(target)], capture_output=True)

    def test_full(self):
        directory = self.fresh_directory("full")
        self.mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", target=directory)
        self.start(directory)
        lab.learn("healthy12.test")
        filler = directory / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        lab.learn("healthy13.test")
        lab.learn("nostarttls.test")
        self.answers_keep_coming()
        wait_for(lambda: self.lines("database or disk is full"), what="the disk-full line")
        filler.unlink()
        wait_for(lambda: self.lines("writing again"), timeout=RETRY + 10, what="the store written again")
        self.assertEqual(len(self.lines("verdicts are held in memory")), 1, self.log())
        lab.stop_policyd()
        self.assertLessEqual({"healthy12.test", "healthy13.test", "nostarttls.test"}, stored(lab.store))

    def test_read_only(self):
        directory = self.fresh_directory("read-only")
        self.start(directory)
        lab.learn("healthy12.test")
        # Read-only while the daemon runs: its open file stays writable to it
        # (Linux refuses a read-only remount under an open writer), so
        # verdicts still reach the store.
        self.mount("--bind", str(directory), target=directory)
        run(["mount", "-o", "remount,bind,ro", str(directory)])
        lab.learn("healthy13.test")
        self.answers_keep_coming()
        # Started while it is read-only: the daemon answers, holds what it
        # learns and writes it once the store is writable again.
        lab.stop_policyd()
        lab.start_policyd()
        lab.learn("nostarttls.test")
        self.answers_keep_coming()
        wait_for(lambda: self.lines("verdicts are held in memory"), what="the read-only line")
        run(["umount", "-l", str(directory)])  # its read-only descriptors keep it busy
        wait_for(lambda: self.lines("writing again"), timeout=RETRY + 10, what="the store written again")
        self.assertEqual(len(self.lines("verdicts are held in memory")), 1, self.log())
        lab.stop_policyd()
        self.assertLessEqual({"healthy12.test", "healthy13.test", "nostarttls.test"}, stored(lab.store))

    def test_deleted(self):
        self.start(self.fresh_directory("deleted"))
        lab.learn("healthy12.test")
        lab.learn("nostarttls.test")
        lab.store.unlink()  # `rm cache.db` by mistake
        # Noticed with nothing to write, within the check interval.
        wait_for(lambda: self.lines("deleted or replaced while in use"), timeout=RETRY + 10, what="the deleted-store line")
        self.assertTrue(lab.store.exists())
        lab.learn("healthy13.test")
        self.answers_keep_coming()
        self.assertEqual(len(self.lines("deleted or replaced while in use")), 1, self.log())
        lab.stop_policyd(9)
        self.assertLessEqual({"healthy12.test", "nostarttls.test", "healthy13.test"}, stored(lab.store))

    def test_corrupted(self):
        self.start(self.fresh_directory("corrupted"))
        lab.learn("healthy12.test")
        lab.learn("nostarttls.test")
        # Restarted, so the verdicts live in the file itself, not in the
        # WAL beside it (SQLite would read them from there).
        lab.stop_policyd()
        lab.start_policyd()
        with open(lab.store, "r+b") as f:  # garbage over every page, as a failing disk or a stray write leaves it
            f.write(os.urandom(lab.store.stat().st_size))
        lab.learn("healthy13.test")
        wait_for(lambda: self.lines("set it aside as"), what="the corrupt-store line")
        self.answers_keep_coming()
        reply, _ = policy_query("user@nostarttls.test")
        self.assertIn("DEFER_IF_PERMIT", reply)  # still known: from memory
        self.assertEqual(len(self.lines("set it aside as")), 1, self.log())
        lab.stop_policyd(9)
        self.assertLessEqual({"healthy12.test", "nostarttls.test", "healthy13.test"}, stored(lab.store))
        self.assertTrue(list(lab.store.parent.glob("cache.db.corrupt-*")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
