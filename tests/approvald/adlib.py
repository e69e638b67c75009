"""Shared helpers for the breakglass-approvald tests: a private service on a
loopback port, host request signing (protocol v1), approver TOTP codes and
decision signature checks with openssl.  Python 3 standard library only.

BG_TEST_DATABASE=postgresql runs every service on PostgreSQL (a throwaway
cluster, pglib.py; one database per service, shared by its peers) instead
of an SQLite file."""
import atexit
import base64
import hashlib
import hmac
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import uuid

import pglib

SKIP = 77
TOTP_PERIOD = 30

top_builddir = os.environ.get("top_builddir", os.getcwd())
DAEMON = os.path.join(top_builddir, "approvald", "breakglass-approvald")
# tests/valgrind.sh runs the daemon under valgrind: ~20x slower, so longer bounds.
WRAPPER = shlex.split(os.environ.get("BG_TEST_WRAPPER", ""))
START_DEADLINE = 180 if WRAPPER else 10
STOP_DEADLINE = 120 if WRAPPER else 15

BACKEND = os.environ.get("BG_TEST_DATABASE", "sqlite")
_cluster = None


def cluster(fsync=False):
    """The PostgreSQL cluster the services of this process share (fsync:
    how the first call starts it)."""
    global _cluster
    if _cluster is None:
        _cluster = pglib.Cluster(fsync=fsync)
        atexit.register(_cluster.stop)
    return _cluster


# The schema each backend's store creates (store_sqlite.c, store_pg.c).
SCHEMA_VERSION = {"sqlite": 8, "postgresql": 7}

HOSTS = ["mx1.example.net", "mx2.example.net"]
APPROVERS = ["bob", "carol", "dave", "erin", "frank"]

failures = 0
checks = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg, file=sys.stderr)


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        fail(msg)
    return cond


