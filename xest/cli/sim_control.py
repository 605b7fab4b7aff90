"""Controls of a running simulator for demos and scripts: move a price, fill an order, set the
exchange's status, skew its clock.

The simulator process serves them on a second loopback port, each call carrying the token from
the 0600 keys file (other local users cannot drive it). The calls map onto the simulator
objects' own methods; a simulator without one says so.
"""

from __future__ import annotations

import hmac
import json
import threading
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from xest import errors

STATUSES = ("online", "maintenance")


def apply(server: Any, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Do ``action`` on a simulator object; returns what changed. ValueError says why not."""
    if action == "price":
        market_id, price = str(body["market"]), _number(body["price"], "price")
        if price <= 0:
            raise ValueError("the price must be positive")
        _call(server, ("set_price",), market_id, price)
        return {"market": market_id, "price": str(price)}
    if action == "fill":
        amount = None if body.get("amount") is None else _number(body["amount"], "amount")
        if amount is not None and amount <= 0:
            raise ValueError("the amount must be positive")
        order_id = str(body["order"])
        try:
            _call(server, ("fill", "fill_order"), order_id, amount)
        except KeyError as exc:
            raise LookupError(f"no open limit order {order_id} on the simulator") from exc
        return {"order": order_id, "amount": None if amount is None else str(amount)}
    if action == "status":
        status = str(body["status"])
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if server.exchange == "binance":  # 0 normal, 1 maintenance
            server.set_status(0 if status == "online" else 1)
        else:
            server.set_status(status)
        return {"status": status}
    if action == "skew":
        seconds = float(body["seconds"])
        server.clock_offset = seconds
        return {"skew_ms": round(seconds * 1000, 3)}
    raise ValueError(f"unknown control {action!r}")


def _number(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{name} {value!r} is not a finite number")
    return number


def _call(server: Any, names: tuple[str, ...], *args: Any) -> Any:
    for name in names:
        method = getattr(server, name, None)
        if method is not None:
            return method(*args)
    raise ValueError(f"the {server.exchange} simulator has no {names[0]} control")


class ControlServer:
    """The control endpoint of the simulators of one ``xest sim`` process."""

    def __init__(self, simulators: dict[str, Any], token: str) -> None:
        self.simulators = simulators
        self.token = token
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                status, answer = owner.handle(self.path, self.headers.get("X-Xest-Token"), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, path: str, token: str | None, raw: bytes) -> tuple[int, dict[str, Any]]:
        if not token or not hmac.compare_digest(token, self.token):
            return 403, {"error": "wrong control token"}
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] not in self.simulators:
            return 404, {"error": f"no such control {path}"}
        exchange, action = parts
        try:
            body = json.loads(raw or b"{}")
            server = self.simulators[exchange]
            with server.lock:
                return 200, apply(server, action, body)
        except LookupError as exc:
            return 404, {"error": str(exc.args[0]) if exc.args else str(exc)}
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}


def send(running: Any, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """Ask the simulator process ``running`` (a :class:`RunningSim`) to do ``action``."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{running.control_url}/{running.exchange}/{action}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Xest-Token": running.token},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        message = json.loads(exc.read() or b"{}").get("error", f"HTTP {exc.code}")
        if exc.code == 404:
            raise errors.OrderNotFound(message, exchange=running.exchange) from None
        raise errors.UsageError(message, exchange=running.exchange) from None
    except OSError as exc:
        raise errors.ExchangeUnavailable(
            f"the {running.exchange} simulator's controls do not answer ({exc}); "
            f"see `xest sim status`",
            exchange=running.exchange,
        ) from None
