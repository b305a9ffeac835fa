"""Body of tests/bench/mta_log_bench: see there."""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUILD = Path(sys.argv[1] if len(sys.argv) > 1 else "build/release")
SIZE_MB = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
DESTINATIONS = 200_000
# One delivery each, in the shapes the lab's real MTAs write (report/mta_log).
PF = "Nov 30 05:00:00 mta postfix/smtp[{pid}]: "
SM = "Nov 30 05:00:00 mta sm-mta[{pid}]: "
SHAPES = [
    [PF + "Trusted TLS connection established to mx.d{n}.test[127.0.3.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
     PF + "Q{n}A: to=<user@d{n}.test>, relay=mx.d{n}.test[127.0.3.1]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)"],
    [PF + "warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1602:SSL alert number 70:",
     PF + "SSL_connect error to mx.d{n}.test[127.0.3.2]:25: -1",
     PF + "Q{n}B: to=<user@d{n}.test>, relay=mx.d{n}.test[127.0.3.2]:25, delay=4.4, delays=4.4/0/0.01/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)"],
    [PF + "server certificate verification failed for mx.d{n}.test[127.0.3.3]:25: certificate has expired",
     PF + "Q{n}C: to=<user@d{n}.test>, relay=mx.d{n}.test[127.0.3.3]:25, delay=1, delays=1/0/0/0, dsn=4.7.5, status=deferred (Server certificate not verified)"],
    [PF + "Q{n}D: to=<user@d{n}.test>, relay=mx.d{n}.test[127.0.3.4]:25, delay=1, delays=1/0/0/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.d{n}.test[127.0.3.4])"],
    [SM + "STARTTLS=client, relay=mx.d{n}.test., version=TLSv1.3, verify=OK, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
     SM + "Q{n}E: to=<user@d{n}.test>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.d{n}.test. [127.0.3.5], dsn=2.0.0, stat=Sent (Ok)"],
    ["Nov 30 05:00:00 mta postfix/qmgr[9]: Q{n}A: from=<>, size=300, nrcpt=1 (queue active)"],
]


def write_log(path, size):
    written, n, lines = 0, 0, 0
    with open(path, "w") as out:
        while written < size:
            chunk = []
            for _ in range(1000):
                shape = SHAPES[n % len(SHAPES)]
                d = n % DESTINATIONS
                chunk.extend(l.format(pid=1000 + n % 50, n=d) for l in shape)
                n += 1
            text = "\n".join(chunk) + "\n"
            out.write(text)
            written += len(text)
            lines += len(chunk)
    return lines


def main():
    tmp = Path(os.environ.get("TMPDIR", tempfile.gettempdir()))
    log = tmp / "mxtls-mta-log-bench.log"
    conf = tmp / "mxtls-mta-log-bench.conf"
    conf.write_text(f"[store]\npath = {tmp}/mxtls-mta-log-bench-no-store.db\n[log]\ntarget = stderr\n")
    start = time.time()
    lines = write_log(log, SIZE_MB << 20)
    print(f"wrote {log.stat().st_size >> 20} MB, {lines} lines in {time.time() - start:.1f}s", file=sys.stderr)
    try:
        start = time.time()
        r = subprocess.run([str(BUILD / "policy" / "mxtls"), "report", "--json", "--config", str(conf), "--log", str(log)],
                           capture_output=True, text=True)
        took = time.time() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if r.returncode != 0:
            raise SystemExit(r.stderr)
        doc = json.loads(r.stdout)
        print(f"mxtls report --log: {lines} lines in {took:.1f}s = {lines / took:,.0f} lines/s, "
              f"{(SIZE_MB << 20) / took / 1e6:.0f} MB/s; peak RSS {rss / 1024:.0f} MiB; "
              f"{len(doc['mta'])} destinations tallied of {DESTINATIONS}")
    finally:
        log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
