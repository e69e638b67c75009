#!/usr/bin/env python3
"""breakglass-approvald's PostgreSQL settings: a password in the database URL
is refused at load (file:line, the password not echoed), as are a passfile,
a database that is neither an absolute path nor a postgresql:// URL, a
server off this machine without sslmode=verify-full, a
database_password_file for SQLite or readable by others; against a TLS
server, sslmode=verify-full with the right CA works and with another CA the
service refuses to start."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adlib  # noqa: E402
import pglib  # noqa: E402
from adlib import check  # noqa: E402


def run(*args):
    return subprocess.run([adlib.DAEMON] + list(args), capture_output=True, text=True)


adlib.require_daemon()
pglib.require_server()
cluster = pglib.Cluster(ssl=True)
adlib._cluster = cluster
svc = adlib.Service(backend="postgresql")
try:
    with open(svc.conf) as f:
        good = f.read()
    url = cluster.url(svc.dbname)
    r = run("--config", svc.conf, "--check-config")
    check(r.returncode == 0, "check-config: %s" % r.stderr)

    bad_conf = svc.dir + "/bad.conf"
    secret = "s3cr3t-in-url"
    bad = {
        "password in the URL": (good.replace(url, url.replace("approvald@", "approvald:%s@"
                                                              % secret)), "password"),
        "password in the query": (good.replace(url, url + "?password=" + secret), "password"),
        "passfile in the query": (good.replace(url, url + "?passfile=/tmp/x"), "passfile"),
        "relative database": (good.replace(url, "approvald.db"), "absolute path"),
        "not a URL libpq reads": (good.replace(url, "postgresql://[x"), "URL"),
        "password file for SQLite": (good.replace(url, svc.dir + "/state/x.db"),
                                     "only for a postgresql"),
        # A server elsewhere is reached only with its certificate and name checked.
        "remote server without TLS": (good.replace(url, url.replace(
            "127.0.0.1", "192.0.2.7")), "sslmode=verify-full"),
        "remote server, TLS unchecked": (good.replace(url, url.replace(
            "127.0.0.1", "127.0.0.1,db.example.net") + "?sslmode=require"),
            "sslmode=verify-full"),
    }
    for name, (text, words) in bad.items():
        adlib.write(bad_conf, text, 0o644)
        r = run("--config", bad_conf, "--check-config")
        check(r.returncode == 1 and "bad.conf:" in r.stderr and words in r.stderr and
              secret not in r.stderr, "%s: %d %s" % (name, r.returncode, r.stderr))
    adlib.write(bad_conf, good.replace(url, url.replace("127.0.0.1", "192.0.2.7") +
                                       "?sslmode=verify-full"), 0o644)
    r = run("--config", bad_conf, "--check-config")
    check(r.returncode == 0, "remote server with verify-full: %s" % r.stderr)
    os.chmod(svc.dir + "/db.password", 0o644)
    r = run("--config", svc.conf, "--check-config")
    check(r.returncode == 1 and "database_password_file" in r.stderr,
          "password file readable by others: %d %s" % (r.returncode, r.stderr))
    os.chmod(svc.dir + "/db.password", 0o600)

    # TLS checked against the server's name and CA.
    adlib.write(svc.conf, good.replace(url, url + "?sslmode=verify-full&sslrootcert=" +
                                       cluster.ca), 0o644)
    svc.start()
    st, _, doc, _ = svc.create()
    check(st == 201, "filed over verify-full TLS: %d" % st)
    ssl = cluster.psql("SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) "
                       "WHERE application_name = 'breakglass-approvald' AND ssl")
    check(int(ssl[0][0]) >= 2, "the service's connections use TLS: %r" % ssl)
    check(svc.stop() == 0, "clean stop")
    other = pglib.Cluster(ssl=True)
    try:
        adlib.write(svc.conf, good.replace(url, url + "?sslmode=verify-full&sslrootcert=" +
                                           other.ca), 0o644)
        svc.refused_start("a server another CA signed", "certificate")
    finally:
        other.stop()
finally:
    svc.cleanup()
    cluster.stop()
adlib.finish()
