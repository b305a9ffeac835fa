"""Demo body (see tests/demo): the lab, then `mxtls probe` over it."""

import json
import sys
import tempfile
from pathlib import Path

from cases import CASES
from lab import Lab


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    with Lab(Path(tempfile.gettempdir()) / "mxtls-lab-demo", build) as lab:
        domains = [f"{c.name}.test" for c in CASES]
        section("probe log lines (Postfix profile, smtp_tls_security_level = may)")
        r = lab.probe("-v", "--json", *domains)
        for line in r.stderr.splitlines():
            if "probe: " in line:
                print(line)
        section("verdicts under may and under secure (Postfix profile)")
        secure = {d["destination"]: d["result"] for d in json.loads(lab.probe("--json", "--security-level", "secure", *domains).stdout)}
        print(f"{'destination':<22}{'may':<40}{'secure'}")
        for d in json.loads(r.stdout):
            m, s = d["result"], secure[d["destination"]]
            print(f"{d['destination']:<22}{m['reason'] + ' -> ' + m['outcome']:<40}{s['reason']} -> {s['outcome']}")
        for domain in ["tls10.test", "expired.test", "snidependent.test"]:
            section(f"mxtls probe --security-level secure {domain}")
            print(lab.probe("--security-level", "secure", domain).stdout)


if __name__ == "__main__":
    main()
