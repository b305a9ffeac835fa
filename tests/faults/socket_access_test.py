"""A bad socket_mode, socket_owner or socket_group (issue 9, item 13) is a
configuration error for both daemons: --check-config and a start both exit
78 naming the key (the units' RestartPreventExitStatus=78 then reports it
once instead of restarting every 2 s), and so does a start whose user may
not give its socket away. Runs inside tests/lab/netns-run (no lab needed).

usage: socket_access_test.py BUILD_DIR"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

BUILD = Path(sys.argv.pop(1) if len(sys.argv) > 1 else "build/release").resolve()
POLICYD = BUILD / "policy" / "mxtls-policyd"
MILTER = BUILD / "milter" / "mxtls-milter"
DIR = Path(tempfile.gettempdir()) / "mxtls-fault-socket-access"
# As the daemons' unprivileged user would run them.
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]

BAD = {
    "socket_mode": ["0999", "rw-rw----", "01777"],
    "socket_owner": ["no-such-user-mxtls"],
    "socket_group": ["no-such-group-mxtls"],
}


def config(section, key=None, value=None):
    """Both daemons on unix sockets in DIR, nothing else to reach."""
    text = f"""[tls]
profile = custom

[policy]
listen = unix:{DIR}/policy.sock
socketmap_listen =

[store]
backend = none

[milter]
socket = unix:{DIR}/milter.sock
engine = unix:{DIR}/policy.sock

[log]
target = stderr
"""
    if key:
        text = text.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n")
    path = DIR / "mxtls.conf"
    path.write_text(text)
    path.chmod(0o644)
    return path


def run_daemon(program, conf, *args, prefix=()):
    return subprocess.run([*prefix, str(program), "--config", str(conf), *args], capture_output=True, text=True,
                          timeout=20)


def setUpModule():
    if os.environ.get("MXTLS_IN_NETNS") != "1":
        raise SystemExit("run inside tests/lab/netns-run")
    shutil.rmtree(DIR, ignore_errors=True)
    DIR.mkdir(parents=True)
    DIR.chmod(0o1777)


class SocketAccess(unittest.TestCase):
    def test_bad_values_fail_check_config_and_start_with_78(self):
        for program, section in ((POLICYD, "policy"), (MILTER, "milter")):
            for key, values in BAD.items():
                for value in values:
                    conf = config(section, key, value)
                    for args in (["--check-config"], []):
                        with self.subTest(program=program.name, key=key, value=value, args=args):
                            r = run_daemon(program, conf, *args)
                            self.assertEqual(r.returncode, 78, r.stderr)
                            self.assertIn(f"{section}.{key}", r.stderr)

    def test_a_socket_the_daemon_may_not_give_away_fails_start_with_78(self):
        # nobody may not chown its socket to root: found only at start.
        for program, section in ((POLICYD, "policy"), (MILTER, "milter")):
            with self.subTest(program=program.name):
                conf = config(section, "socket_owner", "root")
                r = run_daemon(program, conf, prefix=AS_NOBODY)
                self.assertEqual(r.returncode, 78, r.stderr)
                self.assertIn(f"{section}.socket_owner", r.stderr)

    def test_good_values_pass(self):
        for program, section in ((POLICYD, "policy"), (MILTER, "milter")):
            conf = config(section, "socket_group", "nogroup")
            r = run_daemon(program, conf, "--check-config")
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
