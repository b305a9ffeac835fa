"""The mxtls lab: a local DNS (unbound) with a .test zone, fake destination
MX hosts (mxtls-fakedest) for every failure case, certificates made fresh at
start (CA, intermediate, and each bad certificate), and optionally a real
Postfix. With dnssec=True also the DANE cases (cases.py DANE_CASES): the zone
dnssec.test signed with ldns-signzone at each start and served by nsd on
127.0.0.53, the lab's unbound validating it with the lab's trust anchor
(stub-zone), glibc passing the AD bit on (options trust-ad), and mxtls
validating with the same anchor. With mtas=True also Debian's Exim and
OpenSMTPD as destinations (cases.py MTA_CASES). Runs only inside
tests/lab/netns-run (loopback-only namespace)."""

import hashlib
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from cases import (ADDR_CASES, ADDR_V6, CASES, DANE_CASES, MTA_CASES, MTA_SINK, SERVED, STS_CASES, STS_NGINX, STS_SLOW,
                   STS_UNREACHABLE)

LAB_SRC = Path(__file__).resolve().parent
REPO = LAB_SRC.parent.parent
# Debian packages tests/setup-debian12 unpacks beside the system (apt-get
# download + dpkg -x): installed, they would start services on the host.
NGINX = Path(os.environ.get("MXTLS_NGINX", "/opt/mxtls-lab/nginx/usr/sbin/nginx"))
MTA_STS_RESOLVER = Path(os.environ.get("MXTLS_MTA_STS_RESOLVER", "/opt/mxtls-lab/mta-sts-resolver"))
EXIM_ROOT = Path(os.environ.get("MXTLS_EXIM_ROOT", "/opt/mxtls-lab/exim"))
OPENSMTPD_ROOT = Path(os.environ.get("MXTLS_OPENSMTPD_ROOT", "/opt/mxtls-lab/opensmtpd"))


def require_netns():
    if os.environ.get("MXTLS_IN_NETNS") != "1":
        raise SystemExit("the lab runs only inside tests/lab/netns-run (a loopback-only network namespace)")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    names = [l.split(":")[1].strip() for l in links.splitlines()]
    if names != ["lo"]:
        raise SystemExit(f"refusing to run the lab: network interfaces besides lo: {names}")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r


def settled_text(path, quiet=0.05, limit=1.0):
    """A daemon's log file once its writer thread is quiet: the daemons
    write lines about 2 ms after the event (a thread of their own takes
    them), so a line logged before a reply may reach the file just after
    it. Reads until the file has not grown for `quiet` seconds (room for a
    loaded machine to schedule the writer), at most `limit`."""
    if not path.exists():
        return ""
    text = path.read_text(errors="replace")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        time.sleep(quiet)
        again = path.read_text(errors="replace")
        if len(again) == len(text):
            break
        text = again
    return text


