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
    Case("forger", 30, {"greeting": quote(FORGED_GREETING)}, strict_reason="banner_rejected"),
    Case("nullmx", 0, None, dns="nullmx", strict_reason="null_mx"),
    Case("nxdomain", 0, None, dns="nxdomain", strict_reason="nxdomain"),
]


# Servers that break SMTP itself, past what a probe reads. Postfix reads on
# (it truncates a long reply) and may deliver to them, so they stay out of
# CASES, the ground truth's list; the lab serves them too.
PROTOCOL_VIOLATIONS = [
    Case("hugeline", 31, {"greeting_bytes": "100000"}, strict_reason="smtp_protocol_violation"),
    Case("hugeehlo", 32, {"ehlo_lines": "10000"}, strict_reason="smtp_protocol_violation"),
]
SERVED = CASES + PROTOCOL_VIOLATIONS


def by_name(name):
    return next(c for c in SERVED if c.name == name)
