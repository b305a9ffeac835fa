"""Demo body (see tests/demo): the lab, `mxtls probe` over it, then the real
Postfix with mxtls-policyd deferring and rerouting mail."""

import json
import sys
import tempfile
import time
from pathlib import Path

from cases import CASES
from lab import Lab, smtp_submit, wait_for


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def probe_everything(lab):
    domains = [f"{c.name}.test" for c in CASES]
    section("mxtls probe: one classified log line per destination (Postfix profile, level may)")
    r = lab.probe("-v", "--json", *domains)
    for line in r.stderr.splitlines():
        if "probe: " in line:
            print(line.split("]: ", 1)[-1])
    section("what Postfix would do: under may and under secure")
    secure = {d["destination"]: d["result"] for d in json.loads(lab.probe("--json", "--security-level", "secure", *domains).stdout)}
    print(f"{'destination':<22}{'may':<44}{'secure'}")
    for d in json.loads(r.stdout):
        m, s = d["result"], secure[d["destination"]]
        print(f"{d['destination']:<22}{m['reason'] + ' -> ' + m['outcome']:<44}{s['reason']} -> {s['outcome']}")
    section("mxtls probe --security-level secure tls10.test")
    print(lab.probe("--security-level", "secure", "tls10.test").stdout)


def postfix_with_policyd(lab):
    section("Postfix (smtp_tls_security_level = encrypt) + mxtls-policyd")
    (lab.dir / "tls_policy").write_text(f"[{lab.RELAY}]:25 may\n")
    lab.start_sink()
    lab.start_postfix({
        "smtp_tls_security_level": "encrypt",
        "smtp_tls_policy_maps": f"texthash:{lab.dir}/tls_policy",
        "smtpd_recipient_restrictions": "check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }, "
                                        "permit_mynetworks, reject_unauth_destination",
    })
    lab.start_policyd("reason_actions = no_shared_cipher:reroute")
    print("policy: on_deferred = defer; reason_actions = no_shared_cipher:reroute; "
          f"reroute = relay:[{lab.RELAY}]:25 (Postfix's smtp-sink)")
    for domain in ["nostarttls.test", "nocipher.test", "healthy12.test"]:
        lab.learn(domain)
    print("\nSMTP session: MAIL FROM:<sender@lab.test>")
    for rcpt in ["user@nostarttls.test", "user@nocipher.test", "user@healthy12.test"]:
        code, text = smtp_submit([rcpt], subject=f"demo to {rcpt}")[rcpt]
        print(f"  RCPT TO:<{rcpt}>  ->  {code} {text}")
    wait_for(lambda: any("demo to user@nocipher.test" in m for m in lab.sink_messages()), what="the rerouted message")
    wait_for(lambda: (lab.spool / "healthy12.log").exists(), what="the direct delivery")
    subjects = [l for m in lab.sink_messages() for l in m.splitlines() if l.startswith("Subject:")]
    print(f"\nthe relay (smtp-sink) received: {subjects}")
    print(f"healthy12.test received: {(lab.spool / 'healthy12.log').read_text().strip()}")
    section("mxtls-policyd log (decisions and probes)")
    time.sleep(1.2)  # routine log lines are flushed each second
    for line in lab.policyd_log_text().splitlines():
        if "to=<" in line or "probe: " in line:
            print(line.split("]: ", 1)[-1])
    section("Postfix log")
    for line in (lab.dir / "postfix.log").read_text().splitlines():
        if any(k in line for k in ("reject:", "filter:", "status=")):
            print(line.split("]: ", 1)[-1])


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-demo", build) as lab:
        probe_everything(lab)
        postfix_with_policyd(lab)


if __name__ == "__main__":
    main()
