"""Body of tests/bench/sts_bench: see there."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lab"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import STS_NGINX  # noqa: E402
from lab import NGINX, Lab, socketmap_query, tcp_socketmap_query, wait_port  # noqa: E402
from policy_bench import fill_store, load, ratio, show  # noqa: E402

DOMAINS = 1000
CONNS = 50
REQUESTS = 200_000
DAEMON_REQUESTS = 20_000
DAEMON_PORT = 8461


def policy_host_certificate(lab, domains):
    """One certificate from the lab CA naming every mta-sts.<domain>."""
    certs = lab.certs
    out = lab.dir / "bench-mta-sts.pem"
    san = ",".join(f"DNS:mta-sts.{d}" for d in domains)
    env = dict(os.environ, SAN=san)
    csr = lab.dir / "bench-mta-sts.csr"
    subprocess.run(["openssl", "req", "-new", "-key", certs / "leaf.key", "-out", csr, "-subj", "/CN=mta-sts.stsbench.test"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-config", certs / "ca.cnf", "-cert", certs / "intermediate.pem",
                    "-keyfile", certs / "intermediate.key", "-extensions", "leaf", "-in", csr, "-out", out, "-notext"],
                   check=True, capture_output=True, env=env)
    chain = lab.dir / "bench-mta-sts-chain.pem"
    chain.write_text(out.read_text() + (certs / "intermediate.pem").read_text())
    return chain


def start_nginx(lab, domains):
    www = lab.dir / "bench-www"
    for d in domains:
        root = www / d / ".well-known"
        root.mkdir(parents=True, exist_ok=True)
        (root / "mta-sts.txt").write_text(f"version: STSv1\r\nmode: enforce\r\nmx: mx.{d}\r\nmx: *.{d}\r\nmax_age: 86400\r\n")
    chain = policy_host_certificate(lab, domains)
    tmp = lab.dir / "nginx-tmp"
    tmp.mkdir(exist_ok=True)
    (lab.dir / "bench-nginx.conf").write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {lab.dir}/bench-nginx.pid;
error_log {lab.dir}/bench-nginx-error.log;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen {STS_NGINX}:443 ssl;
    server_name ~^mta-sts\\.(?<dom>.+)$;
    ssl_certificate {chain};
    ssl_certificate_key {lab.certs / "leaf.key"};
    root {www}/$dom;
    location = /.well-known/mta-sts.txt {{ default_type text/plain; }}
  }}
}}
""")
    lab.spawn("bench-nginx", [str(NGINX), "-e", str(lab.dir / "bench-nginx-error.log"), "-c", str(lab.dir / "bench-nginx.conf")])
    wait_port(STS_NGINX, 443)


def main():
    build = Path(sys.argv[1]).resolve()
    domains = [f"s{i}.stsbench.test" for i in range(DOMAINS)]
    lab = Lab(Path(tempfile.gettempdir()) / "mxtls-lab-sts-bench", build)
    for d in domains:
        lab.records += [f"{d}. MX 10 mx.{d}.", f'_mta-sts.{d}. TXT "v=STSv1; id=bench1;"', f"mta-sts.{d}. A {STS_NGINX}"]
    with lab:
        start_nginx(lab, domains)
        extra = f"""tlspolicy_source = dane-sts

[mta_sts]
ca_file = {lab.certs}/ca.pem
recheck = 1h
"""
        lab.start_policyd(policy_extra=extra)
        lab.stop_policyd()
        fill_store(lab.dir / "cache.db", domains)  # verdicts known: no background probes during the run
        lab.start_policyd(policy_extra=extra)
        (lab.dir / "mta-sts-bench.yml").write_text(f"host: 127.0.0.1\nport: {DAEMON_PORT}\n"
                                                   "cache_grace: 86400\ncache:\n  type: internal\n  options:\n"
                                                   "    cache_size: 10000\ndefault_zone:\n  strict_testing: false\n"
                                                   "  timeout: 4\n")
        daemon = lab.start_mta_sts_daemon(DAEMON_PORT, config=lab.dir / "mta-sts-bench.yml")

        start = time.time()
        for d in domains:
            ours = socketmap_query(lab.socketmap_socket, "tlspolicy", d)
            theirs = tcp_socketmap_query(DAEMON_PORT, "postfix", d)
            if not ours.startswith("OK secure match=") or "secure match=" not in theirs:
                raise RuntimeError(f"{d}: warm-up answers: ours {ours!r}, mta-sts-daemon {theirs!r}")
        print(f"warm-up: {DOMAINS} destinations fetched by both through the lab DNS and nginx in {time.time() - start:.1f}s")

        print(f"tlspolicy socketmap lookups, {CONNS} persistent connections, {DOMAINS} cached MTA-STS destinations")
        ours = load(build, "socketmap:tlspolicy", f"unix:{lab.socketmap_socket}", domains, CONNS, REQUESTS)
        show(f"mxtls-policyd ({REQUESTS} lookups)", ours)
        theirs = load(build, "socketmap:postfix", f"inet:127.0.0.1:{DAEMON_PORT}", domains, CONNS, DAEMON_REQUESTS)
        show(f"mta-sts-daemon ({DAEMON_REQUESTS} lookups)", theirs)
        ratio("mxtls / mta-sts-daemon", ours, theirs, lambda a, b: f"{float(a['rps']) / float(b['rps']):.1f}x")
        del daemon


if __name__ == "__main__":
    main()
