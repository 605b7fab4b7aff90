"""A minimal third-party connector: public status and clock only, a simulator that is not a
LoopbackServer, and no payload hooks. The suite must run it, skip what it does not declare
(after checking NotSupported) and fail naming the hooks it lacks."""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from xest import errors, hookimpl
from xest.connector import Connector
from xest.http import Endpoint
from xest.models import ExchangeStatus, ServerTime

PING = Endpoint("ping", "GET", "/ping")


class MinimalConnector(Connector):
    exchange = "minimal"
    default_url = "https://minimal.invalid"
    capabilities = frozenset({"status", "server_time"})

    def _get(self, key: str):
        data = self.request(PING)
        if not isinstance(data, dict) or key not in data:
            raise errors.BadResponse(f"unexpected answer: {str(data)[:80]!r}", exchange="minimal")
        return data

    def status(self) -> ExchangeStatus:
        data = self._get("ok")
        return ExchangeStatus("online" if data["ok"] else "maintenance", raw=data)

    def server_time(self) -> ServerTime:
        data = self._get("now_ms")
        return ServerTime(Decimal(data["now_ms"]) / 1000, raw=data)


class MinimalSimulator:
    def __init__(self, port: int = 0, clock_offset: float = 0.0, **_: object) -> None:
        self.port, self.clock_offset, self.server = port, clock_offset, None

    def now(self) -> float:
        return time.time() + self.clock_offset

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> MinimalSimulator:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = json.dumps({"ok": True, "now_ms": int(owner.now() * 1000)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@hookimpl
def xest_register_connectors(register):
    register(MinimalConnector)


@hookimpl
def xest_simulators(register):
    register("minimal", MinimalSimulator)
