#!/usr/bin/env python3
"""An independent check of svault's ML-DSA-65 certificates, with pyca/cryptography (OpenSSL >= 3.5).

usage: verify_mldsa.py CA.pem CERT.pem [KEY.pem]

Checks that both certificates carry id-ml-dsa-65 keys and signatures (RFC 9881), that the CA
signed itself and the certificate, that the names chain, and (with KEY.pem) that the private key
belongs to the certificate. Prints OK and exits 0, or prints the reason and exits 1.
"""
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa

ID_ML_DSA_65 = "2.16.840.1.101.3.4.3.18"
RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def check(ca, cert, key_path):
    for name, c in (("CA", ca), ("certificate", cert)):
        if c.signature_algorithm_oid.dotted_string != ID_ML_DSA_65:
            return f"{name}: signature algorithm {c.signature_algorithm_oid.dotted_string}, not id-ml-dsa-65"
        if not isinstance(c.public_key(), mldsa.MLDSA65PublicKey):
            return f"{name}: the public key is not ML-DSA-65"
    if cert.issuer != ca.subject:
        return "the certificate's issuer is not the CA's subject"
    try:
        ca.public_key().verify(ca.signature, ca.tbs_certificate_bytes)
    except InvalidSignature:
        return "the CA's self-signature does not verify"
    try:
        ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes)
    except InvalidSignature:
        return "the certificate's signature does not verify with the CA key"
    if key_path:
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(key, mldsa.MLDSA65PrivateKey):
            return "the private key is not ML-DSA-65"
        if key.public_key().public_bytes(*RAW) != cert.public_key().public_bytes(*RAW):
            return "the private key does not belong to the certificate"
    return None


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problem = check(load(argv[1]), load(argv[2]), argv[3] if len(argv) == 4 else None)
    print(problem or "OK")
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
