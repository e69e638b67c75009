#!/usr/bin/env python3
"""Real journal appends (tests/helpers/emit_event) SIGKILLed at random points.

After every kill:
  - no file in state_dir or beside the journal may hold a key older than the
    one in the key state (forward security: an older key would let whoever
    finds it rewrite the records sealed since, and `verify --key K_1` would
    pass);
  - `breakglass verify --key K_1` (with the configured key state) must pass,
    as the writer would accept the journal: a record whose key-state update
    was lost is adopted, a torn last line is cut.
At the end, after one uninterrupted append, no file holds any key but the
current one, and state_dir holds only the key state and its lock.

Bounded: at most ITERATIONS kills and at most TIME_BUDGET seconds of them.
"""
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

BREAKGLASS = os.environ["BREAKGLASS"]
EMIT_EVENT = os.environ["EMIT_EVENT"]
ITERATIONS = 300
TIME_BUDGET = 60.0
CALIBRATION_RUNS = 5

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def evolve(key):
    return hashlib.sha256(b"breakglass-evolve" + key).digest()


def write_config(d):
    """tests/integration/lib.sh's write_config: the same minimal configuration."""
    lib = os.path.join(os.environ["top_srcdir"], "tests", "integration", "lib.sh")
    subprocess.run(["sh", "-c", '. "$1"; write_config "$2"', "sh", lib, d], check=True)
    return os.path.join(d, "breakglass.conf")


def read_state(path):
    fields = {}
    with open(path) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                fields[k.strip()] = v.strip()
    return int(fields["seq"]), bytes.fromhex(fields["key"])


def files_under(dirs):
    for d in dirs:
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path) and not os.path.islink(path):
                yield path


def scan(dirs, k1, state_path, allow_current_only):
    """Every file under dirs must hold no key but the current (or, right
    after a kill, a newer one): returns the number of problems found."""
    seq, current = read_state(state_path)
    keys = [k1]
    while len(keys) < seq + 1:
        keys.append(evolve(keys[-1]))
    if keys[seq] != current:
        fail(f"the key state's key is not K_{seq + 1}")
        return 1
    older = keys[:seq]
    bad = 0
    for path in files_under(dirs):
        with open(path, "rb") as f:
            data = f.read()
        for n, k in enumerate(older, 1):
            if k.hex().encode() in data or k in data:
                fail(f"{path} holds K_{n}, older than the current K_{seq + 1}")
                bad += 1
        if allow_current_only and path != state_path:
            nxt = evolve(current)
            if current.hex().encode() in data or nxt.hex().encode() in data:
                fail(f"{path} holds a journal key outside the key state")
                bad += 1
    return bad


def emit(conf, i):
    return [EMIT_EVENT, conf, "note.added", "success", f"text=append {i}"]


def main():
    tmp = tempfile.mkdtemp(prefix="bgcrash.")
    os.chmod(tmp, 0o755)
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


def verify(conf, k1file, why):
    p = subprocess.run([BREAKGLASS, "--config", conf, "verify", "--key", k1file],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"verify after {why}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def run(d):
    conf = write_config(d)
    state_dir = os.path.join(d, "state")
    state = os.path.join(state_dir, "journal.state")
    journal = os.path.join(d, "log", "journal.jsonl")
    dirs = [state_dir, os.path.join(d, "log")]
    p = subprocess.run([BREAKGLASS, "--config", conf, "journal", "init"],
                       capture_output=True, text=True, check=True)
    k1 = bytes.fromhex(p.stdout.strip())
    k1file = os.path.join(d, "k1")
    with open(k1file, "w") as f:
        f.write(k1.hex() + "\n")
    os.chmod(k1file, 0o600)

    # How long one append takes here: kills are spread over that span.
    spans = []
    for i in range(CALIBRATION_RUNS):
        t = time.monotonic()
        subprocess.run(emit(conf, f"calibration {i}"), check=True)
        spans.append(time.monotonic() - t)
    span = sorted(spans)[len(spans) // 2]

    rng = random.Random(int(os.environ.get("BG_CRASH_SEED", "0")) or None)
    adoptable = leftovers = torn = 0
    start = time.monotonic()
    done = 0
    for i in range(ITERATIONS):
        if time.monotonic() - start > TIME_BUDGET:
            break
        child = subprocess.Popen(emit(conf, i))
        time.sleep(rng.uniform(0, span * 1.2))
        child.kill()
        child.wait()
        done += 1
        seq, _ = read_state(state)
        with open(journal, "rb") as f:
            data = f.read()
        adoptable += data.count(b"\n") == seq + 1
        torn += not data.endswith(b"\n")
        leftovers += len(os.listdir(state_dir)) > 2
        scan(dirs, k1, state, False)
        out = verify(conf, k1file, f"kill {i}")
        if data.count(b"\n") == seq + 1 and "the next append adopts it" not in out:
            fail(f"verify after kill {i} does not say the last record awaits adoption: {out}")
        if failures:
            break  # the first problem says it all

    p = subprocess.run(emit(conf, "final"), capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"an uninterrupted append after the kills failed: {p.stderr.strip()}")
        return
    scan(dirs, k1, state, True)
    extra = sorted(set(os.listdir(state_dir)) - {"journal.state", "journal.state.lock"})
    if extra:
        fail(f"left in state_dir after a clean append: {extra}")
    out = verify(conf, k1file, "the final append")
    seq, _ = read_state(state)
    if f"{seq} records verified" not in out:
        fail(f"expected {seq} records verified, got: {out.strip()}")
    # A torn write is rare under SIGKILL (the kernel stops a write only
    # between pages): leave one by hand, as an append killed mid-write would.
    with open(journal, "ab") as f:
        f.write(b'{"seq":%d,"time":"2026-' % (seq + 1))
    out = verify(conf, k1file, "a torn write")
    if "an incomplete last line" not in out or "the next append cuts it" not in out:
        fail(f"verify does not say the torn last line is no record: {out.strip()}")
    subprocess.run(emit(conf, "after the torn write"), check=True)
    out = verify(conf, k1file, "the torn write was cut")
    if f"{seq + 1} records verified" not in out or "note:" in out:
        fail(f"expected {seq + 1} records verified and no note, got: {out.strip()}")
    print(f"{done} appends killed (span {span * 1000:.1f} ms): {adoptable} left a record "
          f"awaiting adoption, {torn} a torn line, {leftovers} a file beside the key state")


if __name__ == "__main__":
    sys.exit(main())