def finish():
    print("%d checks, %d failures" % (checks, failures))
    sys.exit(1 if failures else 0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def totp_code(secret, step):
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    n = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % n


class Service:
    """A breakglass-approvald with its own directory, keys and configuration."""

    def __init__(self, expiry="10m", quorum=2, notify="", extra_server="",
                 approvers=None, backend=None, like=None, instance=None, totp_window=1,
                 hosts=None, approver_lines=None):
        """like: another Service whose database, keys, hosts and approvers
        this one shares (another instance of the same service).
        approver_lines: {name: [lines]} added to those [approver] sections."""
        self.dir = tempfile.mkdtemp(prefix="bgad.")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.totp_window = totp_window
        self.proc = None
        self.host_keys = like.host_keys if like else {}
        self.tokens = like.tokens if like else {}
        self.totp = like.totp if like else {}
        # Shared by instances: a step used on one is used on all.
        self.last_step = like.last_step if like else {}
        self.backend = like.backend if like else (backend or BACKEND)
        self.hosts = like.hosts if like else (hosts or HOSTS)
        d = self.dir
        for sub in ("state", "log", "hosts", "approvers"):
            os.mkdir(os.path.join(d, sub), 0o755)
        keys = like.dir if like else d
        if not like:
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                            d + "/signing.pem"], check=True, capture_output=True)
            os.chmod(d + "/signing.pem", 0o600)
            subprocess.run(["openssl", "pkey", "-in", d + "/signing.pem", "-pubout",
                            "-out", d + "/signing.pub"], check=True, capture_output=True)
            for h in self.hosts:
                key = os.urandom(32)
                self.host_keys[h] = key
                write("%s/hosts/%s.key" % (d, h), key.hex() + "\n")
        else:
            shutil.copy(keys + "/signing.pub", d + "/signing.pub")
        if self.backend == "postgresql":
            self.cluster = like.cluster if like else cluster()
            self.dbname = like.dbname if like else self.cluster.create_database()
            write(d + "/db.password", self.cluster.password + "\n")
            database = ["database = " + self.cluster.url(self.dbname),
                        "database_password_file = %s/db.password" % d]
        else:
            database = ["database = %s/state/approvald.db" % d]
        conf = ["[server]", "listen = 127.0.0.1:%d" % self.port, *database,
                "signing_key = %s/signing.pem" % keys,
                "request_expiry = %s" % expiry, "quorum = %d" % quorum,
                "public_url = http://127.0.0.1:%d" % self.port,
                "state_dir = %s/state" % d, "journal = %s/log/journal.jsonl" % d,
                "instance = " + instance if instance else "",
                "totp_window = %d" % totp_window,
                extra_server, ""]
        for h in self.hosts:
            conf += ["[host %s]" % h, "key = %s/hosts/%s.key" % (keys, h), ""]
        self.approvers = like.approvers if like else (approvers or APPROVERS)
        for a in self.approvers:
            if not like:
                self.tokens[a] = base64.urlsafe_b64encode(os.urandom(24)).decode()
                self.totp[a] = os.urandom(20)
                write("%s/approvers/%s" % (d, a), "secret = %s\n" %
                      base64.b32encode(self.totp[a]).decode().rstrip("="))
            conf += ["[approver %s]" % a, "token_sha256 = " +
                     hashlib.sha256(self.tokens[a].encode()).hexdigest(),
                     "totp = %s/approvers/%s" % (keys, a),
                     *(approver_lines or {}).get(a, []), ""]
        # notify: text, or a function of the service directory giving it.
        conf.append(notify(d) if callable(notify) else notify)
        self.conf = d + "/approvald.conf"
        write(self.conf, "\n".join(conf) + "\n", 0o644)
        r = subprocess.run([DAEMON, "--config", self.conf, "--init-journal"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("init-journal: " + r.stderr)
        self.k1 = r.stdout.strip()

    # -- process ---------------------------------------------------------
    def start(self):
        self.log = open(self.dir + "/daemon.log", "ab")
        self.log_start = self.log.tell()
        self.proc = subprocess.Popen([*WRAPPER, DAEMON, "--config", self.conf,
                                      "--foreground"], stdout=self.log, stderr=self.log)
        deadline = time.time() + START_DEADLINE
        while time.time() < deadline:
            try:
                # 503: started, and telling what is unhealthy.
                if self.request("GET", "/healthz")[0] in (200, 503):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("the service did not start: " + self.daemon_log())

    def refused_start(self, what, words):
        """Checks that the service does not start, saying words."""
        try:
            self.start()
            check(False, "%s: the service started" % what)
        except RuntimeError as e:
            check(words in str(e), "%s refused: %s" % (what, e))

    def stop(self):
        """SIGTERM, then checks what this run of the daemon printed: a
        sanitizer's report (ASan, LSan and UBSan print theirs at exit, to the
        log) fails the test, as does a daemon that ignored SIGTERM.  Returns
        the exit status; a daemon that had already exited is the caller's to
        judge (refused_start)."""
        if self.proc is None:
            return None
        running = self.proc.poll() is None
        if running:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            check(False, "the service ignored SIGTERM for %d s" % STOP_DEADLINE)
            self.proc.kill()
            self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        with open(self.dir + "/daemon.log", "rb") as f:
            f.seek(getattr(self, "log_start", 0))
            report = sanitizer_report(f.read().decode(errors="replace"))
        check(report is None, "the service's sanitizer report:\n%s" % report)
        return rc

    def daemon_log(self):
        try:
            with open(self.dir + "/daemon.log", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        if failures:
            print(self.daemon_log(), file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- HTTP ------------------------------------------------------------
    def request(self, method, target, body=b"", headers=None, timeout=40):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, target, body=body if body else None,
                      headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, data, dict((k.lower(), v) for k, v in r.getheaders())
        finally:
            c.close()

    def signed_headers(self, host, method, target, body, ts=None, key=None):
        ts = str(int(time.time()) if ts is None else ts)
        msg = ("v1:%s:%s:%s:" % (ts, method, target)).encode() + body
        sig = hmac.new(key or self.host_keys[host], msg, hashlib.sha256).hexdigest()
        h = {"X-Breakglass-Host": host, "X-Breakglass-Timestamp": ts,
             "X-Breakglass-Signature": "v1=" + sig}
        if body:
            h["Content-Type"] = "application/json"
        return h

    def host_call(self, host, method, target, body=b"", **kw):
        return self.request(method, target, body,
                            self.signed_headers(host, method, target, body, **kw))

    def create(self, host="mx1.example.net", **fields):
        doc = request_doc(host, **fields)
        body = json.dumps(doc, separators=(",", ":")).encode()
        st, data, _ = self.host_call(host, "POST", "/v1/requests", body)
        return st, data, doc, body

    def poll(self, rid, wait=0, host="mx1.example.net"):
        return self.host_call(host, "GET", "/v1/requests/%s?wait=%d" % (rid, wait))

    def open_poll(self, rid, ts, wait=30, host="mx1.example.net", timeout=30):
        """A long poll sent on a raw socket and left for the caller to read."""
        target = "/v1/requests/%s?wait=%d" % (rid, wait)
        h = self.signed_headers(host, "GET", target, b"", ts=ts)
        req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % target
        req += "".join("%s: %s\r\n" % kv for kv in h.items()) + "\r\n"
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.sendall(req.encode())
        return s

    def sql(self, query):
        """Rows of query run on the service's database, whichever backend."""
        if self.backend == "postgresql":
            return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in row)
                    for row in self.cluster.psql(query, db=self.dbname)]
        c = sqlite3.connect("file:%s/state/approvald.db" % self.dir, uri=True, timeout=10)
        try:
            rows = c.execute(query).fetchall()
            c.commit()
            return rows
        finally:
            c.close()

    def insert_request(self, rid, host, operator, body, received_ms, expires_ms,
                       status="pending", decided_ms=None, votes=()):
        """A request written straight into the database (body: bytes), with
        approving votes by the names in votes at decided_ms."""
        if self.backend == "postgresql":
            self.sql("INSERT INTO requests VALUES ('%s', '%s', '%s', '%s', "
                     "decode('%s', 'hex'), %d, %d, %s)" %
                     (rid, host, operator, status, body.hex(), received_ms, expires_ms,
                      "NULL" if decided_ms is None else str(decided_ms)))
            for a in votes:
                self.sql("INSERT INTO votes (request_id, approver, approve, at_ms, comment) "
                         "VALUES ('%s', '%s', true, %d, '')" % (rid, a, decided_ms))
            return
        c = sqlite3.connect("file:%s/state/approvald.db" % self.dir, uri=True, timeout=30)
        try:
            with c:
                c.execute("INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (rid, host, operator, status, body, received_ms, expires_ms,
                           decided_ms))
                for a in votes:
                    c.execute("INSERT INTO votes (request_id, approver, approve, at_ms, "
                              "comment) VALUES (?, ?, 1, ?, '')", (rid, a, decided_ms))
        finally:
            c.close()

    def schema_version(self):
        if self.backend == "postgresql":
            return self.sql("SELECT version FROM schema_version")[0][0]
        return self.sql("PRAGMA user_version")[0][0]

    def set_schema_version(self, v):
        if self.backend == "postgresql":
            self.sql("UPDATE schema_version SET version = %d" % v)
        else:
            self.sql("PRAGMA user_version = %d" % v)

    # -- PostgreSQL: another session holding a request's row ---------------
    HELD = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' " \
        "AND state = 'active' AND pid <> pg_backend_pid()"

    def hold_row(self, rid):
        """Another session holds the request's row (a transaction that never
        ends, until release_row)."""
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-h", self.cluster.dir, "-p", str(self.cluster.port), "-U",
             pglib.ADMIN, "-d", self.dbname, "-c",
             "BEGIN; SELECT id FROM requests WHERE id = '%s' FOR UPDATE; "
             "SELECT pg_sleep(600); COMMIT;" % rid],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline and not self.sql(self.HELD)[0][0]:
            time.sleep(0.05)
        return holder

    def release_row(self, holder):
        self.cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()")
        holder.wait()

    def waiting_on_locks(self):
        """The service's statements waiting for a row lock (every instance's)."""
        return self.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                        "'breakglass-approvald' AND wait_event_type = 'Lock'")[0][0]

    def seen_count(self):
        """Host signatures committed: one per request filed, one per poll held."""
        return self.sql("SELECT count(*) FROM seen")[0][0]

    # -- approvers -------------------------------------------------------
    def code(self, approver, window=None, newest=False):
        """A fresh TOTP code: a step newer than any this approver used.

        At the earliest the step window-1 before the current one (the
        current step with the default window), so that the code stays
        accepted for at least one period even on a slow, loaded machine;
        with newest, the latest step accepted (a browser starting up)."""
        window = window or self.totp_window
        now = int(time.time()) // TOTP_PERIOD
        step = max(now + window if newest else now - window + 1,
                   self.last_step.get(approver, 0) + 1)
        if step > now + window:
            time.sleep((step - window) * TOTP_PERIOD - time.time() + 0.1)
        self.last_step[approver] = step
        return totp_code(self.totp[approver], step)

    def vote(self, rid, approver, action="approve", token=None, code=None,
             comment="", who=None):
        body = json.dumps({"approver": who or approver,
                           "totp": code if code is not None else self.code(approver),
                           "comment": comment}).encode()
        h = {"Content-Type": "application/json",
             "Authorization": "Bearer " + (token or self.tokens[approver])}
        return self.request("POST", "/v1/requests/%s/%s" % (rid, action), body, h)

    # -- sessions (session.c) ---------------------------------------------
    def origin(self):
        """The page's origin: public_url's, the default [server] origin."""
        return "http://127.0.0.1:%d" % self.port

    def signin(self, approver, token=None, code=None, origin=None, confirm=None):
        """POST /v1/session: (status, answer, cookie value or None)."""
        body = json.dumps({"approver": approver, "token": token or self.tokens[approver],
                           "confirm": confirm if confirm is not None else
                           {"totp": code if code is not None else self.code(approver)}})
        st, data, h = self.request("POST", "/v1/session", body.encode(),
                                   {"Content-Type": "application/json",
                                    "Origin": origin or self.origin()})
        cookie = None
        if h.get("set-cookie", "").startswith("bg_session="):
            cookie = h["set-cookie"].split(";")[0][len("bg_session="):]
        return st, json.loads(data) if data else {}, cookie, h

    def codes(self, approver, k):
        """k fresh codes for a browser that starts first: the latest steps
        the window accepts, so they stay valid the longest."""
        window = self.totp_window
        now = int(time.time()) // TOTP_PERIOD
        first = max(now + window - k + 1, self.last_step.get(approver, 0) + 1)
        if first + k - 1 > now + window:
            time.sleep((first + k - 1 - window) * TOTP_PERIOD - time.time() + 0.1)
        self.last_step[approver] = first + k - 1
        return [totp_code(self.totp[approver], s) for s in range(first, first + k)]

    def page(self, target="/", approver="dave"):
        """GET target signed in as approver (one session per service)."""
        if getattr(self, "_page_cookie", None) is None:
            st, _, self._page_cookie, _ = self.signin(approver)
            if st != 200:
                raise RuntimeError("page: sign-in refused: %d" % st)
        return self.request("GET", target, headers={"Cookie": "bg_session=" +
                                                    self._page_cookie})

    def session_call(self, method, target, cookie, csrf=None, body=None, origin=None):
        """A call from a signed-in page: its cookie, CSRF token and Origin."""
        h = {"Cookie": "bg_session=" + cookie, "Origin": origin or self.origin()}
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        if origin == "":
            del h["Origin"]
        if body is not None:
            h["Content-Type"] = "application/json"
        st, data, rh = self.request(method, target, json.dumps(body).encode()
                                    if body is not None else b"", h)
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            doc = {}
        return st, doc, rh

    def session_vote(self, rid, cookie, csrf, approver, action="approve", code=None,
                     comment="", **kw):
        body = {"comment": comment, "confirm": {"totp": code if code is not None else
                                               self.code(approver)}}
        return self.session_call("POST", "/v1/requests/%s/%s" % (rid, action), cookie,
                                 csrf, body, **kw)

    def batch(self, ids, cookie, csrf, approver, action="approve", code=None,
              comment="", **kw):
        body = {"action": action, "requests": ids, "comment": comment,
                "confirm": {"totp": code if code is not None else self.code(approver)}}
        return self.session_call("POST", "/v1/batch", cookie, csrf, body, **kw)

    def verify_decision(self, body, headers):
        """Checks X-Breakglass-Decision-Signature with openssl pkeyutl."""
        sig = headers.get("x-breakglass-decision-signature", "")
        if not sig.startswith("ed25519="):
            return False
        with open(self.dir + "/d.json", "wb") as f:
            f.write(body)
        with open(self.dir + "/d.sig", "wb") as f:
            f.write(base64.b64decode(sig[len("ed25519="):]))
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-rawin", "-pubin",
                            "-inkey", self.dir + "/signing.pub", "-sigfile",
                            self.dir + "/d.sig", "-in", self.dir + "/d.json"],
                           capture_output=True, text=True)
        return r.returncode == 0 and "Signature Verified Successfully" in r.stdout

    def verify_journal(self):
        """`breakglass verify --key K_1` on the journal: None when the CLI is not
        built, else (passed, output)."""
        cli = os.path.join(top_builddir, "cli", "breakglass")
        if not os.access(cli, os.X_OK):
            return None
        kf = self.dir + "/k1"
        write(kf, self.k1 + "\n")
        r = subprocess.run([cli, "verify", "--key", kf, self.dir + "/log/journal.jsonl"],
                           capture_output=True, text=True)
        return r.returncode == 0, r.stdout + r.stderr

    def journal(self):
        try:
            with open(self.dir + "/log/journal.jsonl") as f:
                return [json.loads(line) for line in f]
        except OSError:
            return []


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: ")


