"""A throwaway PostgreSQL cluster for the approvald tests: initdb and pg_ctl
from /usr/lib/postgresql/*/bin in a temporary directory, run as an
unprivileged user (initdb refuses root), listening on a socket directory
and on a loopback port.  Only the server binaries' absence skips a test.
Python 3 standard library only."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
START_DEADLINE = 60
ADMIN = "postgres"


def bindir():
    """The newest installed server's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def require_server():
    if bindir() is None:
        print("SKIP: the PostgreSQL server binaries are not installed "
              "(/usr/lib/postgresql/*/bin/initdb; Debian: postgresql)")
        sys.exit(SKIP)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl start; stop() removes everything."""

    def __init__(self, fsync=False, ssl=False):
        """ssl: the server speaks TLS with a certificate for 127.0.0.1 from
        a CA of its own (self.ca, a file anyone may read)."""
        require_server()
        self.bin = bindir()
        self.dir = tempfile.mkdtemp(prefix="bgpg.")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.running = False
        if os.geteuid() == 0:
            # The server runs as an unprivileged user: postgres, or nobody.
            name = "postgres"
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                name = "nobody"
                pw = pwd.getpwnam(name)
            self.user = name
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.dir, 0o700)
            self.prefix = ["runuser", "-u", name, "--"]
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
            self.uid, self.gid = os.geteuid(), os.getegid()
            self.prefix = []
        self._run([self.bin + "/initdb", "-D", self.data, "-U", ADMIN, "-A", "trust",
                   "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"])
        opts = ("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s "
                "-c max_connections=200 -c fsync=%s -c synchronous_commit=%s "
                "-c full_page_writes=%s" %
                (self.port, self.dir, "on" if fsync else "off", "on" if fsync else "off",
                 "on" if fsync else "off"))
        if ssl:
            opts += self._certificates()
        self._run([self.bin + "/pg_ctl", "-D", self.data, "-l", self.dir + "/server.log",
                   "-o", opts, "-w", "-t", str(START_DEADLINE), "start"])
        self.running = True
        # Loopback TCP needs a password (scram): the test's role has one.
        self.role = "approvald"
        self.password = os.urandom(12).hex()
        self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (self.role, self.password))

    def _certificates(self):
        """A CA and the server's certificate for IP 127.0.0.1; server options."""
        d = self.dir

        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-days", "1", "-subj", "/CN=bgtest CA",
                "-keyout", d + "/ca.key", "-out", d + "/ca.crt")
        openssl("req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", d + "/server.key",
                "-out", d + "/server.csr")
        with open(d + "/san.ext", "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt", "-CAkey",
                d + "/ca.key", "-CAcreateserial", "-days", "1", "-extfile", d + "/san.ext",
                "-out", d + "/server.crt")
        for name in ("server.key", "server.crt"):
            os.chown(d + "/" + name, self.uid, self.gid)
            os.chmod(d + "/" + name, 0o600)
        # The clients' copy, outside the server's private directory.
        fd, self.ca = tempfile.mkstemp(prefix="bgpg-ca.", suffix=".crt")
        with os.fdopen(fd, "wb") as out, open(d + "/ca.crt", "rb") as f:
            out.write(f.read())
        os.chmod(self.ca, 0o644)
        return " -c ssl=on -c ssl_cert_file=%s/server.crt -c ssl_key_file=%s/server.key" % (
            d, d)

    def _run(self, argv):
        r = subprocess.run(self.prefix + argv, capture_output=True, text=True,
                           timeout=START_DEADLINE + 30)
        if r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (argv[0], r.stdout, r.stderr))
        return r.stdout

    def psql(self, sql, db="postgres"):
        """Runs sql as the superuser over the socket; rows as lists of text."""
        r = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-h", self.dir, "-p", str(self.port), "-U", ADMIN, "-d", db,
                            "-c", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return [line.split("\t") for line in r.stdout.splitlines() if line != ""]

    def create_database(self):
        """A fresh database owned by the test's role; returns its name."""
        name = "bg_" + os.urandom(6).hex()
        self.psql("CREATE DATABASE %s OWNER %s" % (name, self.role))
        return name

    def url(self, db, query=""):
        return "postgresql://%s@127.0.0.1:%d/%s%s" % (self.role, self.port, db, query)

    def restart(self):
        """Every connection is cut; the server comes back on the same port."""
        # -l: the server's output to its log, not to this process's pipe.
        self._run([self.bin + "/pg_ctl", "-D", self.data, "-l", self.dir + "/server.log",
                   "-m", "fast", "-w", "-t", str(START_DEADLINE), "restart"])

    def stop(self):
        if self.running:
            subprocess.run(self.prefix + [self.bin + "/pg_ctl", "-D", self.data, "-m",
                                          "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)
        if getattr(self, "ca", None):
            os.unlink(self.ca)
            self.ca = None

    def log(self):
        try:
            with open(self.dir + "/server.log", errors="replace") as f:
                return f.read()
        except OSError:
            return ""
