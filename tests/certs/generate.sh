#!/bin/sh
# Regenerates the test PKI in this directory (checked in, valid for 100 years):
#   ca.pem                    test CA (trusted with --cacert in the tests)
#   server.pem / server.key   signed by the CA for localhost, 127.0.0.1 and ::1
#   wronghost.pem / .key      signed by the CA for other.example only
#   untrusted.pem / .key      self-signed for localhost and 127.0.0.1
#   jwt.key                   RSA-2048 key signing JWT bearer assertions (PKCS#8 PEM)
#   jwt-pkcs1.key             the same key as PKCS#1 PEM ("BEGIN RSA PRIVATE KEY")
#   jwt.pub.der               its public key, DER RSAPublicKey (what ring verifies with)
#   jwt.crt                   a self-signed certificate for it, as a Connected App holds
#   jwt-wrong.key             an unrelated RSA-2048 key (PKCS#8 PEM): a wrong signer
#   etcd-ca.pem               the test etcd cluster's CA (its --trusted-ca-file)
#   etcd-server.pem / .key    signed by it for 127.0.0.1, serverAuth and clientAuth
#   client.pem / client.key   signed by it: the client certificate etcd requires
# `generate.sh jwt` makes only the JWT keys and leaves the TLS PKI alone; `generate.sh
# etcd` only the etcd certificates.
# Test material only: these keys protect nothing.
set -eu
cd "$(dirname "$0")"
days=36500
jwt() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt.key
  openssl rsa -in jwt.key -traditional -out jwt-pkcs1.key
  openssl rsa -in jwt.key -RSAPublicKey_out -outform DER -out jwt.pub.der
  openssl req -x509 -new -key jwt.key -subj "/CN=sfrefresh test JWT signer" -days $days -out jwt.crt
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt-wrong.key
}
etcd() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days $days \
    -subj "/CN=sfrefresh test etcd CA" -keyout etcd-ca.key -out etcd-ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  signed() { # name cn ext
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
    printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA etcd-ca.pem -CAkey etcd-ca.key -CAcreateserial \
      -days $days -extfile "$1.ext" -out "$1.pem"
    rm -f "$1.csr" "$1.ext"
  }
  # etcd's JSON gateway dials its own gRPC port with the server certificate, so with
  # --client-cert-auth that certificate must be good for clientAuth too.
  signed etcd-server 127.0.0.1 \
    "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
  signed client "sfrefresh test client" "extendedKeyUsage=clientAuth"
  rm -f etcd-ca.key etcd-ca.srl
}
if [ "${1:-}" = jwt ]; then jwt; exit 0; fi
if [ "${1:-}" = etcd ]; then etcd; exit 0; fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days $days \
  -subj "/CN=sfrefresh test CA" -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() { # name san
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$1" -keyout "$1.key" -out "$1.csr"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' "$2" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile "$1.ext" -out "$1.pem"
  rm -f "$1.csr" "$1.ext"
}
leaf server "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf wronghost "DNS:other.example"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days $days \
  -subj "/CN=untrusted" -keyout untrusted.key -out untrusted.pem \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -addext "extendedKeyUsage=serverAuth"
rm -f ca.srl ca.key
jwt
etcd