def wait_for(predicate, timeout=30, what="condition"):
    """Polls until predicate() is truthy; returns its value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def smtp_submit(recipients, subject="mxtls test", host="127.0.0.1"):
    """Submits one message to Postfix over SMTP; returns {recipient: (code, text)}."""
    import smtplib
    replies = {}
    with smtplib.SMTP(host, 25, timeout=30) as s:
        s.ehlo("client.lab.test")
        s.mail("sender@lab.test")
        for r in recipients:
            code, text = s.rcpt(r)
            replies[r] = (code, text.decode(errors="replace"))
        if any(code == 250 for code, _ in replies.values()):
            s.data(f"Subject: {subject}\r\n\r\nbody\r\n".encode())
    return replies


def socketmap_query(path, name, key):
    """One socketmap lookup over a unix socket; returns the reply payload."""
    payload = f"{name} {key}".encode()
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(str(len(payload)).encode() + b":" + payload + b",")
        data = s.recv(65536).decode()
    return data[data.index(":") + 1:-1]


def tcp_socketmap_query(port, name, key, timeout=30):
    """One socketmap lookup over TCP (mta-sts-daemon); returns the payload."""
    payload = f"{name} {key}".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(str(len(payload)).encode() + b":" + payload + b",")
        data = b""
        while not data.endswith(b","):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode()
    return text[text.index(":") + 1:-1]


def policy_query(recipient, addr=("127.0.0.1", 10040), timeout=30):
    """One Postfix policy request (RCPT) over TCP, as smtpd sends it;
    returns (the reply's attributes without the empty line, seconds taken)."""
    request = (f"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nrecipient={recipient}\n"
               "sender=sender@lab.test\nclient_address=127.0.0.1\n\n")
    start = time.time()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(request.encode())
        data = b""
        while not data.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError(f"policy server closed the connection after {data!r}")
            data += chunk
    return data.decode().strip(), time.time() - start


def policy_request(recipient, port, source="127.0.0.1", timeout=5.0):
    """One policy lookup (request=smtpd_access_policy, RCPT) on a new TCP
    connection from `source`; returns the reply, b"" when the daemon closed
    the connection instead."""
    with socket.socket() as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        return policy_exchange(s, recipient)


def policy_exchange(s, recipient):
    """One policy lookup on an open connection; returns the reply (b"" on close)."""
    try:
        s.sendall(f"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient={recipient}\n\n".encode())
        reply = b""
        while not reply.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                return b""
            reply += chunk
        return reply
    except (ConnectionResetError, BrokenPipeError):
        return b""


def cpu_seconds(pid):
    """User plus system CPU time a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def established(address, port):
    """How many TCP connections to address:port are established here (the
    client's side, as `ss` sees it: a server notices a close only later)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "dst", f"{address}:{port}"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def unix_socket_accepts(path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
        return True
    except OSError:
        return False


def wait_port(addr, port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {addr}:{port} after {timeout}s")


class Lab:
    def __init__(self, workdir, build_dir, bench=0, records=(), bench_cases=None, case_options=None, dnssec=False,
                 mtas=False):
        require_netns()
        self.dir = Path(workdir).resolve()
        self.build = Path(build_dir).resolve()
        self.bench = bench  # extra destinations b0..bN-1.bench.test on 127.0.2+.x
        self.bench_cases = bench_cases  # names of the cases they take turns at (None: every served case)
        self.case_options = case_options or {}  # case name -> extra fakedest options, e.g. {"log_connections": "yes"}
        self.records = list(records)  # extra DNS records, unbound local-data unquoted: 'a.test. MX 10 mx.tarpit.test.'
        self.dnssec = dnssec  # the DANE cases, a signed zone and validation
        self.mtas = mtas  # MTA_CASES: Exim and OpenSMTPD as destinations
        self.dnssec_dir = self.dir / "dnssec"
        self.trust_anchor = self.dnssec_dir / "trust-anchor" 
        self.procs = []
        self.mxtls = self.build / "policy" / "mxtls"
        self.policyd = self.build / "policy" / "mxtls-policyd"
        self.policyd_proc = None
        self.sink = self.dir / "sink"
        self.policy_socket = self.dir / "policy.sock"
        self.socketmap_socket = self.dir / "socketmap.sock"
        self.policyd_conf = self.dir / "policyd.conf"
        self.policyd_log = self.dir / "policyd.log"
        self.store = self.dir / "cache.db"  # mxtls-policyd's [store] path
        self.milter = self.build / "milter" / "mxtls-milter"
        self.milter_proc = None
        self.milter_socket = self.dir / "milter.sock"
        self.milter_log = self.dir / "milter.log"
        self.fakedest = self.build / "tests" / "mxtls-fakedest"
        self.certs = self.dir / "certs"
        self.spool = self.dir / "spool"
        self.conf = self.dir / "mxtls.conf"
        self.strict_conf = self.dir / "mxtls-strict.conf"

    # -- certificates -------------------------------------------------------
    def make_certs(self):
        # Remade when the script's text changes (not its mtime: a checkout
        # older than certificates made by another tree's script looks newer).
        script = LAB_SRC / "make-certs.sh"
        stamp = self.certs / "done"
        digest = hashlib.sha256(script.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        shutil.rmtree(self.certs, ignore_errors=True)
        run(["bash", str(script), str(self.certs)])
        stamp.write_text(digest)

    # -- DNS ----------------------------------------------------------------
    def bench_destinations(self):
        """(domain, address, case) for the benchmark's extra destinations."""
        servers = [c for c in CASES if c.server is not None and c.octet and
                   (self.bench_cases is None or c.name in self.bench_cases)]
        out = []
        for i in range(self.bench):
            case = servers[i % len(servers)]
            out.append((f"b{i}.bench.test", f"127.0.{2 + i // 250}.{1 + i % 250}", case))
        # MX host of b{i}.bench.test is mx{i}.bench.test (see write_unbound).
        return out

    def write_unbound(self):
        # A record with quotes of its own (TXT) goes in single quotes.
        data = [f"'{r}'" if '"' in r else f'"{r}"' for r in self.records]
        for c in SERVED:
            if c.dns == "nullmx":
                data.append(f'"{c.name}.test. MX 0 ."')
            elif c.dns == "mx":
                data.append(f'"{c.name}.test. MX 10 mx.{c.name}.test."')
                data.append(f'"mx.{c.name}.test. A 127.0.0.{c.octet}"')
        for c in MTA_CASES if self.mtas else ():
            data.append(f'"{c.name}.test. MX 10 mx.{c.name}.test."')
            data.append(f'"mx.{c.name}.test. A 127.0.0.{c.octet}"')
        for i, (domain, addr, case) in enumerate(self.bench_destinations()):
            data.append(f'"{domain}. MX 10 mx{i}.bench.test."')
            data.append(f'"mx{i}.bench.test. A {addr}"')
        data.append('"mta.lab.test. A 127.0.0.1"')
        for c in ADDR_CASES:  # several MX hosts and addresses, IPv6 among them
            for pref, host, addrs in c.mx:
                data.append(f'"{c.name}.test. MX {pref} {host}."')
                data += [f'"{host}. {"AAAA" if ":" in a else "A"} {a}"' for a, _ in addrs]
        dnssec_conf = ""
        if self.dnssec:
            for c in DANE_CASES:
                if c.mx_host:  # an unsigned MX RRset naming a signed host
                    data.append(f'"{c.name}.test. MX 10 {c.mx_host}."')
                elif not c.signed:  # unsigned: plain local data, TLSA and all
                    data.append(f'"{c.name}.test. MX 10 mx.{c.name}.test."')
                    data.append(f'"mx.{c.name}.test. A 127.0.0.{c.octet}"')
                    data += [f'"_25._tcp.mx.{c.name}.test. TLSA {t}"' for t in self.tlsa_texts(c)]
            dnssec_conf = f"""  do-not-query-localhost: no
  local-zone: "{self.DNSSEC_ZONE}" transparent
  trust-anchor-file: "{self.trust_anchor}"
  val-log-level: 2
"""
        for c in STS_CASES:
            data.append(f'"{c.name}.test. MX 10 mx.{c.name}.test."')
            data.append(f'"mx.{c.name}.test. A 127.0.0.{next(x for x in CASES if x.name == c.mx).octet}"')
            # TXT character-strings hold 255 bytes each.
            strings = " ".join('"' + c.txt[i:i + 255] + '"' for i in range(0, len(c.txt), 255))
            # TTL 1: resolvers (libunbound in mxtls) see a changed id at once.
            data.append(f"'_mta-sts.{c.name}.test. 1 TXT {strings}'")
            addr = {"nginx": STS_NGINX, "selfsigned": STS_NGINX, "unreachable": STS_UNREACHABLE, "slow": STS_SLOW}[c.host]
            data.append(f'"mta-sts.{c.name}.test. A {addr}"')
        conf = f"""server:
  interface: 127.0.0.1@53
  interface: 127.0.0.1@5353
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{self.dir}"
  pidfile: ""
  use-syslog: no
  logfile: "{self.dir}/unbound.log"
  verbosity: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  local-zone: "test." static
""" + dnssec_conf + "".join(f"  local-data: {d}\n" for d in data) + "remote-control:\n  control-enable: no\n"
        if self.dnssec:
            conf += f'stub-zone:\n  name: "{self.DNSSEC_ZONE}"\n  stub-addr: {self.NSD_ADDR}@53\n'
        (self.dir / "unbound.conf").write_text(conf)
        # trust-ad: glibc passes the AD bit of the lab's validating unbound to
        # Postfix (smtp_dns_support_level = dnssec needs it).
        options = "options timeout:2 attempts:1" + (" trust-ad" if self.dnssec else "")
        (self.dir / "resolv.conf").write_text(f"nameserver 127.0.0.1\n{options}\n")

    # -- DNSSEC (the DANE cases) --------------------------------------------
    DNSSEC_ZONE = "dnssec.test."
    NSD_ADDR = "127.0.0.53"

    def _der(self, kind, name):
        path = self.certs / name
        cmd = (["openssl", "x509", "-in", str(path), "-outform", "DER"] if kind == "cert"
               else ["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"])
        return subprocess.run(cmd, capture_output=True, check=True).stdout

    def tlsa_texts(self, case):
        """The case's TLSA records in presentation form (hex data)."""
        out = []
        for usage, selector, mtype, (kind, what) in case.tlsa:
            if kind == "raw":
                data = bytes.fromhex(what)
            else:
                der = self._der(kind, what)
                if selector == 1 and kind == "cert":
                    raise ValueError("selector 1 takes a key")
                data = der if mtype == 0 else hashlib.sha256(der).digest() if mtype in (1, 255) else hashlib.sha512(der).digest()
            out.append(f"{usage} {selector} {mtype} {data.hex()}")
        rng = random.Random(case.name)
        # Distinct records (an RRset holds no duplicates): counters when short.
        out += [f"3 1 1 {(rng.randbytes(32) if case.flood_len >= 32 else i.to_bytes(case.flood_len, 'big')).hex()}"
                for i in range(case.flood)]
        return out

    def write_dnssec(self):
        """Makes and signs the zone dnssec.test (fresh keys each start), breaks
        the signature of each bogus case's TLSA RRset, writes the trust anchor
        and nsd's configuration."""
        d = self.dnssec_dir
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        zone = self.DNSSEC_ZONE
        lines = [f"$ORIGIN {zone}", "$TTL 300",
                 f"@ IN SOA ns.{zone} hostmaster.{zone} 1 3600 600 86400 300",
                 f"@ IN NS ns.{zone}", f"ns IN A {self.NSD_ADDR}"]
        for c in DANE_CASES:
            if not c.signed:
                continue
            host = f"mx.{c.name}.test."
            lines.append(f"{c.name}.test. IN MX 10 {host}")
            lines.append(f"{host} IN A 127.0.0.{c.octet}")
            lines += [f"_25._tcp.{host} IN TLSA {t}" for t in self.tlsa_texts(c)]
        (d / "zone").write_text("\n".join(lines) + "\n")
        key = run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=d).stdout.strip()
        run(["ldns-signzone", "-n", "-f", str(d / "zone.signed"), str(d / "zone"), key], cwd=d)
        signed = (d / "zone.signed").read_text().splitlines()
        for c in DANE_CASES:
            if c.bogus:
                owner = f"_25._tcp.mx.{c.name}.test."
                signed = [self._break_signature(l) if l.startswith(owner) and re.search(r"\sRRSIG\s+TLSA\s", l) else l
                          for l in signed]
        (d / "zone.signed").write_text("\n".join(signed) + "\n")
        self.trust_anchor.write_text((d / f"{key}.ds").read_text())
        (d / "nsd.conf").write_text(f"""server:
  ip-address: {self.NSD_ADDR}@53
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{d}"
  database: ""
  zonelistfile: "{d}/zone.list"
  xfrdfile: "{d}/xfrd.state"
  pidfile: ""
  logfile: "{d}/nsd.log"
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "{zone}"
  zonefile: "{d}/zone.signed"
""")

    @staticmethod
    def _break_signature(line):
        """Flips bits in the middle of an RRSIG's signature (base64, last field)."""
        fields = line.split()
        sig = bytearray(fields[-1].encode())
        mid = len(sig) // 2
        sig[mid] = ord("A") if sig[mid] != ord("A") else ord("B")
        fields[-1] = sig.decode()
        return "\t".join(fields)

    # -- MTA-STS policy hosts -------------------------------------------------
    def start_sts_hosts(self):
        """nginx (Debian's) serving each STS case's policy on 127.0.0.60:443
        with certificates from the lab CA, and the slow-loris policy host."""
        www = self.dir / "sts-www"
        shutil.rmtree(www, ignore_errors=True)
        servers = []
        for c in STS_CASES:
            if c.host not in ("nginx", "selfsigned"):
                continue
            root = www / c.name / ".well-known"
            root.mkdir(parents=True)
            policy = root / "mta-sts.txt"
            if c.serve == "huge":
                with open(policy, "wb") as f:
                    f.write(b"version: STSv1\r\nmode: enforce\r\nmx: mx.sts-huge.test\r\nmax_age: 86400\r\n")
                    f.write((b"x: " + b"a" * 1000 + b"\r\n") * 10240)  # 10 MB
            else:
                policy.write_text(c.policy)
            cert, key = (self.certs / "mta-sts.pem", self.certs / "leaf.key")
            chain = self.dir / "mta-sts-chain.pem"
            chain.write_text(cert.read_text() + (self.certs / "intermediate.pem").read_text())
            if c.host == "selfsigned":
                chain = self.certs / "mta-sts-selfsigned.pem"
            location = {"policy": "default_type text/plain;",
                        "huge": "default_type text/plain;",
                        "badtype": "default_type text/html;",
                        "redirect": f"return 301 https://mta-sts.sts-enforce.test/.well-known/mta-sts.txt;"}[c.serve]
            servers.append(f"""  server {{
    listen {STS_NGINX}:443 ssl;
    server_name mta-sts.{c.name}.test;
    ssl_certificate {chain};
    ssl_certificate_key {key};
    root {www / c.name};
    location = /.well-known/mta-sts.txt {{ {location} }}
  }}
""")
        tmp = self.dir / "nginx-tmp"
        tmp.mkdir(exist_ok=True)
        for d in (www, tmp):
            os.chmod(d, 0o755)
        conf = f"""daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log {self.dir}/nginx-access.log;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  default_type application/octet-stream;
  ssl_protocols TLSv1.2 TLSv1.3;
{''.join(servers)}}}
"""
        (self.dir / "nginx.conf").write_text(conf)
        if not NGINX.exists():
            raise RuntimeError(f"no nginx at {NGINX}: run tests/setup-debian12")
        self.spawn("nginx", [str(NGINX), "-e", str(self.dir / "nginx-error.log"), "-c", str(self.dir / "nginx.conf")])
        self.spawn("slow-https", [sys.executable, str(LAB_SRC / "slow_https.py"), STS_SLOW, "443",
                                  str(self.dir / "mta-sts-chain.pem"), str(self.certs / "leaf.key")])
        wait_port(STS_NGINX, 443)
        wait_port(STS_SLOW, 443)

    def restart_unbound(self):
        """Rewrites the zone (after a case's records changed) and restarts unbound."""
        old = self.spawned("unbound")
        old.terminate()
        old.wait(timeout=10)
        self.procs.remove(old)
        self.write_unbound()
        self.spawn("unbound", ["unbound", "-d", "-c", str(self.dir / "unbound.conf")])
        wait_port("127.0.0.1", 5353)

    def sts_conf(self, extra=""):
        """The lab's mxtls.conf with MTA-STS on: the lab CA for policy
        fetches, a short fetch deadline."""
        path = self.dir / "mxtls-sts.conf"
        path.write_text(self.conf.read_text() + f"""
[mta_sts]
ca_file = {self.certs}/ca.pem
fetch_timeout = 4s
{extra}
""")
        return path

    def start_mta_sts_daemon(self, port=8461, config=None):
        """Debian's postfix-mta-sts-resolver (mta-sts-daemon) on 127.0.0.1:PORT,
        resolving through the lab's unbound (/etc/resolv.conf here) and
        trusting the lab CA (OpenSSL's SSL_CERT_FILE, which aiohttp's default
        context reads). It ignores SIGTERM: stop() kills it."""
        pkgs = MTA_STS_RESOLVER / "usr/lib/python3/dist-packages"
        if not (pkgs / "postfix_mta_sts_resolver").exists():
            raise RuntimeError(f"no postfix-mta-sts-resolver under {MTA_STS_RESOLVER}: run tests/setup-debian12")
        conf = config or self.dir / "mta-sts-daemon.yml"
        if not config:
            conf.write_text(f"host: 127.0.0.1\nport: {port}\ncache:\n  type: internal\n"
                            "default_zone:\n  strict_testing: false\n  timeout: 4\n")
        env = dict(os.environ, PYTHONPATH=str(pkgs), SSL_CERT_FILE=str(self.certs / "ca.pem"))
        with open(self.dir / "mta-sts-daemon.err", "w") as err:
            # Debian's Python: the resolver's dependencies are Debian packages.
            proc = subprocess.Popen(["/usr/bin/python3", "-c", "import sys\nfrom postfix_mta_sts_resolver.daemon import main\n"
                                     "sys.argv = ['mta-sts-daemon'] + sys.argv[1:]\nmain()",
                                     "-c", str(conf), "-v", "warn"],
                                    stdout=subprocess.DEVNULL, stderr=err, env=env)
        proc.mxtls_name = "mta-sts-daemon"
        proc.mxtls_kill = True
        self.procs.append(proc)
        wait_port("127.0.0.1", port, timeout=20)
        return proc

    # -- fake destinations --------------------------------------------------
    def cert_options(self, cert, case_name):
        c = self.certs
        if cert == "sni":
            return {"cert": c / "sni-default.pem", "key": c / "leaf.key", "chain": c / "intermediate.pem",
                    "sni_cert": c / f"good-{case_name}.pem", "sni_key": c / "leaf.key",
                    "sni_name": f"mx.{case_name}.test"}
        if cert == "good":
            return {"cert": c / f"good-{case_name}.pem", "key": c / "leaf.key", "chain": c / "intermediate.pem"}
        if cert == "weak":
            return {"cert": c / "weak.pem", "key": c / "weak.key", "chain": c / "intermediate.pem"}
        if cert == "selfsigned":
            return {"cert": c / "selfsigned.pem", "key": c / "leaf.key"}
        if cert == "nochain":
            return {"cert": c / "good-nointermediate.pem", "key": c / "leaf.key"}
        if cert == "ecdsa":
            return {"cert": c / f"good-{case_name}.pem", "key": c / "ec.key", "chain": c / "intermediate.pem"}
        return {"cert": c / f"{cert}.pem", "key": c / "leaf.key", "chain": c / "intermediate.pem"}

    def write_fakedest(self):
        lines = []
        if self.dnssec:
            for c in DANE_CASES:
                if not c.octet:
                    continue
                opts = {"case": c.name, "listen": f"127.0.0.{c.octet}:25", "cert": self.certs / c.cert,
                        "key": self.certs / "leaf.key"}
                if c.cert != "dane-ee.pem":
                    opts["chain"] = self.certs / "intermediate.pem"
                lines.append(" ".join(f"{k}={v}" for k, v in opts.items()))
        extra = {}
        for domain, addr, case in self.bench_destinations():
            extra.setdefault(case.name, []).append(f"{addr}:25")
        for a in ADDR_V6:  # a case's server on an IPv6 address of ADDR_CASES
            backend = next(b for c in ADDR_CASES for _, _, addrs in c.mx for x, b in addrs if x == a)
            extra.setdefault(backend, []).append(f"[{a}]:25")
        for c in SERVED:
            if c.server is None or not c.octet:
                continue
            opts = {"case": c.name, "listen": ",".join([f"127.0.0.{c.octet}:25"] + extra.get(c.name, []))}
            opts.update(self.cert_options(c.cert, c.name))
            opts.update(c.server)
            if opts.get("dh", "auto") != "auto":  # DH parameters the lab made (make-certs.sh)
                opts["dh"] = self.certs / opts["dh"]
            opts.update(self.case_options.get(c.name, {}))
            lines.append(" ".join(f"{k}={v}" for k, v in opts.items()))
        if self.mtas:  # where the other MTAs relay what they take
            lines.append(f"case=mtasink listen={MTA_SINK}:25 starttls=no")
        (self.dir / "fakedest.conf").write_text("\n".join(lines) + "\n")

    def write_mxtls_conf(self):
        # The postfix profile's step timeouts are Postfix's (main.cf below);
        # the strict profile sets its own.
        strict_steps = "connect_timeout = 2s\ngreeting_timeout = 3s\ncommand_timeout = 3s\nhandshake_timeout = 3s\n"
        common = f"""[probe]
allow_private_targets = yes
{{steps}}destination_timeout = 20s
helo_name = mta.lab.test

[dns]
forwarder = 127.0.0.1@5353
transparent_zones = test.
timeout = 3s
""" + (f"trust_anchor = {self.trust_anchor}\n" if self.dnssec else "") + f"""
[log]
target = stderr
"""
        self.conf.write_text(common.format(steps="") + f"""
[tls]
profile = postfix
postfix_config_dir = {self.dir}/postfix
""")
        self.strict_conf.write_text(common.format(steps=strict_steps) + f"""
[tls]
profile = custom
security_level = secure
protocols = >=TLSv1.2
ciphers = DEFAULT
openssl_security_level = 2
ca_file = {self.certs}/ca.pem
servername = hostname
""")

    # -- Postfix ------------------------------------------------------------
    def write_postfix(self, main_cf_extra=None):
        pf = self.dir / "postfix"
        if not (pf / "postfix-files").exists():
            # The package's support files (postfix-files, dynamicmaps.cf, ...) come along.
            shutil.copytree("/etc/postfix", pf, symlinks=True, dirs_exist_ok=True)
        main = {
            "compatibility_level": "3.6",
            "queue_directory": "/var/spool/postfix",
            "data_directory": f"{self.dir}/postfix-data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mta.lab.test",
            "mydomain": "lab.test",
            "myorigin": "lab.test",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "all",  # the IPv6 addresses of ADDR_CASES
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "maillog_file": f"{self.dir}/postfix.log",
            "maillog_file_prefixes": f"{self.dir}",
            "smtp_tls_security_level": "may",
            "smtp_tls_CAfile": f"{self.certs}/ca.pem",
            "smtp_tls_loglevel": "1",
            "smtp_connect_timeout": "3s",
            "smtp_helo_timeout": "4s",
            "smtp_starttls_timeout": "4s",
            "smtp_data_init_timeout": "4s",
            "smtp_mail_timeout": "4s",
            "smtp_rcpt_timeout": "4s",
            "smtp_quit_timeout": "2s",
            "queue_run_delay": "1h",
            "minimal_backoff_time": "1h",
            "maximal_backoff_time": "2h",
            "smtp_host_lookup": "dns",
            "disable_dns_lookups": "no",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
        }
        main.update(main_cf_extra or {})
        (pf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
        master = (Path("/etc/postfix/master.cf")).read_text()
        out = []
        for line in master.splitlines():
            f = line.split()
            if len(f) >= 8 and not line.startswith((" ", "#", "\t")):
                f[4] = "n"  # chroot = n
                line = "  ".join(f[:8]) + ("  " + " ".join(f[8:]) if len(f) > 8 else "")
            out.append(line)
        if not any(l.startswith("postlog") for l in out):
            out.append("postlog   unix-dgram n  -       n       -       1       postlogd")
        (pf / "master.cf").write_text("\n".join(out) + "\n")
        return pf

    def start_postfix(self, main_cf_extra=None):
        """Bind-mounts the lab's Postfix config and queue over the system's
        (private mount namespace) and starts it."""
        pf = self.write_postfix(main_cf_extra)
        queue = self.dir / "postfix-queue"
        queue.mkdir(exist_ok=True)
        (self.dir / "postfix-data").mkdir(exist_ok=True)
        run(["chown", "postfix", str(self.dir / "postfix-data")])
        run(["mount", "--bind", str(pf), "/etc/postfix"])
        run(["mount", "--bind", str(queue), "/var/spool/postfix"])
        run(["postfix", "set-permissions"], input="")
        run(["postfix", "check"])
        run(["postfix", "start"])
        self.postfix_running = True
        wait_port("127.0.0.1", 25)

    def add_group(self, name, members):
        """Adds a group to this namespace's /etc/group (a copy of the
        system's, bind-mounted over it); returns its gid."""
        group = self.dir / "group"
        if not getattr(self, "group_mounted", False):
            shutil.copy("/etc/group", group)
            run(["mount", "--bind", str(group), "/etc/group"])
            self.group_mounted = True
        gid = 1 + max(int(line.split(":")[2]) for line in group.read_text().splitlines() if line.count(":") == 3
                      and int(line.split(":")[2]) < 60000)
        with open(group, "a") as f:
            f.write(f"{name}:x:{gid}:{','.join(members)}\n")
        return gid

    def postfix_reconfigure(self, main_cf_extra):
        self.write_postfix(main_cf_extra)
        run(["postfix", "reload"])

    # -- other MTA families as destinations ---------------------------------
    def add_user(self, name, uid):
        """Adds a system user (and its group) to this namespace's
        /etc/passwd and /etc/group (copies bind-mounted over them)."""
        passwd = self.dir / "passwd"
        if not getattr(self, "passwd_mounted", False):
            shutil.copy("/etc/passwd", passwd)
            run(["mount", "--bind", str(passwd), "/etc/passwd"])
            self.passwd_mounted = True
        if f"\n{name}:" not in "\n" + passwd.read_text():
            gid = self.add_group(name, [])
            with open(passwd, "a") as f:
                f.write(f"{name}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")

    def start_mtas(self):
        """Debian's Exim and OpenSMTPD (unpacked by tests/setup-debian12) as
        the destinations of MTA_CASES."""
        for root, binary in ((EXIM_ROOT, "usr/sbin/exim4"), (OPENSMTPD_ROOT, "usr/sbin/smtpd")):
            if not (root / binary).exists():
                raise RuntimeError(f"no {binary} under {root}: run tests/setup-debian12")
        for c in MTA_CASES:
            if c.server["mta"] == "exim":
                self.start_exim(c)
        self.start_opensmtpd([c for c in MTA_CASES if c.server["mta"] == "opensmtpd"])
        for c in MTA_CASES:
            wait_port(f"127.0.0.{c.octet}", 25)

    def start_exim(self, case):
        """One Exim daemon per case (its own config, spool and log), TLS
        from GnuTLS with the case's certificate; tls_require_ciphers takes
        a GnuTLS priority string. It keeps what it takes (queue_only: its
        deliveries re-exec /usr/sbin/exim4, which is not there) and logs
        each message with its recipient."""
        self.add_user("Debian-exim", 64990)  # the user Debian's exim4 is built to run as
        d = self.dir / "exim" / case.name
        shutil.rmtree(d, ignore_errors=True)
        (d / "spool").mkdir(parents=True)
        (d / "log").mkdir()
        certs = self.cert_options(case.cert, case.name)
        shutil.copy(certs["key"], d / "key.pem")  # the receiving process runs as Debian-exim
        (d / "cert.pem").write_text(Path(certs["cert"]).read_text() + Path(certs["chain"]).read_text())
        for path in (d / "spool", d / "log", d / "key.pem"):
            shutil.chown(path, "Debian-exim")
        priority = case.server.get("tls_require_ciphers", "NORMAL")
        (d / "exim.conf").write_text(f"""primary_hostname = mx.{case.name}.test
local_interfaces = 127.0.0.{case.octet}
daemon_smtp_ports = 25
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
queue_only = true
log_selector = +received_recipients
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = accept
tls_advertise_hosts = *
tls_certificate = {d}/cert.pem
tls_privatekey = {d}/key.pem
tls_require_ciphers = {priority}
""")
        # -bdf: the daemon stays in the foreground, so stop() ends it.
        self.spawn(f"exim-{case.name}", [str(EXIM_ROOT / "usr/sbin/exim4"), "-C", str(d / "exim.conf"), "-bdf", "-oX", "25"])

    def start_opensmtpd(self, cases):
        """One OpenSMTPD (6.8, Debian's) listening for every OpenSMTPD case:
        STARTTLS with the case's certificate unless tls=no. Its spool, and
        /run for its control socket, are the lab's (bind mounts)."""
        for user, uid in (("opensmtpd", 64991), ("opensmtpq", 64992)):
            self.add_user(user, uid)
        d = self.dir / "opensmtpd"
        shutil.rmtree(d, ignore_errors=True)
        (d / "spool").mkdir(parents=True)
        (d / "run").mkdir()
        (d / "spool").chmod(0o711)
        run(["mount", "--bind", str(d / "spool"), "/var/spool/smtpd"])
        run(["mount", "--bind", str(d / "run"), "/run"])
        conf = []
        for c in cases:
            listen = f"listen on 127.0.0.{c.octet} port 25 hostname mx.{c.name}.test"
            if c.server.get("tls", "yes") == "yes":
                certs = self.cert_options(c.cert, c.name)
                (d / f"{c.name}.pem").write_text(Path(certs["cert"]).read_text() + Path(certs["chain"]).read_text())
                conf += [f'pki {c.name} cert "{d}/{c.name}.pem"', f'pki {c.name} key "{certs["key"]}"']
                listen += f" tls pki {c.name}"
            conf.append(listen)
        conf += [f'action "sink" relay host smtp://{MTA_SINK}:25', 'match from any for any action "sink"']
        (d / "smtpd.conf").write_text("\n".join(conf) + "\n")
        self.spawn("opensmtpd", [str(OPENSMTPD_ROOT / "usr/sbin/smtpd"), "-d", "-f", str(d / "smtpd.conf")])

    def forget_mta_deliveries(self):
        """Empties Exim's logs and the sink: later mta_delivery() calls see
        only what arrives from now on."""
        for log in (self.dir / "exim").glob("*/log/mainlog"):
            log.write_text("")
        (self.spool / "mtasink.msgs").unlink(missing_ok=True)

    def mta_delivery(self, case, wait=False):
        """How the lab's Postfix reached an MTA case: "tls", "plaintext", or
        None (nothing arrived; with wait, after waiting for it). Exim logs
        each message it takes with its protocol (P=esmtps: over TLS);
        OpenSMTPD's copy at the sink has its Received header (with ESMTPS)."""
        rcpt = f"user@{case}.test"

        def from_exim():
            log = self.dir / "exim" / case / "log" / "mainlog"
            for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
                if " <= " in line and line.endswith(f" for {rcpt}"):
                    return "tls" if " P=esmtps " in line else "plaintext"
            return None

        def from_sink():
            for message in self.delivered_messages("mtasink"):
                headers = re.sub(r"\n[ \t]+", " ", message.split("\n\n")[0])
                first = next((l for l in headers.splitlines() if l.lower().startswith("received:")), "")
                if rcpt in first:
                    return "tls" if re.search(r"\bwith esmtps", first, re.I) else "plaintext"
            return None
        find = from_exim if next(c for c in MTA_CASES if c.name == case).server["mta"] == "exim" else from_sink
        return wait_for(find, timeout=30, what=f"{case} to receive the message") if wait else find()

    # -- mxtls-policyd and a relay ------------------------------------------
    RELAY = "127.0.0.50"
    POLICY_PORT = 10040

    def write_policyd_conf(self, policy_extra="", level="encrypt", sections="", log_target=None):
        # policy_extra's keys replace these.
        defaults = {"listen": f"inet:127.0.0.1:{self.POLICY_PORT} unix:{self.policy_socket}",
                    "socketmap_listen": f"unix:{self.socketmap_socket}", "socket_mode": "0666",
                    "idle_timeout": "3s", "reroute": f"relay:[{self.RELAY}]:25"}
        overridden = {line.split("=")[0].strip() for line in policy_extra.splitlines() if "=" in line}
        policy = "".join(f"{k} = {v}\n" for k, v in defaults.items() if k not in overridden)
        self.policyd_conf.write_text(self.conf.read_text().replace("[log]\ntarget = stderr\n", "") + f"""
security_level = {level}

[policy]
{policy}{policy_extra}

[store]
path = {self.store}

[log]
target = {log_target or f"file:{self.policyd_log}"}
{sections}""")

    def start_policyd(self, policy_extra="", level="encrypt", sections="", log_target=None):
        """Starts mxtls-policyd (policy on inet:127.0.0.1:10040 and a unix
        socket, socketmap on a unix socket, store in the lab dir); `sections`
        adds whole sections, e.g. "[cache]\nmax_parallel = 4\n"."""
        self.write_policyd_conf(policy_extra, level, sections, log_target)
        r = subprocess.run([str(self.policyd), "--config", str(self.policyd_conf), "--check-config"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"mxtls-policyd --check-config: {r.stderr}")
        with open(self.dir / "policyd.err", "a") as err:
            self.policyd_proc = subprocess.Popen([str(self.policyd), "--config", str(self.policyd_conf)],
                                                 stdout=subprocess.DEVNULL, stderr=err)
        wait_port("127.0.0.1", self.POLICY_PORT)
        # The unix sockets are bound a moment after the TCP port.
        for path in (self.policy_socket, self.socketmap_socket):
            wait_for(lambda: unix_socket_accepts(path), timeout=10, what=f"{path} to accept")
        return self.policyd_proc

    def check_clean_exit(self, proc, name):
        """A daemon stopped with SIGTERM must exit 0: under the sanitizer
        build a memory error or leak found at shutdown makes it exit 99."""
        if proc.returncode != 0:
            err = (self.dir / f"{name}.err").read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{name} exited with {proc.returncode} after SIGTERM:\n{err}")

    def stop_policyd(self, sig=15):
        if self.policyd_proc:
            proc, self.policyd_proc = self.policyd_proc, None
            proc.send_signal(sig)
            proc.wait(timeout=30)
            if sig == 15:
                self.check_clean_exit(proc, "policyd")

    def start_milter(self, milter_extra="", engine=None):
        """Starts mxtls-milter on a unix socket, asking the lab's mxtls-policyd."""
        conf = self.dir / "milter.conf"
        conf.write_text(self.policyd_conf.read_text() + f"""
[milter]
socket = unix:{self.milter_socket}
socket_mode = 0666
engine = {engine or f"unix:{self.policy_socket}"}
engine_timeout = 1s
{milter_extra}
""")
        with open(self.dir / "milter.err", "a") as err:
            self.milter_proc = subprocess.Popen([str(self.milter), "--config", str(conf), "--log", f"file:{self.milter_log}"],
                                                stdout=subprocess.DEVNULL, stderr=err)
        wait_for(lambda: self.milter_socket.exists(), timeout=10, what="the milter socket")
        return conf

    def stop_milter(self):
        if self.milter_proc:
            proc, self.milter_proc = self.milter_proc, None
            proc.terminate()
            proc.wait(timeout=30)
            self.milter_socket.unlink(missing_ok=True)
            self.check_clean_exit(proc, "milter")

    def milter_log_text(self):
        return settled_text(self.milter_log)

    def delivered_messages(self, case):
        f = self.spool / f"{case}.msgs"
        return f.read_text().split("--- end of message ---\n")[:-1] if f.exists() else []

    # -- Sendmail -----------------------------------------------------------
    SENDMAIL_PORT = 2525

    SENDMAIL_ROOT = Path(os.environ.get("MXTLS_SENDMAIL_ROOT", "/opt/mxtls-lab/sendmail"))

    def sendmail_root(self):
        """Sendmail conflicts with Postfix as a package: tests/setup-debian12
        unpacks its .debs (apt-get download + dpkg -x) outside the namespace."""
        if not (self.SENDMAIL_ROOT / "usr/libexec/sendmail/sendmail").exists():
            raise RuntimeError(f"no Sendmail under {self.SENDMAIL_ROOT}: run tests/setup-debian12")
        return self.SENDMAIL_ROOT

    def start_sendmail(self, milter=True, mc_extra=""):
        """The real Sendmail (8.17, Debian's build) on 127.0.0.1:2525 with
        mxtls-milter as INPUT_MAIL_FILTER (unless milter is off), delivering
        to the lab by MX; mc_extra adds .mc lines (e.g. confCACERT)."""
        root = self.sendmail_root()
        sm = self.dir / "sendmail"
        (sm / "queue").mkdir(parents=True, exist_ok=True)
        (sm / "queue").chmod(0o700)
        mc = self.sendmail_mc_head(root, sm, "mxtls lab") + f"""define(`confTO_INITIAL', `4s')dnl
define(`confTO_HELO', `4s')dnl
define(`confMILTER_MACROS_ENVFROM', `i, {{auth_authen}}, {{mail_addr}}')dnl
define(`confMILTER_MACROS_ENVRCPT', `i, {{rcpt_mailer}}, {{rcpt_host}}, {{rcpt_addr}}')dnl
define(`confMILTER_MACROS_EOM', `{{msg_id}}, i')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
{f"INPUT_MAIL_FILTER(`mxtls', `S=unix:{self.milter_socket}, F=T, T=S:10s;R:10s;E:1m')dnl" if milter else ""}
{mc_extra}DAEMON_OPTIONS(`Port={self.SENDMAIL_PORT}, Addr=127.0.0.1, Name=MTA')dnl
MAILER(`smtp')dnl
"""
        (sm / "lab.mc").write_text(mc)
        cf = run(["m4", str(sm / "lab.mc")]).stdout
        (sm / "lab.cf").write_text(cf)
        binary = root / "usr/libexec/sendmail/sendmail"
        self.spawn("sendmail", [str(binary), "-bD", "-C", str(sm / "lab.cf"), "-L", "sm-mta-lab",
                                "-O", "LogLevel=9"])
        wait_port("127.0.0.1", self.SENDMAIL_PORT)

    @staticmethod
    def sendmail_mc_head(root, sm, version):
        """The m4 lines every lab sendmail.cf starts with: Debian's cf.m4 from
        the unpacked ROOT, the queue, pid and statistics files in SM, no
        aliases, no ident lookups, a 3 s connect timeout."""
        return f"""divert(0)dnl
include(`{root}/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`{version}')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mta.lab.test')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`QUEUE_DIR', `{sm}/queue')dnl
define(`confPID_FILE', `{sm}/sendmail.pid')dnl
define(`STATUS_FILE', `{sm}/statistics')dnl
define(`ALIAS_FILE', `')dnl
define(`confTO_IDENT', `0s')dnl
define(`confTO_CONNECT', `3s')dnl
"""

    # -- Sendmail as the sending MTA (the sendmail compat profile) ----------
    # Writes each datagram as a syslog daemon would ("<22>Nov 30 06:05:16
    # sendmail[9]: ..." -> "Nov 30 06:05:16 mta.lab.test sendmail[9]: ...").
    SYSLOG_LISTENER = r"""
import re, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        line = s.recv(65536).rstrip(b"\0\n").replace(b"\n", b" ")
        out.write(re.sub(rb"^<\d+>(.{15}) ", rb"\1 mta.lab.test ", line) + b"\n")
"""

    def start_syslog(self, name="syslog"):
        """A syslog socket in the lab dir whose datagrams are appended, one
        line each in mail.log's shape, to lab/NAME.log (the namespace has no /dev/log):
        sendmail_sender_run() points Sendmail's /dev/log at it."""
        sock = self.dir / f"{name}.sock"
        sock.unlink(missing_ok=True)
        self.spawn(name, [sys.executable, "-c", self.SYSLOG_LISTENER, str(sock), str(self.dir / f"{name}.log")])
        wait_for(sock.exists, timeout=10, what="the syslog socket")
        return sock

    def write_sendmail_sender(self, sm, mc_extra="", access=""):
        """sendmail.cf for the real Sendmail as the sending MTA in SM (a
        directory): no daemon, short timeouts, the lab CA as CACertFile, an
        access map (makemap hash) from the text ACCESS, and MC_EXTRA (m4
        lines, e.g. define(`confTLS_FALLBACK_TO_CLEAR', `True')). Returns
        the sendmail.cf path."""
        root = self.sendmail_root()
        (sm / "queue").mkdir(parents=True, exist_ok=True)
        (sm / "queue").chmod(0o700)
        (sm / "access").write_text(access)
        timeouts = "".join(f"define(`confTO_{t}', `4s')dnl\n" for t in
                           ("INITIAL", "HELO", "STARTTLS", "MAIL", "RCPT", "DATAINIT", "DATABLOCK", "DATAFINAL", "QUIT"))
        mc = self.sendmail_mc_head(root, sm, "mxtls lab sender") + f"""{timeouts}define(`confCACERT', `{self.certs}/ca.pem')dnl
define(`confCACERT_PATH', `{self.certs}')dnl
define(`confMIN_QUEUE_AGE', `0')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`access_db', `hash -T<TMPF> -o {sm}/access')dnl
{mc_extra}MAILER(`smtp')dnl
"""
        (sm / "sender.mc").write_text(mc)
        cf = sm / "sendmail.cf"
        cf.write_text(run(["m4", str(sm / "sender.mc")]).stdout)
        run([str(root / "usr/libexec/sendmail/makemap"), "-C", str(cf), "hash", str(sm / "access")], input=access)
        return cf

    def sendmail_sender_run(self, cf, *args, syslog=None, input=None, timeout=300):
        """Runs the real Sendmail binary with CF and ARGS (e.g. -qf for one
        queue run, -odq to queue a message) in a mount namespace of its own
        whose /dev/log is SYSLOG (a start_syslog() socket)."""
        binary = self.sendmail_root() / "usr/libexec/sendmail/sendmail"
        dev = cf.parent / "dev"
        dev.mkdir(exist_ok=True)
        script = ('set -e; mount -t tmpfs -o mode=755 none "$1"; for n in null zero random urandom; do '
                  ': > "$1/$n"; mount --bind "/dev/$n" "$1/$n"; done; ln -s /proc/self/fd "$1/fd"; '
                  '[ -z "$2" ] || ln -s "$2" "$1/log"; mount --bind "$1" /dev; shift 2; exec "$@"')
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                               str(dev), str(syslog or ""), str(binary), "-C", str(cf), "-O", "LogLevel=14", *args],
                              capture_output=True, text=True, timeout=timeout, input=input)

    def start_sink(self, keep_messages=True):
        """Postfix's smtp-sink as the relay that rerouted mail reaches; each
        message lands in a file under lab/sink (unless keep_messages is off)."""
        self.sink.mkdir(exist_ok=True)
        shutil.chown(self.sink, "postfix")  # smtp-sink drops to the postfix user
        dump = ["-d", f"{self.sink}/msg."] if keep_messages else []
        self.spawn("smtp-sink", ["smtp-sink", "-u", "postfix", *dump, f"{self.RELAY}:25", "256"])
        wait_port(self.RELAY, 25)

    def policyd_log_text(self):
        return settled_text(self.policyd_log)

    def learn(self, domain):
        """Has mxtls-policyd probe `domain` (a socketmap lookup queues it) and waits for the verdict."""
        socketmap_query(self.socketmap_socket, "tlspolicy", domain)
        wait_for(lambda: f"probe: domain={domain}," in self.policyd_log_text(), what=f"probe of {domain}")
        time.sleep(0.2)

    def sink_messages(self):
        return [p.read_text(errors="replace") for p in sorted(self.sink.glob("msg.*"))]

    # -- lifecycle ----------------------------------------------------------
    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        # Each start begins from nothing: no deliveries, queue, store or logs
        # from an earlier run (certificates are kept; they are remade when
        # the script that makes them changes).
        for stale in ["spool", "sink", "postfix-queue"]:
            shutil.rmtree(self.dir / stale, ignore_errors=True)
        for pattern in ["*.db*", "*.log", "*.err", "*.sock"]:  # every store: a verdict still fresh would stand in for a probe
            for f in self.dir.glob(pattern):
                f.unlink()
        self.spool.mkdir()
        self.make_certs()
        if self.dnssec:
            self.write_dnssec()
        self.write_unbound()
        self.write_fakedest()
        self.write_postfix()
        self.write_mxtls_conf()
        run(["mount", "--bind", str(self.dir / "resolv.conf"), "/etc/resolv.conf"])
        # This host's name must qualify without DNS (Sendmail sleeps a minute
        # at start if it cannot).
        host = socket.gethostname().split(".")[0]
        (self.dir / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {host}.lab.test {host}\n")
        run(["mount", "--bind", str(self.dir / "hosts"), "/etc/hosts"])
        for a in ADDR_V6:  # ULAs on lo for the IPv6 destinations
            run(["ip", "-6", "addr", "replace", f"{a}/128", "dev", "lo", "nodad"])
        # With a non-loopback IPv6 address and no such IPv4 one, glibc's
        # getaddrinfo(AI_ADDRCONFIG) asks for AAAA records only (the lab's
        # Python clients, e.g. mta-sts-daemon, would find no address): one
        # IPv4 documentation address on lo (nothing leaves the namespace).
        run(["ip", "addr", "replace", "192.0.2.254/32", "dev", "lo"])
        if self.dnssec:
            self.spawn("nsd", ["nsd", "-d", "-c", str(self.dnssec_dir / "nsd.conf")])
            wait_port(self.NSD_ADDR, 53)
        self.spawn("unbound", ["unbound", "-d", "-c", str(self.dir / "unbound.conf")])
        self.spawn("fakedest", [str(self.fakedest), str(self.dir / "fakedest.conf"), str(self.spool)])
        wait_port("127.0.0.1", 5353)
        for c in SERVED:
            if c.server is not None and c.octet:
                wait_port(f"127.0.0.{c.octet}", 25)
        for _, addr, _ in self.bench_destinations():
            wait_port(addr, 25)
        for a in ADDR_V6:
            wait_port(a, 25)
        if self.dnssec:
            for c in DANE_CASES:
                if c.octet:
                    wait_port(f"127.0.0.{c.octet}", 25)
        if self.mtas:
            self.start_mtas()
        return self

    def spawned(self, name):
        """The process last started by spawn(name, ...) (unbound, fakedest, ...)."""
        return [p for p in self.procs if p.mxtls_name == name][-1]

    def spawn(self, name, cmd):
        with open(self.dir / f"{name}.err", "w") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        proc.mxtls_name = name
        self.procs.append(proc)

    def stop(self):
        """Stops everything; a daemon that did not exit cleanly raises, but
        only after the rest of the lab is down."""
        errors = []
        for stop_daemon in (self.stop_milter, self.stop_policyd):
            try:
                stop_daemon()
            except RuntimeError as e:
                errors.append(str(e))
        if getattr(self, "postfix_running", False):
            subprocess.run(["postfix", "stop"], capture_output=True)
            self.postfix_running = False
        for p in self.procs:
            if getattr(p, "mxtls_kill", False):
                p.kill()  # mta-sts-daemon ignores SIGTERM
            else:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []
        if errors:
            raise RuntimeError("\n".join(errors))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def probe(self, *args, conf=None):
        """Runs `mxtls probe` with the lab config; returns CompletedProcess."""
        cmd = [str(self.mxtls), "probe", "--config", str(conf or self.conf), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
