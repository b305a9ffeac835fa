"""A tarpit MX (it accepts and never greets) shared by many domains, under
three host names, while other destinations are still probed promptly: each
tarpit host is probed once for all the domains that need it meanwhile, those
domains hold no probe slot while they wait, at most
probe.connections_per_address connections reach its address at once, and
every domain gets the transient timeout verdict; stopped while such probes
are in flight, the daemon exits cleanly. Runs inside tests/lab/netns-run.

usage: tarpit_shared_mx_test.py BUILD_DIR"""

import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, established, socketmap_query, wait_for  # noqa: E402

BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else "build/release"
NAMES = ["mx.tarpit.test", "mx2.tarpit.test", "mx3.tarpit.test"]  # all 127.0.0.27
TARPIT_DOMAINS = [f"t{i}.shared-tarpit.test" for i in range(45)]
LATE_DOMAINS = [f"late{i}.shared-tarpit.test" for i in range(6)]
RECORDS = [f"{n}. A 127.0.0.27" for n in NAMES[1:]] + \
          [f"{d}. MX 10 {NAMES[i % 3]}." for i, d in enumerate(TARPIT_DOMAINS + LATE_DOMAINS)]
OTHERS = ["healthy12.test", "healthy13.test", "tls13.test", "expired.test", "nostarttls.test"]
lab = None


def setUpModule():
    global lab
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-fault-tarpit", BUILD, records=RECORDS)
    unittest.addModuleCleanup(lab.stop)
    lab.start()
    # Few slots, so that tarpit domains holding them would starve the others at once.
    lab.start_policyd(sections="[cache]\nmax_parallel = 6\n")


def probe_lines(domain):
    return [l for l in lab.policyd_log_text().splitlines() if f"probe: domain={domain}," in l]


class MostEstablished(threading.Thread):
    """Samples our established connections to the tarpit until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.most, self.stop = 0, threading.Event()

    def run(self):
        while not self.stop.wait(0.05):
            self.most = max(self.most, established("127.0.0.27", 25))


class TarpitSharedByManyDomains(unittest.TestCase):
    def test_other_destinations_are_probed_while_the_tarpit_stalls(self):
        connections_log = lab.spool / "tarpit.connections"
        ours = len(connections_log.read_text().splitlines())  # the lab's check that the port listens
        sampler = MostEstablished()
        sampler.start()
        asked = time.time()
        for domain in TARPIT_DOMAINS + OTHERS:
            socketmap_query(lab.socketmap_socket, "tlspolicy", domain)
        # The tarpit holds a probe for its greeting deadline (4 s, the lab main.cf's smtp_helo_timeout) and then the
        # implicit-TLS check (4 s, smtp_starttls_timeout); the others must not wait for that.
        wait_for(lambda: all(probe_lines(d) for d in OTHERS), timeout=2.5,
                 what="the other destinations' probes, ahead of the tarpit's deadline")
        self.assertLess(time.time() - asked, 2.5)

        # One probe per tarpit host name serves all its domains: one round, not 45 / 6.
        wait_for(lambda: all(probe_lines(d) for d in TARPIT_DOMAINS), timeout=15, what="every tarpit domain's verdict")
        sampler.stop.set()
        sampler.join()
        for domain in TARPIT_DOMAINS:
            lines = probe_lines(domain)
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("verdict=unreachable, reason=timeout", lines[0])

        # Per host name: the compat connection and one implicit-TLS check;
        # never more at once than probe.connections_per_address (2).
        self.assertLessEqual(len(connections_log.read_text().splitlines()) - ours, 2 * len(NAMES))
        self.assertEqual(sampler.most, 2)

        # Not cached: the next lookup finds no verdict and the daemon backs off.
        self.assertEqual(socketmap_query(lab.socketmap_socket, "tlspolicy", TARPIT_DOMAINS[0]), "NOTFOUND ")

        # Stopped while shared probes are in flight, the daemon exits cleanly
        # (under the sanitizer build: no memory error at shutdown).
        for domain in LATE_DOMAINS:
            socketmap_query(lab.socketmap_socket, "tlspolicy", domain)
        wait_for(lambda: established("127.0.0.27", 25) > 0, timeout=5, what="the late probes to connect")
        lab.stop_policyd()


if __name__ == "__main__":
    unittest.main(verbosity=2)
