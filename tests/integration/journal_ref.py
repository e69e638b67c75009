#!/usr/bin/env python3
"""An independent implementation of the breakglass journal format (docs/journal.md),
written from the specification with Python's standard library only.  The tests use
it to show that journals written by breakglass verify here, and that journals written
here verify with `breakglass verify`.

  journal_ref.py verify JOURNAL KEYFILE      exit 0 when intact
  journal_ref.py write JOURNAL STATE N       writes a new chain of N records, prints K_1
"""
import hashlib
import hmac
import json
import os
import sys

ZEROS = "0" * 64


def evolve(key):
    return hashlib.sha256(b"breakglass-evolve" + key).digest()


def verify(path, keyfile):
    key = bytes.fromhex(open(keyfile).read().strip())
    prev = ZEROS
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                sys.exit(f"{path}:{n}: incomplete line")
            line = raw[:-1]
            rec = json.loads(line.decode("utf-8"))
            keys = list(rec)
            if keys[-2:] != ["prev", "mac"] or keys[0] != "seq" or rec["seq"] != n:
                sys.exit(f"{path}:{n}: bad structure")
            if rec["prev"] != prev:
                sys.exit(f"{path}:{n}: broken prev link")
            # The mac covers the bytes up to and including the prev member.
            cut = line.rindex(b'"mac"')
            prefix = line[:line.rindex(b",", 0, cut)].rstrip()
            want = hmac.new(key, prefix, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, rec["mac"]):
                sys.exit(f"{path}:{n}: bad mac")
            prev = rec["mac"]
            key = evolve(key)
    print(f"{n} records verified")


def write(path, state, count):
    k1 = os.urandom(32)
    key = k1
    prev = ZEROS
    with open(path, "wb") as f:
        for seq in range(1, count + 1):
            rec = {"seq": seq, "time": "2026-11-27T12:00:00.000Z", "host": "ref.example",
                   "pid": os.getpid(), "event": "note.added", "outcome": "success",
                   "account": None, "operator": None, "incident": "INC-REF",
                   "request_id": None, "text": "caf\u00e9 \"quoted\" line\nbreak",
                   "prev": prev}
            # Different but valid spacing: a verifier must not depend on ours.
            body = json.dumps(rec, ensure_ascii=False, separators=(", ", ": ")).encode()
            prefix = body[:-1]
            mac = hmac.new(key, prefix, hashlib.sha256).hexdigest()
            f.write(prefix + b', "mac": "' + mac.encode() + b'"}\n')
            prev = mac
            key = evolve(key)
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as s:
        s.write(f"seq = {count}\nkey = {key.hex()}\nprev = {prev}\n")
    print(k1.hex())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
