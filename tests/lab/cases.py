"""The lab's destinations: one per failure case, each with its own address,
DNS names under .test and fake-server behaviour, and the reason code mxtls
must classify it with under the lab's strict custom profile (TLSv1.2+,
OpenSSL security level 2, SNI, the lab CA, level secure)."""

from dataclasses import dataclass, field
from urllib.parse import quote

# What a hostile destination answers instead of a greeting: a decision of its
# own making, with a '"' that would end the probe line's detail="..." field.
FORGED_GREETING = ('554 5.7.1 Q: to=<u@forged.test>, domain=forged.test, verdict=incompatible, '
                   'reason=cert_expired, action=defer, x="y')


@dataclass
class Case:
    name: str                   # also the domain: NAME.test, MX mx.NAME.test
    octet: int                  # listens on 127.0.0.OCTET:25 (0: no server)
    server: dict = field(default_factory=dict)  # mxtls-fakedest options
    cert: str = "good"          # which certificate (see lab.py CERTS)
    strict_reason: str = "ok"   # expected reason under the strict profile
    dns: str = "mx"             # mx | nullmx | nxdomain


CASES = [
    Case("healthy12", 10, {"max": "TLSv1.2"}),
    Case("healthy13", 11, {"min": "TLSv1.2", "max": "TLSv1.3"}),
    Case("nostarttls", 12, {"starttls": "no"}, strict_reason="starttls_not_offered"),
    Case("starttls454", 13, {"starttls_reply": "454"}, strict_reason="starttls_refused"),
    Case("tls10", 14, {"min": "TLSv1", "max": "TLSv1"}, strict_reason="protocol_version"),
    Case("tls11", 15, {"min": "TLSv1.1", "max": "TLSv1.1"}, strict_reason="protocol_version"),
    Case("tls13", 16, {"min": "TLSv1.3", "max": "TLSv1.3"}),
    Case("nocipher", 17, {"max": "TLSv1.2", "ciphers": "NULL-SHA256:@SECLEVEL=0"}, strict_reason="no_shared_cipher"),
    Case("legacysig", 18, {"max": "TLSv1.2", "ciphers": "ECDHE+aRSA:@SECLEVEL=0", "sigalgs": "RSA+SHA1"},
         strict_reason="legacy_sigalg"),
    Case("weakkey", 19, {}, cert="weak", strict_reason="weak_key"),
    Case("expired", 20, {}, cert="expired", strict_reason="cert_expired"),
    Case("notyetvalid", 21, {}, cert="notyet", strict_reason="cert_not_yet_valid"),
    Case("selfsigned", 22, {}, cert="selfsigned", strict_reason="cert_self_signed"),
    Case("nointermediate", 23, {}, cert="nochain", strict_reason="cert_untrusted_chain"),
    Case("mismatch", 24, {}, cert="mismatch", strict_reason="cert_host_mismatch"),
    Case("snidependent", 25, {}, cert="sni", strict_reason="sni_dependent"),
    Case("tlsonplain", 26, {"mode": "implicit_tls"}, strict_reason="tls_on_plain_port"),
    Case("tarpit", 27, {"mode": "tarpit", "log_connections": "yes"}, strict_reason="timeout"),
    Case("stall", 28, {"mode": "stall"}, strict_reason="timeout"),
    Case("refused", 29, None, strict_reason="connect_failed"),
    # Its greeting tries to forge a decision line inside the probe line's detail="..." (tests/faults/hostile_banner).
    Case("forger", 40, {"greeting": quote(FORGED_GREETING)}, strict_reason="banner_rejected"),
    Case("nullmx", 0, None, dns="nullmx", strict_reason="null_mx"),
    Case("nxdomain", 0, None, dns="nxdomain", strict_reason="nxdomain"),
]


