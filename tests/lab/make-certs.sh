#!/bin/bash
# Makes the lab's certificates in DIR: a root CA, an intermediate, and leaf
# certificates for every case (good, expired, not yet valid, self-signed,
# 1024-bit key, wrong host name, the SNI default), and those of the DANE
# cases (cases.py DANE_CASES: a self-signed one for another name, one that
# expires in five days, a key the TLSA records of a stale case name). Leaves are issued with
# `openssl ca` so validity dates can be set in the past or the future.
set -euo pipefail
dir=$1
mkdir -p "$dir/ca/newcerts"
cd "$dir"
: > ca/index.txt
echo 1000 > ca/serial
subj() { echo "/O=mxtls lab/CN=$1"; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj "$(subj 'mxtls lab root CA')" -addext basicConstraints=critical,CA:true \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout intermediate.key -out intermediate.csr \
  -subj "$(subj 'mxtls lab intermediate CA')" 2>/dev/null
cat > ca.cnf <<CNF
[ca]
default_ca = lab
[lab]
dir = $dir/ca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/newcerts
default_md = sha256
default_days = 365
policy = anything
unique_subject = no
copy_extensions = none
[anything]
organizationName = optional
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::SAN}
CNF
SAN=DNS:unused openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -extensions v3_ca \
  -in intermediate.csr -out intermediate.pem -notext -days 3000 2>/dev/null

openssl genrsa -out leaf.key 2048 2>/dev/null
openssl genrsa -out weak.key 1024 2>/dev/null

# issue NAME HOST KEY [START END]; the certificate also names $extra_san.
# Certificates that stand for a case also name *.bench.test, so the
# benchmark's destinations (mxN.bench.test) show the case, not a mismatch.
extra_san=",DNS:*.bench.test"
# ... and every MTA-STS destination's MX (mx.sts-*.test, cases.py STS_CASES).
sts_cases="sts-enforce sts-wildcard sts-mismatch sts-webpki sts-testing sts-none sts-unreachable sts-oversize
           sts-redirect sts-badtype sts-badhttps sts-invalid sts-rotate sts-huge sts-slow sts-bigtxt"
for n in $sts_cases; do extra_san="$extra_san,DNS:mx.$n.test"; done
# ... and the MX hosts of the several-address destinations (cases.py ADDR_CASES).
for h in mx1.twomx.test mx2.twomx.test mx.firstbroken.test mx.dualstack.test mx.v6broken.test mx.v6only.test; do
  extra_san="$extra_san,DNS:$h"
done
issue() {
  local name=$1 host=$2 key=$3
  openssl req -new -key "$key" -out "$name.csr" -subj "$(subj "$host")" 2>/dev/null
  local dates=()
  if [ $# -ge 5 ]; then dates=(-startdate "$4" -enddate "$5"); fi
  SAN="DNS:$host$extra_san" openssl ca -batch -config ca.cnf -cert intermediate.pem -keyfile intermediate.key \
    -extensions leaf -in "$name.csr" -out "$name.pem" -notext "${dates[@]}" 2>/dev/null
}

for c in healthy12 healthy13 nostarttls starttls454 tls10 tls11 tls13 nocipher legacysig \
         tlsonplain tarpit stall nointermediate snidependent forger hugeline hugeehlo; do
  issue "good-$c" "mx.$c.test" leaf.key
done
# The slow servers (cases.py SLOW_CASES).
for c in slowgreet slowbanner; do issue "good-$c" "mx.$c.test" leaf.key; done
issue weak mx.weakkey.test weak.key
# Handshake details and other MTA families (cases.py HANDSHAKE_CASES,
# MTA_CASES): good certificates, one on an ECDSA P-256 key, an expired one,
# and finite-field DH parameters of 768 and 1024 bits (too small, and
# small enough for OpenSSL's security level 2 to refuse).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
for c in dh768 dh1024 dheonly tls13ffdhe clientcert clientcert13 clientcertopt anon anononly exim-good exim-tls10 smtpd-broken; do
  issue "good-$c" "mx.$c.test" leaf.key
done
issue good-ecdsaonly mx.ecdsaonly.test ec.key
issue expired-exim mx.exim-expired.test leaf.key 20200101000000Z 20210101000000Z
openssl dhparam -out dh768.pem 768 2>/dev/null
openssl dhparam -out dh1024.pem 1024 2>/dev/null
issue expired mx.expired.test leaf.key 20200101000000Z 20210101000000Z
issue notyet mx.notyetvalid.test leaf.key 20350101000000Z 20360101000000Z
openssl req -x509 -key leaf.key -out selfsigned.pem -days 365 -subj "$(subj mx.selfsigned.test)" \
  -addext "subjectAltName=DNS:mx.selfsigned.test$extra_san" 2>/dev/null
extra_san=""
issue mismatch mx.somewhere-else.test leaf.key
issue sni-default default.sni-elsewhere.test leaf.key

# DANE: the key a stale TLSA record still names; leaves under the lab CA;
# DANE-EE's self-signed certificate for a name that is not the MX; and one
# expiring in five days (TLSA records are made from these at each lab start).
openssl genrsa -out dane-old.key 2048 2>/dev/null
for c in daneta.dnssec danestale.dnssec danebogus.dnssec daneunusable.dnssec daneunsigned daneflood.dnssec; do
  issue "good-$c" "mx.$c.test" leaf.key
done
openssl req -x509 -key leaf.key -out dane-ee.pem -days 365 -subj "$(subj not-the-mx.example)" 2>/dev/null
issue dane-expiring mx.daneexpiring.dnssec.test leaf.key "$(date -u +%Y%m%d%H%M%SZ)" "$(date -u -d '+5 days' +%Y%m%d%H%M%SZ)"
rm -f ./*.csr

# MTA-STS policy hosts (nginx, tests/lab/cases.py STS_CASES): one
# certificate naming every mta-sts.<case>.test, and a self-signed one for
# the case whose policy host fails WebPKI.
extra_san=""
for n in $sts_cases; do extra_san="$extra_san,DNS:mta-sts.$n.test"; done
issue mta-sts mta-sts.lab.test leaf.key
openssl req -x509 -key leaf.key -out mta-sts-selfsigned.pem -days 365 -subj "$(subj mta-sts.sts-badhttps.test)" \
  -addext "subjectAltName=DNS:mta-sts.sts-badhttps.test" 2>/dev/null
rm -f ./*.csr
