#!/usr/bin/env python3
"""Loopback stand-in for Alertmanager, Prometheus and plain JSON status pages.

The first path segment picks the behaviour, so one server plays every source
of a test configuration: http://127.0.0.1:PORT/MODE/... .  Prints its port on
stdout, then serves until stdin closes (it dies with the test that runs it).
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_SECONDS = 60
OVERSIZE = 2 * 1024 * 1024
TOKEN = "s3cret-token"

AM_ALERTS = [
    {"fingerprint": "f00d", "status": {"state": "active"},
     "labels": {"alertname": "OutboundSpamSpike", "instance": "mx1.example.net"},
     "annotations": {"summary": "Outbound spam spike"},
     "startsAt": "2026-11-27T10:00:00Z"},
]
# What a server that ignored the filters would return: nothing that matches.
AM_QUIET = [
    {"fingerprint": "beef", "status": {"state": "active"},
     "labels": {"alertname": "OutboundSpamSpike", "instance": "mx2.example.net"}},
    {"fingerprint": "cafe", "status": {"state": "suppressed"},
     "labels": {"alertname": "OutboundSpamSpike", "instance": "mx1.example.net"}},
]
PROM_FIRING = {"status": "success", "data": {"alerts": [
    {"labels": {"alertname": "MailQueueBacklog", "severity": "page"},
     "annotations": {"summary": "Mail queue backlog"}, "state": "firing",
     "activeAt": "2026-11-27T10:01:00Z", "value": "1e+05"}]}}
PROM_QUIET = {"status": "success", "data": {"alerts": [
    {"labels": {"alertname": "MailQueueBacklog", "severity": "page"}, "state": "pending"},
    {"labels": {"alertname": "MailQueueBacklog", "severity": "info"}, "state": "firing"}]}}


def route(mode):
    """(status, body bytes) for a mode; None for the slow ones."""
    table = {
        "am-firing": AM_ALERTS,
        "am-quiet": AM_QUIET,
        "prom-firing": PROM_FIRING,
        "prom-quiet": PROM_QUIET,
        "http-firing": {"outbound": {"listed": True, "lists": ["zen"]}},
        "http-quiet": {"outbound": {"listed": False}},
    }
    if mode in table:
        return 200, json.dumps(table[mode]).encode()
    if mode == "error500":
        return 500, b'{"error": "boom"}'
    if mode == "malformed":
        return 200, b'{"status": "success", "data": {"alerts": ['
    if mode == "oversized":
        return 200, b'[' + b'{"a": 1},' * (OVERSIZE // 9) + b'{}]'
    return 404, b'{}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and
    # delayed ACKs add 40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        mode = self.path.split("/")[1].split("?")[0]
        if mode == "hang":
            time.sleep(HANG_SECONDS)
            return
        if mode == "redirect":
            self.send(302, b"{}", [("Location", "/am-firing/api/v2/alerts")])
            return
        if mode == "auth-prom":
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                self.send(401, b'{}')
                return
            mode = "prom-firing"
        status, body = route(mode)
        self.send(status, body)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