# Handshake details the real Postfix takes at some levels and not others, or
# at none (tests/integration/postfix_ground_truth_test.py). OpenSSL refuses a
# DH group under 1024 bits at every security level, 1024 bits from level 2
# (the strict profile); Postfix 3.7 offers only tls_eecdh_auto_curves as
# groups (no ffdhe); aNULL ciphers only at levels 0 (may, encrypt).
HANDSHAKE_CASES = [
    Case("dh768", 70, {"max": "TLSv1.2", "ciphers": "kDHE:@SECLEVEL=0", "dh": "dh768.pem"}, strict_reason="dh_too_small"),
    Case("dh1024", 71, {"max": "TLSv1.2", "ciphers": "kDHE:@SECLEVEL=0", "dh": "dh1024.pem"}, strict_reason="dh_too_small"),
    Case("dheonly", 72, {"max": "TLSv1.2", "ciphers": "kDHE:@SECLEVEL=0", "dh": "auto"}),
    Case("ecdsaonly", 73, {}, cert="ecdsa"),
    Case("tls13ffdhe", 74, {"min": "TLSv1.3", "groups": "ffdhe2048:ffdhe3072"}),
    Case("clientcert", 75, {"max": "TLSv1.2", "client_cert": "require"}, strict_reason="client_cert_required"),
    # TLSv1.3: the client's handshake ends before the server refuses the missing certificate.
    Case("clientcert13", 78, {"min": "TLSv1.3", "client_cert": "require"}, strict_reason="client_cert_required"),
    # Asked for, not needed (TLSv1.3: no alert follows our Finished).
    Case("clientcertopt", 79, {"min": "TLSv1.3", "client_cert": "request"}),
    # An anonymous cipher first, in the server's order: at may and encrypt the session has no certificate.
    Case("anon", 76, {"max": "TLSv1.2", "ciphers": "aNULL:HIGH:@SECLEVEL=0", "server_ciphers": "yes", "dh": "auto"}),
    Case("anononly", 77, {"max": "TLSv1.2", "ciphers": "aNULL:@SECLEVEL=0", "dh": "auto"}, strict_reason="no_shared_cipher"),
]
CASES = CASES + HANDSHAKE_CASES

# Servers that break SMTP itself, past what a probe reads. Postfix reads on
# (it truncates a long reply) and may deliver to them, so they stay out of
# CASES, the ground truth's list; the lab serves them too.
PROTOCOL_VIOLATIONS = [
    Case("hugeline", 41, {"greeting_bytes": "100000"}, strict_reason="smtp_protocol_violation"),
    Case("hugeehlo", 42, {"ehlo_lines": "10000"}, strict_reason="smtp_protocol_violation"),
]
# Servers slower than the old 10 s probe timeout that Postfix, waiting
# smtp_helo_timeout, delivers to (issue 11). Out of CASES (every test that
# probes CASES would wait for them); the ground truth has them, and the
# lab's Postfix waits 4 s unless a test raises smtp_helo_timeout.
SLOW_CASES = [
    Case("slowgreet", 43, {"greeting_delay": "12"}, strict_reason="timeout"),
    # "220-" at once, "220" after 6 s; a client that talks before it is dropped (postscreen's pregreet test).
    Case("slowbanner", 44, {"greeting_pause": "6"}, strict_reason="timeout"),
]
SERVED = CASES + PROTOCOL_VIOLATIONS + SLOW_CASES


# Other MTA families as destinations (Lab(mtas=True)): Debian 12's Exim
# (exim4-daemon-light, TLS by GnuTLS) and OpenSMTPD, unpacked by
# tests/setup-debian12 (they conflict with Postfix as packages). `server`
# holds the MTA and its TLS settings. Exim's log, and the Received header
# of what OpenSMTPD relays to the lab's sink (MTA_SINK, no TLS), say whether
# a message came over TLS (lab.py mta_delivery). OpenSMTPD 6.8.0p2 cannot finish a TLS handshake
# under OpenSSL 3 (its privilege-separated signing fails: "EVP lib",
# OpenSMTPD issues 1171 and 1239): a real broken destination.
MTA_CASES = [
    Case("exim-good", 80, {"mta": "exim"}),
    Case("exim-expired", 81, {"mta": "exim"}, cert="expired-exim", strict_reason="cert_expired"),
    Case("exim-tls10", 82, {"mta": "exim", "tls_require_ciphers": "NORMAL:-VERS-ALL:+VERS-TLS1.0"},
         strict_reason="protocol_version"),
    Case("smtpd-broken", 85, {"mta": "opensmtpd"}, strict_reason="handshake_failed"),
    Case("smtpd-notls", 86, {"mta": "opensmtpd", "tls": "no"}, strict_reason="starttls_not_offered"),
]
MTA_SINK = "127.0.0.89"


