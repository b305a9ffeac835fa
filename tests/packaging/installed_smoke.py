"""Smoke test of the installed package, inside the lab namespace: runs
mxtls-policyd exactly as its installed unit does (ExecStart, as the mxtls
user, /etc/mxtls/mxtls.conf), with Postfix configured from the installed
snippet, and checks that mail to an incompatible destination is deferred
with the classified reason and that the decision is logged.

usage: installed_smoke.py BUILD_DIR   (the lab tools come from the build)"""

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, run, smtp_submit, wait_for  # noqa: E402

UNIT = Path("/lib/systemd/system/mxtls-policyd.service")
SNIPPET = Path("/usr/share/doc/mxtls/postfix-main.cf")
LOG = Path("/var/lib/mxtls/policyd.log")


def unit_exec_start():
    """ExecStart= and User= of the installed unit."""
    text = UNIT.read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", text, re.M).group(1)
    user = re.search(r"^User=(.+)$", text, re.M).group(1)
    return shlex.split(exec_start), user


def snippet_restrictions():
    """smtpd_recipient_restrictions as the installed snippet writes it."""
    lines = SNIPPET.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("smtpd_recipient_restrictions ="))
    value = [lines[start].split("=", 1)[1]]
    for l in lines[start + 1:]:
        if not l.startswith((" ", "\t")):
            break
        value.append(l.strip())
    return " ".join(v.strip() for v in value if v.strip())


def main():
    build = sys.argv[1]
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-package", build) as lab:
        # The unit's RuntimeDirectory (systemd makes it): here a private
        # tmpfs, mounted in this namespace only.
        Path("/run/mxtls").mkdir(exist_ok=True)
        run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run/mxtls"])
        run(["chown", "mxtls:mxtls", "/run/mxtls"])
        conf = lab.dir / "installed.conf"
        conf.write_text(lab.conf.read_text().replace("[log]\ntarget = stderr\n", "") +
                        f"security_level = encrypt\n\n[policy]\nsocket_group = mxtls\n\n[log]\ntarget = file:{LOG}\n")
        run(["mount", "--bind", str(conf), "/etc/mxtls/mxtls.conf"])
        # A fresh, private state directory (the unit's StateDirectory).
        state = lab.dir / "state"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir()
        run(["chown", "mxtls:mxtls", str(state)])
        run(["mount", "--bind", str(state), "/var/lib/mxtls"])

        command, user = unit_exec_start()
        # setpriv execs the daemon itself (no wrapper process to absorb signals).
        daemon = subprocess.Popen(["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *command],
                                  stdout=subprocess.DEVNULL, stderr=open(lab.dir / "installed.err", "w"))
        try:
            check_installed_daemon(lab, daemon, user)
        finally:
            if daemon.poll() is None:
                daemon.kill()
            run(["umount", "/var/lib/mxtls"])
            run(["umount", "/run/mxtls"])
            Path("/run/mxtls").rmdir()
    print("installed package smoke test: passed")


def check_installed_daemon(lab, daemon, user):
    """Postfix from the installed snippet; the installed daemon defers and logs."""
    wait_for(lambda: Path("/run/mxtls/policy.sock").exists(), what="the installed daemon's socket")

    restrictions = snippet_restrictions()
    print(f"main.cf from {SNIPPET}: smtpd_recipient_restrictions = {restrictions}")
    lab.start_postfix({"smtp_tls_security_level": "encrypt", "smtpd_recipient_restrictions": restrictions})

    first = smtp_submit(["user@nostarttls.test"], "first")["user@nostarttls.test"]
    assert first[0] == 250, first  # unknown destination: DUNNO at once
    wait_for(lambda: LOG.exists() and "probe: domain=nostarttls.test," in LOG.read_text(), what="the probe line")
    code, text = smtp_submit(["user@nostarttls.test"], "second")["user@nostarttls.test"]
    assert code == 450 and "starttls_not_offered" in text, (code, text)
    line = wait_for(lambda: next((l for l in LOG.read_text().splitlines()
                                  if "to=<user@nostarttls.test>" in l and "action=defer" in l), None),
                    what="the classified decision line")
    print(f"classified log line: {line}")
    assert re.search(r"mxtls-policyd\[\d+\]: NOQUEUE: to=<user@nostarttls\.test>, domain=nostarttls\.test, .*"
                     r"reason=starttls_not_offered, .*action=defer", line), line
    daemon.terminate()
    assert daemon.wait(timeout=30) == 0, (lab.dir / "installed.err").read_text()
    owner = subprocess.run(["stat", "-c", "%U", "/var/lib/mxtls/cache.db"], capture_output=True, text=True).stdout.strip()
    assert owner == user, f"store owned by {owner}, not {user}"


if __name__ == "__main__":
    main()
