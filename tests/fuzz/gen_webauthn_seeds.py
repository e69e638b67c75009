#!/usr/bin/env python3
"""Writes the webauthn target's seeds into corpus/webauthn (run once; the
output is committed): a registration and an assertion as the target's rp and
challenge expect them (the assertion signed by another key than the
target's), and the same with user verification missing."""
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

fuzz = os.path.dirname(os.path.abspath(__file__))
here = os.path.join(fuzz, "corpus", "webauthn")
sys.path.insert(0, os.path.join(fuzz, "..", "approvald"))
from approvald_passkey import b64u, cbor  # noqa: E402

RP, ORIGIN = "bg.example.net", "https://bg.example.net"
CHALLENGE = b64u(bytes(range(1, 33)))
CRED_ID = bytes(range(0xa0, 0xb0))


def client_data(typ):
    return json.dumps({"type": typ, "challenge": CHALLENGE, "origin": ORIGIN}).encode()


def auth_data(flags, count, attested=b""):
    return hashlib.sha256(RP.encode()).digest() + bytes([flags]) + \
        struct.pack(">I", count) + attested


key = ec.derive_private_key(12345, ec.SECP256R1())
pub = key.public_key().public_numbers()
cose = cbor({1: 2, 3: -7, -1: 1, -2: pub.x.to_bytes(32, "big"), -3: pub.y.to_bytes(32, "big")})
attested = bytes(16) + struct.pack(">H", len(CRED_ID)) + CRED_ID + cose


def parts(*p):
    return b"".join(struct.pack(">H", len(x)) + x for x in p)


for name, flags in (("registration", 0x45), ("registration_no_uv", 0x41)):
    att = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data(flags, 0, attested)})
    with open(os.path.join(here, name), "wb") as f:
        f.write(b"\x00" + parts(client_data("webauthn.create"), att))
for name, flags in (("assertion", 0x05), ("assertion_no_uv", 0x01)):
    cdj, ad = client_data("webauthn.get"), auth_data(flags, 8)
    sig = key.sign(ad + hashlib.sha256(cdj).digest(), ec.ECDSA(hashes.SHA256()))
    with open(os.path.join(here, name), "wb") as f:
        f.write(b"\x01" + parts(cdj, ad, sig))