def by_name(name):
    return next(c for c in SERVED if c.name == name)


# DANE destinations (Lab(dnssec=True)): MX hosts in the DNSSEC-signed zone
# dnssec.test (served by nsd, validated by the lab's unbound with the lab's
# trust anchor), except the unsigned one. Each publishes TLSA records at
# _25._tcp.mx.NAME.test built from the lab's keys and certificates:
#   ("spki", KEYFILE)  SubjectPublicKeyInfo of that key (selector 1)
#   ("cert", CERTFILE) the whole certificate (selector 0)
#   ("raw", HEX)       the data as given
# and `expect` is what Postfix does at (dane, dane-only): (outcome, reason).
@dataclass
class DaneCase:
    name: str                  # domain NAME.test, MX mx.NAME.test
    octet: int                 # fake destination on 127.0.0.OCTET:25
    cert: str                  # certificate file in the lab's certs/
    tlsa: list = field(default_factory=list)  # (usage, selector, mtype, source)
    signed: bool = True        # in the signed zone dnssec.test
    bogus: bool = False        # the TLSA RRset's signature is broken
    flood: int = 0             # this many TLSA records "3 1 1" that match nothing ...
    flood_len: int = 32        # ... with this many bytes of data each
    mx_host: str = ""          # unsigned domain whose MX is this (signed) host: no server, no TLSA of its own
    expect: tuple = ()         # ((outcome, reason) at dane, (outcome, reason) at dane-only)


DANE_CASES = [
    # DANE-EE(3) ignores names and the chain: a self-signed certificate for another name.
    DaneCase("daneee.dnssec", 30, "dane-ee.pem", [(3, 1, 1, ("spki", "leaf.key"))],
             expect=(("tls", "ok"), ("tls", "ok"))),
    # DANE-TA(2): the lab intermediate, sent in the chain; the leaf names the MX.
    DaneCase("daneta.dnssec", 31, "good-daneta.dnssec.pem", [(2, 0, 1, ("cert", "intermediate.pem"))],
             expect=(("tls", "ok"), ("tls", "ok"))),
    # DANE-TA(2) matches, but the leaf does not name the MX host: for a
    # trust-anchor match the name is checked (RFC 7672 3.2.2).
    DaneCase("danetaname.dnssec", 39, "mismatch.pem", [(2, 0, 1, ("cert", "intermediate.pem"))],
             expect=(("deferred", "cert_host_mismatch"), ("deferred", "cert_host_mismatch"))),
    # The key was rotated, the TLSA record still names the old one.
    DaneCase("danestale.dnssec", 32, "good-danestale.dnssec.pem", [(3, 1, 1, ("spki", "dane-old.key"))],
             expect=(("deferred", "tlsa_mismatch"), ("deferred", "tlsa_mismatch"))),
    # A record that would match, under a broken signature.
    DaneCase("danebogus.dnssec", 33, "good-danebogus.dnssec.pem", [(3, 1, 1, ("spki", "leaf.key"))], bogus=True,
             expect=(("deferred", "dnssec_bogus"), ("deferred", "dnssec_bogus"))),
    # Signed records, none usable for SMTP: PKIX-TA(0), PKIX-EE(1), an unknown
    # selector, a digest of the wrong length, the private matching type.
    DaneCase("daneunusable.dnssec", 34, "good-daneunusable.dnssec.pem",
             [(0, 0, 1, ("cert", "ca.pem")), (1, 1, 1, ("spki", "leaf.key")), (3, 2, 1, ("spki", "leaf.key")),
              (2, 1, 1, ("raw", "00112233445566778899aabbccddeeff")), (3, 1, 255, ("spki", "leaf.key"))],
             expect=(("tls", "tlsa_unusable"), ("deferred", "tlsa_unusable"))),
    # The only matching certificate expires within [probe] expiry_warning.
    DaneCase("daneexpiring.dnssec", 35, "dane-expiring.pem", [(3, 0, 1, ("cert", "dane-expiring.pem"))],
             expect=(("tls", "tlsa_expiring"), ("tls", "tlsa_expiring"))),
    # An unsigned MX RRset pointing at a signed host with good TLSA: at dane
    # the host's TLSA still counts (smtp_tls_dane_insecure_mx_policy = dane,
    # Postfix's "half-dane"); dane-only refuses the insecure MX.
    DaneCase("danehalf", 0, "", signed=False, mx_host="mx.daneee.dnssec.test",
             expect=(("tls", "ok"), ("deferred", "dane_required"))),
    # Not signed at all: its (matching nothing) TLSA record does not count.
    DaneCase("daneunsigned", 36, "good-daneunsigned.pem", [(3, 1, 1, ("spki", "dane-old.key"))], signed=False,
             expect=(("tls", "ok"), ("deferred", "dane_required"))),
    # Hostile: a TLSA RRset of 1,000 SHA2-256 records (about 80 KB in the
    # canonical form signatures cover). Validating resolvers give up on it
    # (unbound: "rrset too big"): bogus, so Postfix defers.
    DaneCase("daneflood.dnssec", 37, "good-daneflood.dnssec.pem", flood=1000,
             expect=(("deferred", "dnssec_bogus"), ("deferred", "dnssec_bogus"))),
    # Hostile and valid: 1,000 signed records of two bytes each, all unusable.
    DaneCase("danefloodsmall.dnssec", 38, "good-daneflood.dnssec.pem", flood=1000, flood_len=2,
             expect=(("tls", "tlsa_unusable"), ("deferred", "tlsa_unusable"))),
]


