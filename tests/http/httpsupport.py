"""A loopback exchange for the transport tests, and a helper to run worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from xest.http import Endpoint
from xest.testing.server import LoopbackServer, SimRequest, SimResponse, route

WORKER = Path(__file__).with_name("worker.py")

STATUS = Endpoint("status", "GET", "/status", ttl=30)
SLOW_STATUS = Endpoint("slow_status", "GET", "/slow_status", ttl=30)
TIME = Endpoint("time", "GET", "/time")
PRIVATE = Endpoint("balance", "GET", "/private", signed=True, ttl=30)
ORDER = Endpoint("order", "POST", "/order", signed=True)
WEIGHTED = Endpoint("weighted", "GET", "/weighted", cost=20, bucket="weight")


class EchoExchange(LoopbackServer):
    """Answers with enough detail for tests to see what arrived, and when."""

    exchange = "echo"

    def __init__(self, port: int = 0, **kw) -> None:
        super().__init__(port, **kw)
        self.requests: list[SimRequest] = []
        self.arrivals: list[tuple[str, float]] = []  # (path, time.monotonic())
        self.orders = 0
        self.used_weight: int | None = None
        self.slow_delay = 0.3
        self._log_lock = threading.Lock()

    def handle(self, request: SimRequest) -> SimResponse:
        with self._log_lock:
            self.requests.append(request)
            self.arrivals.append((request.path, time.monotonic()))
        return super().handle(request)

    @route("GET", "/status")
    def status(self, request: SimRequest):
        return {"status": "online", "calls": self.hits["/status"], "query": request.query}

    @route("GET", "/slow_status")
    def slow_status(self, request: SimRequest):
        # Hold the server's state lock briefly released: threads are served concurrently.
        self.lock.release()
        try:
            time.sleep(self.slow_delay)
        finally:
            self.lock.acquire()
        return {"status": "online", "calls": self.hits["/slow_status"]}

    @route("GET", "/time")
    def time_(self, request: SimRequest):
        return {"unixtime": int(self.now()), "price": 0.1, "id": 2**63 + 7}

    @route("GET", "/private")
    def private(self, request: SimRequest):
        if not request.header("API-Key"):
            return SimResponse({"error": ["EAPI:Invalid key"]}, status=401)
        return {"balance": "12.5", "nonce": request.params.get("nonce")}

    @route("POST", "/order")
    def order(self, request: SimRequest):
        self.orders += 1
        return {"id": self.orders}

    @route("GET", "/weighted")
    def weighted(self, request: SimRequest):
        headers = {}
        if self.used_weight is not None:
            headers["X-MBX-USED-WEIGHT-1M"] = str(self.used_weight)
        return SimResponse({"ok": True}, headers=headers)

    @route("GET", "/echo_error")
    def echo_error(self, request: SimRequest):
        # A careless exchange error page that echoes the request back, signature and all.
        page = f"<html>bad request {request.query_string} {request.headers}</html>"
        return SimResponse(page, 400)


def run_workers(mode: str, url: str, count: int, *args: str, timeout: float = 30) -> list[str]:
    """Start ``count`` worker processes that begin together; return their stdout lines."""
    start_at = time.time() + 1.0  # interpreters start in well under a second
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), mode, url, f"{start_at:.6f}", str(i), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(count)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        outputs.append(out)
    return outputs