def sanitizer_report(text):
    """The first sanitizer report in text and what follows it, or None."""
    at = min((i for i in (text.find(m) for m in SANITIZER_MARKS) if i >= 0), default=-1)
    return None if at < 0 else text[max(0, at - 200):at + 4000]


def read_all(sock):
    """Everything sock sends until the peer closes it."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def fill_fs(path):
    """Writes zeros to path until its file system is full.  Unbuffered: a
    buffered file would fail again on close with what it still holds."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass


def request_doc(host="mx1.example.net", **fields):
    doc = {
        "request_id": str(uuid.uuid4()),
        "nonce": os.urandom(16).hex(),
        "host": host,
        "account": "breakglass",
        "operator": "alice",
        "incident": "INC-2041",
        "reason": "Outbound spam from a compromised SASL account",
        "scope": "mail-queue",
        "ttl": 3600,
        "quorum": 2,
        "approvers": ["bob", "carol", "dave"],
        "service": "sshd",
        "rhost": "192.0.2.10",
        "tty": "ssh",
        "signals": [{"source": "alertmanager-mx", "id": "5f0c3d2a9b8e7f61",
                     "summary": "Outbound mail rate 40x baseline", "since":
                     "2026-11-27T14:52:10.000Z"}],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    doc.update(fields)
    return doc


def require_daemon():
    if not os.access(DAEMON, os.X_OK):
        print("SKIP: %s not built" % DAEMON)
        sys.exit(SKIP)
    if shutil.which("openssl") is None:
        print("SKIP: openssl not installed")
        sys.exit(SKIP)


CHROMIUM = "/usr/bin/chromium"


def require_browser():
    """The node_modules directory holding playwright-core for the browser
    tests' .mjs drivers (installed with npm under the build directory on
    first use), or a skip (77) without Chromium, node or npm."""
    require_daemon()
    if not os.access(CHROMIUM, os.X_OK) or not shutil.which("node") or \
            not shutil.which("npm"):
        print("SKIP: needs %s (Debian package chromium), node and npm" % CHROMIUM)
        sys.exit(SKIP)
    nodedir = os.path.join(top_builddir, "tests", "approvald-node")
    modules = os.path.join(nodedir, "node_modules")
    if not os.path.isdir(os.path.join(modules, "playwright-core")):
        os.makedirs(nodedir, exist_ok=True)
        r = subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund",
                            "--prefix", nodedir, "playwright-core"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print("SKIP: npm install playwright-core failed: " + r.stderr[-500:])
            sys.exit(SKIP)
    return modules