def dane_by_name(name):
    return next(c for c in DANE_CASES if c.name == name)


# MTA-STS destinations (RFC 8461): NAME.test has MX mx.NAME.test on the
# address of the destination `mx` above (a known server; its certificate
# also names every mx.sts-*.test, see make-certs.sh), a _mta-sts TXT
# record, and a policy host mta-sts.NAME.test served by the lab's nginx
# (127.0.0.60:443, certificate from the lab CA) unless `host` says
# otherwise. `reason`/`outcome`: what `mxtls probe` judges under the lab's
# postfix profile (level may, the MTA enforcing MTA-STS); `answer`: what the
# tlspolicy socketmap answers, as postfix-mta-sts-resolver does.
@dataclass
class StsCase:
    name: str
    mx: str                      # the server behind mx.NAME.test: a case of CASES
    policy: str = ""             # the policy file nginx serves
    reason: str = "ok"
    outcome: str = "tls"
    answer: str = "NOTFOUND"     # "secure match=... servername=hostname" or NOTFOUND
    host: str = "nginx"          # nginx | unreachable | selfsigned | slow
    serve: str = "policy"        # policy | redirect | huge | badtype
    txt: str = "v=STSv1; id=20240101T000000;"
    hostile: bool = False        # the hostile-input set (Hostile in tests/integration/mta_sts_test.py)
    # Where postfix-mta-sts-resolver answers otherwise (None: as `answer`).
    daemon_answer: str = None


def sts_policy(mode, *mx, max_age=86400):
    return "version: STSv1\r\nmode: " + mode + "\r\n" + "".join(f"mx: {m}\r\n" for m in mx) + f"max_age: {max_age}\r\n"


