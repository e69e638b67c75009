#!/usr/bin/env python3
"""breakglass-approvald passkeys (WebAuthn) over real HTTP on loopback, with
a software authenticator (python3-cryptography, ES256, CBOR written by
hand): registration bootstrapped by token + TOTP, a vote confirmed by an
assertion, and each refusal: a replayed assertion (challenge spent), a
challenge issued for another vote, another origin, user verification
missing, a signature counter that went back (journaled as a possible
clone), an unknown credential, another approver's credential; the lockout a
passkey's failures share with TOTP; second_factor = webauthn refusing TOTP
votes but not the registration bootstrap."""
import base64
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
from adlib import check  # noqa: E402

try:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:
    print("SKIP: python3-cryptography is not installed")
    sys.exit(adlib.SKIP)

UP, UV, AT = 0x01, 0x04, 0x40


def b64u(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def cbor(v):
    """The CBOR (RFC 8949) of ints, bytes, text and dicts, as CTAP2 writes them."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
            if n < 1 << (8 * struct.calcsize(fmt)):
                return bytes([major << 5 | extra]) + struct.pack(fmt, n)
        raise ValueError(n)
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    if isinstance(v, dict):
        return head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


class Authenticator:
    """A platform authenticator holding one ES256 passkey."""

    def __init__(self, rp_id, origin):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cred_id = os.urandom(16)
        self.count = 0
        self.rp_id, self.origin = rp_id, origin

    def auth_data(self, flags, attested=b""):
        return (hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) +
                struct.pack(">I", self.count) + attested)

    def client_data(self, typ, challenge, origin):
        return json.dumps({"type": typ, "challenge": challenge,
                           "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options, flags=UP | UV):
        pk = self.key.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: pk.x.to_bytes(32, "big"),
                     -3: pk.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(self.cred_id)) + self.cred_id + cose
        att = cbor({"fmt": "none", "attStmt": {},
                    "authData": self.auth_data(flags | AT, attested)})
        cdj = self.client_data("webauthn.create", options["publicKey"]["challenge"], None)
        return {"id": b64u(self.cred_id), "clientDataJSON": b64u(cdj),
                "attestationObject": b64u(att)}

    def get(self, options, origin=None, flags=UP | UV, count_step=1):
        self.count += count_step
        cdj = self.client_data("webauthn.get", options["publicKey"]["challenge"], origin)
        ad = self.auth_data(flags)
        sig = self.key.sign(ad + hashlib.sha256(cdj).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64u(self.cred_id), "clientDataJSON": b64u(cdj),
                "authenticatorData": b64u(ad), "signature": b64u(sig),
                "userHandle": None}


def post(svc, path, approver, body, token=None):
    h = {"Content-Type": "application/json",
         "Authorization": "Bearer " + (token or svc.tokens[approver])}
    st, data, _ = svc.request("POST", path, json.dumps(body).encode(), h)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {}


def register(svc, approver, authn, label="laptop"):
    st, opts = post(svc, "/v1/webauthn/register/begin", approver,
                    {"approver": approver, "totp": svc.code(approver)})
    if not check(st == 200, "register/begin for %s: %d %r" % (approver, st, opts)):
        return st, opts
    return post(svc, "/v1/webauthn/register/finish", approver,
                {"approver": approver, "credential": authn.create(opts), "label": label})


def challenge(svc, approver, binding):
    st, opts = post(svc, "/v1/webauthn/challenge", approver,
                    {"approver": approver, "binding": binding})
    check(st == 200, "challenge for %s %s: %d %r" % (approver, binding, st, opts))
    return opts


def vote(svc, rid, approver, assertion, action="approve"):
    return post(svc, "/v1/requests/%s/%s" % (rid, action), approver,
                {"approver": approver, "webauthn": assertion, "comment": "passkey"})


def new_request(svc):
    st, _, doc, _ = svc.create(approvers=list(adlib.APPROVERS), quorum=2)
    check(st == 201, "request filed: %d" % st)
    return doc["request_id"]


def refused_events(svc):
    return [r for r in svc.journal() if r["event"] == "approver.passkey_refused"]


def main_service():
    svc = adlib.Service()
    svc.start()
    try:
        rp_id, origin = "127.0.0.1", "http://127.0.0.1:%d" % svc.port
        bob, carol = Authenticator(rp_id, origin), Authenticator(rp_id, origin)

        # Registration: the options, then the credential; the journal records it.
        st, opts = post(svc, "/v1/webauthn/register/begin", "bob",
                        {"approver": "bob", "totp": svc.code("bob")})
        pk = opts.get("publicKey", {})
        check(st == 200 and pk.get("rp", {}).get("id") == rp_id and
              len(unb64u(pk.get("challenge", ""))) == 32 and
              pk.get("attestation") == "none" and
              pk.get("authenticatorSelection", {}).get("userVerification") == "required"
              and [p["alg"] for p in pk.get("pubKeyCredParams", [])] == [-7, -8, -257],
              "creation options: %d %r" % (st, opts))
        cred = bob.create(opts)
        st, out = post(svc, "/v1/webauthn/register/finish", "bob",
                       {"approver": "bob", "credential": cred, "label": "laptop"},
                       token=svc.tokens["carol"])
        check(st == 401, "finish with another approver's token: %d" % st)
        st, out = post(svc, "/v1/webauthn/register/finish", "bob",
                       {"approver": "bob", "credential": cred, "label": "laptop"})
        check(st == 201 and out.get("id") == cred["id"], "bob registered: %d %r" % (st, out))
        st, out = post(svc, "/v1/webauthn/register/finish", "bob",
                       {"approver": "bob", "credential": cred, "label": "laptop"})
        check(st == 400 and "challenge" in out.get("error", ""),
              "registration replayed (challenge spent): %d %r" % (st, out))
        reg = [r for r in svc.journal() if r["event"] == "approver.passkey_registered"]
        check(len(reg) == 1 and reg[0]["approver"] == "bob" and
              reg[0]["credential"] == unb64u(cred["id"]).hex() and reg[0]["alg"] == -7,
              "approver.passkey_registered journaled: %r" % reg)
        check(register(svc, "carol", carol, "phone")[0] == 201, "carol registered")
        # No passkey: no challenge.
        st, _ = post(svc, "/v1/webauthn/challenge", "dave",
                     {"approver": "dave", "binding": "signin"})
        check(st == 409, "challenge without a passkey: %d" % st)
        for b in ("vote:approve:b,a", "vote:approve:", "vote:maybe:a", "signin ", ""):
            st, _ = post(svc, "/v1/webauthn/challenge", "bob",
                         {"approver": "bob", "binding": b})
            check(st == 400, "binding %r refused: %d" % (b, st))

        # A vote confirmed by a passkey.
        rid = new_request(svc)
        opts = challenge(svc, "bob", "vote:approve:" + rid)
        check([c["id"] for c in opts["publicKey"]["allowCredentials"]] == [cred["id"]] and
              opts["publicKey"]["rpId"] == rp_id and
              opts["publicKey"]["userVerification"] == "required",
              "request options: %r" % opts)
        a = bob.get(opts)
        st, out = vote(svc, rid, "bob", a)
        check(st == 200 and out.get("status") == "pending" and
              [x["approver"] for x in out.get("approvals", [])] == ["bob"],
              "bob approves with his passkey: %d %r" % (st, out))
        # The same assertion again: its challenge is spent.
        st, _ = vote(svc, rid, "bob", a)
        check(st == 401, "replayed assertion: %d" % st)

        # A challenge issued for approving rid2, used to deny it, or to approve rid3.
        rid2, rid3 = new_request(svc), new_request(svc)
        st, _ = vote(svc, rid2, "bob", bob.get(challenge(svc, "bob", "vote:approve:" + rid2)),
                     action="deny")
        check(st == 401, "challenge for another action: %d" % st)
        st, _ = vote(svc, rid3, "bob", bob.get(challenge(svc, "bob", "vote:approve:" + rid2)))
        check(st == 401, "challenge for another request: %d" % st)
        # Another origin (a phishing site relaying the challenge).
        st, _ = vote(svc, rid2, "bob", bob.get(challenge(svc, "bob", "vote:approve:" + rid2),
                                               origin="http://127.0.0.1.evil.example"))
        check(st == 401, "another origin: %d" % st)
        # User verification missing.
        st, _ = vote(svc, rid2, "carol",
                     carol.get(challenge(svc, "carol", "vote:approve:" + rid2), flags=UP))
        check(st == 401, "UV missing: %d" % st)
        # The counter went back: refused and journaled as a possible clone.
        st, _ = vote(svc, rid2, "carol",
                     carol.get(challenge(svc, "carol", "vote:approve:" + rid2)))
        check(st == 200, "carol approves: %d" % st)
        st, _ = vote(svc, rid3, "carol",
                     carol.get(challenge(svc, "carol", "vote:approve:" + rid3), count_step=-1))
        check(st == 401, "counter regression: %d" % st)
        clones = [r for r in refused_events(svc) if r.get("possible_clone")]
        check(len(clones) == 1 and clones[0]["approver"] == "carol" and
              "counter" in clones[0]["reason"], "possible clone journaled: %r" % clones)
        # An unknown credential, and bob's credential used for carol.
        stranger = Authenticator(rp_id, origin)
        st, _ = vote(svc, rid3, "carol",
                     stranger.get(challenge(svc, "carol", "vote:approve:" + rid3)))
        check(st == 401, "unknown credential: %d" % st)
        st, _ = vote(svc, rid3, "carol",
                     bob.get(challenge(svc, "carol", "vote:approve:" + rid3)))
        check(st == 401, "another approver's credential: %d" % st)
        reasons = [r["reason"] for r in refused_events(svc)]
        for want in ("challenge unknown or used", "challenge issued for another action",
                     "origin", "user not verified", "unknown credential",
                     "another approver's credential"):
            check(any(want in x for x in reasons), "journaled refusal %r: %r" % (want, reasons))
        # The good ones still work: the counter moved on.
        st, out = vote(svc, rid3, "bob", bob.get(challenge(svc, "bob", "vote:approve:" + rid3)))
        check(st == 200, "bob approves rid3 after the refusals: %d %r" % (st, out))
        # At most 32 challenges outstanding per approver.
        codes = [post(svc, "/v1/webauthn/challenge", "carol",
                      {"approver": "carol", "binding": "signin"})[0] for _ in range(33)]
        check(codes.count(200) == 32 and codes[-1] == 429,
              "the 33rd outstanding challenge refused: %r" % codes[-3:])
        # Journal verifies with the new events.
        v = svc.verify_journal()
        if v is not None:
            check(v[0], "breakglass verify: %s" % v[1])
    finally:
        svc.cleanup()


def lockout_and_webauthn_only():
    svc = adlib.Service(extra_server="second_factor = webauthn\ntotp_max_failures = 3")
    svc.start()
    try:
        rp_id, origin = "127.0.0.1", "http://127.0.0.1:%d" % svc.port
        dave, erin = Authenticator(rp_id, origin), Authenticator(rp_id, origin)
        rid = new_request(svc)
        # TOTP votes are refused; the registration bootstrap still takes TOTP.
        st, data, _ = svc.vote(rid, "bob")
        check(st == 401 and "second_factor = webauthn" in svc.daemon_log(),
              "TOTP vote refused: %d %r" % (st, data))
        check(register(svc, "dave", dave)[0] == 201, "dave registers with token + TOTP")
        check(register(svc, "erin", erin)[0] == 201, "erin registers")
        st, out = vote(svc, rid, "dave", dave.get(challenge(svc, "dave", "vote:approve:" + rid)))
        check(st == 200, "dave approves with a passkey: %d %r" % (st, out))
        # Three refused assertions lock erin out; a valid one is then refused too.
        for _ in range(3):
            st, _ = vote(svc, rid, "erin",
                         erin.get(challenge(svc, "erin", "vote:approve:" + rid), flags=UP))
            check(st == 401, "erin refused: %d" % st)
        st, _ = vote(svc, rid, "erin", erin.get(challenge(svc, "erin", "vote:approve:" + rid)))
        check(st == 401, "erin locked out: %d" % st)
        check("locked out" in svc.daemon_log(), "the lockout logged")
        # Expired challenges leave with the retention purge (at start, then hourly).
        svc.sql("INSERT INTO webauthn_challenges VALUES ('%s', 'erin', 'signin', "
                "'assert', 1)" % ("ab" * 32))
        svc.stop()
        svc.start()
        for _ in range(100):
            left = svc.sql("SELECT count(*) FROM webauthn_challenges WHERE expires_ms = 1")
            if left[0][0] == 0:
                break
            time.sleep(0.1)
        check(left[0][0] == 0, "expired challenge purged: %r" % left)
    finally:
        svc.cleanup()


def session_challenge(svc, cookie, csrf, approver, binding):
    st, opts, _ = svc.session_call("POST", "/v1/webauthn/challenge", cookie, csrf,
                                {"approver": approver, "binding": binding})
    check(st == 200, "challenge from %s's session: %d %r" % (approver, st, opts))
    return opts


def sessions_with_passkeys():
    """Sign-in, a session's vote and a batch confirmed by passkeys."""
    svc = adlib.Service(extra_server="second_factor = webauthn")
    svc.start()
    try:
        rp_id, origin = "127.0.0.1", svc.origin()
        bob, carol = Authenticator(rp_id, origin), Authenticator(rp_id, origin)
        check(register(svc, "bob", bob)[0] == 201, "bob registers")
        check(register(svc, "carol", carol)[0] == 201, "carol registers")
        # TOTP does not sign in; a passkey over a "signin" challenge does, once.
        st, _, cookie, _ = svc.signin("bob")
        check(st == 401 and cookie is None, "TOTP sign-in refused: %d" % st)
        a = bob.get(challenge(svc, "bob", "signin"))
        st, ans, cookie, _ = svc.signin("bob", confirm={"webauthn": a})
        check(st == 200 and cookie is not None, "bob signs in with his passkey: %d %r" %
              (st, ans))
        st, _, again, _ = svc.signin("bob", confirm={"webauthn": a})
        check(st == 401 and again is None, "the sign-in assertion replayed: %d" % st)
        # A vote's assertion does not sign in.
        rid = new_request(svc)
        st, _, c2, _ = svc.signin("bob", confirm={"webauthn": bob.get(
            challenge(svc, "bob", "vote:approve:" + rid))})
        check(st == 401 and c2 is None, "a vote's challenge does not sign in: %d" % st)
        csrf = ans.get("csrf")
        # From the session: a challenge for bob, not for carol.
        st, _, _ = svc.session_call("POST", "/v1/webauthn/challenge", cookie, csrf,
                                 {"approver": "carol", "binding": "signin"})
        check(st == 403, "a challenge for another approver from bob's session: %d" % st)
        st, _, _ = svc.session_call("POST", "/v1/webauthn/challenge", cookie, None,
                                 {"approver": "bob", "binding": "signin"})
        check(st == 403, "a session's challenge without the CSRF token: %d" % st)
        # A session's vote with a passkey; the "signin" challenge would not do.
        st, out, _ = svc.session_call(
            "POST", "/v1/requests/%s/approve" % rid, cookie, csrf,
            {"comment": "", "confirm": {"webauthn": bob.get(
                session_challenge(svc, cookie, csrf, "bob", "signin"))}})
        check(st == 401, "a signin challenge for a vote: %d" % st)
        st, out, _ = svc.session_call(
            "POST", "/v1/requests/%s/approve" % rid, cookie, csrf,
            {"comment": "from the page", "confirm": {"webauthn": bob.get(
                session_challenge(svc, cookie, csrf, "bob", "vote:approve:" + rid))}})
        check(st == 200 and out.get("status") == "pending",
              "bob's session vote with a passkey: %d %r" % (st, out))
        # A batch of three, one assertion over the sorted ids.
        ids = sorted(new_request(svc) for _ in range(3))
        st, ans_c, cookie_c, _ = svc.signin("carol", confirm={"webauthn": carol.get(
            challenge(svc, "carol", "signin"))})
        check(st == 200, "carol signs in: %d" % st)
        binding = "vote:approve:" + ",".join(ids)
        body = {"action": "approve", "requests": ids, "comment": "batch",
                "confirm": {"webauthn": carol.get(session_challenge(
                    svc, cookie_c, ans_c["csrf"], "carol", binding))}}
        st, out, _ = svc.session_call("POST", "/v1/batch", cookie_c, ans_c["csrf"], body)
        codes = [x.get("code") for x in out.get("results", [])]
        check(st == 200 and codes == [200, 200, 200], "carol's batch: %d %r" % (st, out))
        # The same assertion for a batch of two of them: refused.
        body["requests"] = ids[:2]
        st, out, _ = svc.session_call("POST", "/v1/batch", cookie_c, ans_c["csrf"], body)
        check(st == 401 or all(x.get("code") != 200 for x in out.get("results", [])),
              "an assertion for three reused for two: %d %r" % (st, out))
    finally:
        svc.cleanup()


def config_checks():
    """origin, rp_id and second_factor: refused with file:line, or accepted."""
    svc = adlib.Service()
    try:
        with open(svc.conf) as f:
            good = f.read()
        cases = [
            ("rp_id = evil.example.net", "rp_id: evil.example.net is neither"),
            ("rp_id = Example.NET", "rp_id: expected a domain name"),
            ("rp_id = .example.net", "rp_id: expected a domain name"),
            ("origin = https://approvals.example.net/page", "origin: expected"),
            ("second_factor = totp", "second_factor"),
            ("origin = https://approvals.example.net\nrp_id = example.net", None),
            ("origin = https://approvals.example.net\nrp_id = ls.example.net",
             "rp_id: ls.example.net is neither"),
            ("second_factor = webauthn", None),
        ]
        bad_conf = svc.dir + "/bad.conf"
        for line, words in cases:
            adlib.write(bad_conf, good.replace("[server]", "[server]\n" + line, 1), 0o644)
            r = subprocess.run([adlib.DAEMON, "--config", bad_conf, "--check-config"],
                               capture_output=True, text=True)
            if words is None:
                check(r.returncode == 0, "%r accepted: %s" % (line, r.stderr))
            else:
                check(r.returncode == 1 and words in r.stderr and
                      re.search(r"bad\.conf:\d+:", r.stderr) is not None,
                      "%r refused with file:line: %s" % (line, r.stderr))
    finally:
        svc.cleanup()


if __name__ == "__main__":
    adlib.require_daemon()
    config_checks()
    main_service()
    lockout_and_webauthn_only()
    sessions_with_passkeys()
    adlib.finish()
