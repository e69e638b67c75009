"""An independent implementation of protocol R1 (DESIGN.md "Offline recovery"),
with Python's hmac/hashlib only: the vectors the C tests hold must come out of it."""
import hashlib
import hmac


def host_key(k_a: bytes, host_id: str) -> bytes:
    return hmac.new(k_a, b"breakglass-recovery-host:" + host_id.encode(), hashlib.sha256).digest()


def code(k_ah: bytes, host, account, operator, incident, scope, challenge, approver) -> str:
    challenge = challenge.replace("-", "")
    msg = ":".join(["R1", host, account, operator, incident, scope, challenge, approver])
    mac = hmac.new(k_ah, msg.encode(), hashlib.sha256).digest()
    off = mac[-1] & 0x0F
    binary = int.from_bytes(mac[off:off + 4], "big") & 0x7FFFFFFF
    digits = "%08d" % (binary % 10**8)
    return digits[:4] + "-" + digits[4:]


# (K_A hex, host, account, operator, incident, scope, challenge, approver)
VECTORS = [
    (bytes(range(32)).hex(), "mx1.example.net", "breakglass", "alice", "INC-1234",
     "mail-queue", "ABCD-2345", "bob"),
    ("ff" * 32, "mx1.example.net", "breakglass", "alice", "INC-1234",
     "mail-queue", "ABCD-2345", "carol"),
    ("ff" * 32, "mx2.example.net", "bg-mail", "dave", "INC 77/b",
     "diagnostics", "7QZX-J3KP", "carol"),
]

if __name__ == "__main__":
    for v in VECTORS:
        k_ah = host_key(bytes.fromhex(v[0]), v[1])
        print(v[0], v[1], k_ah.hex(), code(k_ah, *v[1:]))