STS_CASES = [
    StsCase("sts-enforce", "healthy13", sts_policy("enforce", "mx.sts-enforce.test"),
            answer="secure match=mx.sts-enforce.test servername=hostname"),
    StsCase("sts-wildcard", "healthy12", sts_policy("enforce", "*.sts-wildcard.test", "mx.backup.test"),
            answer="secure match=.sts-wildcard.test:mx.backup.test servername=hostname"),
    StsCase("sts-mismatch", "healthy12", sts_policy("enforce", "mx.elsewhere.test"),
            reason="sts_mx_mismatch", outcome="deferred", answer="secure match=mx.elsewhere.test servername=hostname"),
    StsCase("sts-webpki", "expired", sts_policy("enforce", "mx.sts-webpki.test"),
            reason="sts_webpki_invalid", outcome="deferred", answer="secure match=mx.sts-webpki.test servername=hostname"),
    StsCase("sts-testing", "healthy12", sts_policy("testing", "mx.elsewhere.test"), reason="sts_mx_mismatch"),
    StsCase("sts-none", "healthy12", "version: STSv1\nmode: none\nmax_age: 86400\n"),
    StsCase("sts-unreachable", "healthy12", sts_policy("enforce", "mx.sts-unreachable.test"),
            reason="sts_policy_fetch_failed", host="unreachable"),
    StsCase("sts-oversize", "healthy12", sts_policy("enforce", "mx.sts-oversize.test") + "x: " + "a" * 100000 + "\r\n",
            reason="sts_policy_fetch_failed"),
    StsCase("sts-redirect", "healthy12", sts_policy("enforce", "mx.sts-redirect.test"), reason="sts_policy_fetch_failed",
            serve="redirect"),
    StsCase("sts-badtype", "healthy12", sts_policy("enforce", "mx.sts-badtype.test"), reason="sts_policy_fetch_failed",
            serve="badtype"),
    StsCase("sts-badhttps", "healthy12", sts_policy("enforce", "mx.sts-badhttps.test"), reason="sts_webpki_invalid",
            host="selfsigned"),
    StsCase("sts-invalid", "healthy12", "version: STSv1\nmode: enforce\nmx: mx.sts-invalid.test\nmax_age: forever\n",
            reason="sts_policy_invalid"),
    # The policy cache (PolicyCacheByIdAndExpiry in mta_sts_test.py changes its TXT id and policy).
    StsCase("sts-rotate", "healthy12", sts_policy("enforce", "mx.sts-rotate.test"),
            answer="secure match=mx.sts-rotate.test servername=hostname"),
    # Hostile: a 10 MB policy, a policy host that trickles its answer, a 60 KB TXT record.
    StsCase("sts-huge", "healthy12", "", reason="sts_policy_fetch_failed", serve="huge", hostile=True),
    StsCase("sts-slow", "healthy12", "", reason="sts_policy_fetch_failed", host="slow", hostile=True),
    # mxtls refuses a TXT record over 1 KiB (sts_policy_invalid: no policy);
    # mta-sts-daemon reads all 60 KB and fetches the policy.
    StsCase("sts-bigtxt", "healthy12", sts_policy("enforce", "mx.sts-bigtxt.test"), reason="sts_policy_invalid",
            txt="v=STSv1; id=1; x=" + "a" * 60000, hostile=True,
            daemon_answer="secure match=mx.sts-bigtxt.test servername=hostname"),
]

STS_NGINX = "127.0.0.60"        # the policy hosts' nginx
STS_UNREACHABLE = "127.0.0.61"  # nothing listens
STS_SLOW = "127.0.0.62"         # tests/lab/slow_https.py


# Destinations with several MX addresses (issue 11): each MX host's
# addresses, every one served by the fake destination of a case of CASES
# (its behaviour, and its certificate, which also names these MX hosts) or by
# nothing (None: connection refused). IPv6 addresses are ULAs on the
# namespace's lo (ADDR_V6), their AAAA records in the lab's unbound.
# `strict_reason` as for CASES; `outcome`: what Postfix does at may.
@dataclass
class AddrCase:
    name: str                   # domain NAME.test
    mx: list                    # [(preference, host, [(address, case name or None)])]
    strict_reason: str = "ok"


ADDR_CASES = [
    # The preferred MX fails the handshake (no shared cipher), the backup works: Postfix moves on.
    AddrCase("twomx", [(10, "mx1.twomx.test", [("127.0.0.17", "nocipher")]),
                       (20, "mx2.twomx.test", [("127.0.0.10", "healthy12")])], strict_reason="no_shared_cipher"),
    # One host, two addresses, nothing listens on one of them.
    AddrCase("firstbroken", [(10, "mx.firstbroken.test", [("127.0.0.29", None), ("127.0.0.10", "healthy12")])],
             strict_reason="connect_failed"),
    # Dual-stack and healthy on both.
    AddrCase("dualstack", [(10, "mx.dualstack.test", [("127.0.0.11", "healthy13"), ("fd00::11", "healthy13")])]),
    # Dual-stack; the IPv6 address fails the handshake, the IPv4 one works.
    AddrCase("v6broken", [(10, "mx.v6broken.test", [("127.0.0.10", "healthy12"), ("fd00::17", "nocipher")])],
             strict_reason="no_shared_cipher"),
    # IPv6 only.
    AddrCase("v6only", [(10, "mx.v6only.test", [("fd00::10", "healthy12")])]),
]
ADDR_V6 = sorted({a for c in ADDR_CASES for _, _, addrs in c.mx for a, _ in addrs if ":" in a})
