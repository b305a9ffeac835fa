"""Smoke test of the installed package, inside the lab namespace: runs
mxtls-policyd and mxtls-milter exactly as their installed units do
(ExecStart, as the unit's user, /etc/mxtls/mxtls.conf with its default
listen addresses), with Postfix configured from the installed snippets, and
checks that mail to an incompatible destination is deferred with the
classified reason, that mail to a healthy one is delivered with the
milter's header, and that both decisions are logged.

usage: installed_smoke.py BUILD_DIR   (the lab tools come from the build)"""

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
from lab import Lab, run, smtp_submit, wait_for, wait_port  # noqa: E402

UNIT_DIRS = (Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))  # Debian, Fedora
DOCS = Path("/usr/share/doc/mxtls")
LOG = Path("/var/lib/mxtls/mxtls.log")


def unit_command(name):
    """ExecStart= and User= of an installed unit."""
    text = next(d / f"{name}.service" for d in UNIT_DIRS if (d / f"{name}.service").exists()).read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", text, re.M).group(1)
    user = re.search(r"^User=(.+)$", text, re.M).group(1)
    return shlex.split(exec_start), user


def snippet_settings(path):
    """The active (uncommented) main.cf settings of a snippet, continuation
    lines joined as Postfix joins them."""
    settings, name = {}, None
    for line in Path(path).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            name = None
        elif line.startswith((" ", "\t")) and name:
            settings[name] = f"{settings[name]} {line.strip()}".strip()
        else:
            name, value = (part.strip() for part in line.split("=", 1))
            settings[name] = value
    return settings


def start_as_unit(lab, name):
    command, user = unit_command(name)
    # setpriv execs the daemon itself (no wrapper process to absorb signals).
    return subprocess.Popen(["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *command],
                            stdout=subprocess.DEVNULL, stderr=open(lab.dir / f"installed-{name}.err", "w"))


def stop(lab, proc, name):
    proc.terminate()
    status = proc.wait(timeout=30)
    assert status == 0, f"{name} exited {status}: " + (lab.dir / f"installed-{name}.err").read_text()


def main():
    build = sys.argv[1]
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-package", build) as lab:
        # The installed configuration, with the lab's DNS and probe settings
        # and a file log (there is no syslog in the namespace); the listen
        # addresses stay the package's defaults.
        conf = lab.dir / "installed.conf"
        conf.write_text(lab.conf.read_text().replace("[log]\ntarget = stderr\n", "") +
                        f"security_level = encrypt\n\n[log]\ntarget = file:{LOG}\n")
        run(["mount", "--bind", str(conf), "/etc/mxtls/mxtls.conf"])
        # A fresh, private state directory (the unit's StateDirectory).
        state = lab.dir / "state"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir()
        run(["chown", "mxtls:mxtls", str(state)])
        run(["mount", "--bind", str(state), "/var/lib/mxtls"])
        daemons = {}
        try:
            daemons["mxtls-policyd"] = start_as_unit(lab, "mxtls-policyd")
            daemons["mxtls-milter"] = start_as_unit(lab, "mxtls-milter")
            check_installed_daemons(lab)
            for name, proc in daemons.items():
                stop(lab, proc, name)
            owner = subprocess.run(["stat", "-c", "%U", "/var/lib/mxtls/cache.db"],
                                   capture_output=True, text=True).stdout.strip()
            assert owner == "mxtls", f"store owned by {owner}, not mxtls"
        finally:
            for proc in daemons.values():
                if proc.poll() is None:
                    proc.kill()
            run(["umount", "/var/lib/mxtls"])
            run(["umount", "/etc/mxtls/mxtls.conf"])
    print("installed package smoke test: passed")


def log_line(*needles):
    text = LOG.read_text() if LOG.exists() else ""
    return next((l for l in text.splitlines() if all(n in l for n in needles)), None)


def check_installed_daemons(lab):
    """Postfix from the installed snippets; the installed daemons defer,
    annotate and log."""
    wait_port("127.0.0.1", 10045)  # the package's default addresses
    wait_port("127.0.0.1", 10047)
    settings = {**snippet_settings(DOCS / "postfix-main.cf"), **snippet_settings(DOCS / "postfix-milter.cf")}
    for name, value in settings.items():
        print(f"main.cf from the installed snippets: {name} = {value}")
    lab.start_postfix({"smtp_tls_security_level": "encrypt", **settings})

    first = smtp_submit(["user@nostarttls.test"], "first")["user@nostarttls.test"]
    assert first[0] == 250, first  # unknown destination: DUNNO at once, probe queued
    wait_for(lambda: log_line("probe: domain=nostarttls.test,"), what="the probe line")
    code, text = smtp_submit(["user@nostarttls.test"], "second")["user@nostarttls.test"]
    assert code == 450 and "starttls_not_offered" in text, (code, text)
    line = wait_for(lambda: log_line("mxtls-policyd[", "to=<user@nostarttls.test>", "action=defer"),
                    what="the classified decision line")
    print(f"classified log line: {line}")
    assert re.search(r"mxtls-policyd\[\d+\]: NOQUEUE: to=<user@nostarttls\.test>, domain=nostarttls\.test, .*"
                     r"reason=starttls_not_offered, .*action=defer", line), line

    # The milter: a healthy destination, once known, is delivered with the header.
    smtp_submit(["user@healthy13.test"], "learn")
    wait_for(lambda: log_line("probe: domain=healthy13.test,"), what="the probe of healthy13.test")
    assert smtp_submit(["user@healthy13.test"], "annotated")["user@healthy13.test"][0] == 250
    annotated = wait_for(lambda: next((m for m in lab.delivered_messages("healthy13")
                                       if "Subject: annotated" in m), None), what="delivery to healthy13.test")
    assert "X-MXTLS: healthy13.test=ok" in annotated, annotated
    line = wait_for(lambda: log_line("mxtls-milter[", "to=<user@healthy13.test>", "verdict=ok"),
                    what="the milter's line with the queue id")
    print(f"milter log line: {line}")
    assert re.search(r"mxtls-milter\[\d+\]: [0-9A-F]{6,}: to=<user@healthy13\.test>", line), line


if __name__ == "__main__":
    main()
