"""A client that drips its request a byte at a time (issue 9, item 4): the
daemon examines each byte once, so a dripped request costs little more CPU
than the same request sent at once instead of a re-parse from its start on
every read; other clients are answered meanwhile and the dripped request
gets its answer. Runs inside tests/lab/netns-run.

usage: dripping_client_test.py BUILD_DIR"""

import socket
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, cpu_seconds, policy_exchange, policy_request  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
lab = None
DRIPPERS = 4


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-drip", BUILD)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    lab.start_policyd("idle_timeout = 60s")


HEAD = b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
# 170 lines of 340 bytes: with the tail, near the 64 KiB limit.
PADDING = b"".join(b"x_pad%03d=%s\n" % (i, b"v" * 330) for i in range(170))
TAIL = b"x_tail=" + b"v" * 2000 + b"\nrecipient=a@healthy12.test\n\n"


def drip(conns, prefix, pid):
    """Sends `prefix` at once on every connection, then TAIL a byte at a
    time, interleaved, slowly enough for the daemon to read each byte on its
    own; reads the replies; returns the daemon's CPU seconds for the drip."""
    for s in conns:
        s.sendall(prefix)
    cpu = cpu_seconds(pid)
    for i in range(len(TAIL)):
        for s in conns:
            s.send(TAIL[i:i + 1])
        time.sleep(0.001)
    for s in conns:
        reply = b""
        while not reply.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply == b"action=DUNNO\n\n", reply
    return cpu_seconds(pid) - cpu


class Dripping(unittest.TestCase):
    def test_a_dripped_request_is_parsed_once(self):
        conns = []
        for _ in range(DRIPPERS):
            s = socket.create_connection(("127.0.0.1", lab.POLICY_PORT), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.assertEqual(policy_exchange(s, "a@healthy12.test"), b"action=DUNNO\n\n")
            conns.append(s)
        pid = lab.policyd_proc.pid
        # The same bytes dripped, after a short start and after a long one:
        # what a read costs besides parsing (system calls, wake-ups) is the
        # same; re-parsing from the start costs the long one on every read.
        after_short = drip(conns, HEAD, pid)
        asked = time.time()
        self.assertEqual(policy_request("b@healthy12.test", lab.POLICY_PORT), b"action=DUNNO\n\n")
        self.assertLess(time.time() - asked, 1)
        after_long = drip(conns, HEAD + PADDING, pid)
        for s in conns:
            s.close()
        print(f"\n{DRIPPERS} x {len(TAIL)} bytes dripped: {after_short:.2f}s CPU after {len(HEAD)} bytes, "
              f"{after_long:.2f}s after {len(HEAD + PADDING)}", file=sys.stderr)
        self.assertLess(after_long, 1.5 * after_short + 0.05)


if __name__ == "__main__":
    unittest.main(verbosity=2)
