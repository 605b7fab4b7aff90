"""What the checks work with: one :class:`Harness` per connector under test (its class, its
simulator factory, the cases its plugin registered) and one :class:`Context` per test (a
simulator, the fault proxy in front of it, a client wired through the proxy)."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

import pytest

from xest import errors, plugins, registry
from xest.connector import PRIVATE_OPERATIONS, Connector
from xest.testing.cases import ErrorCase, RecordedCase
from xest.testing.proxy import FaultProxy

# Short timeouts keep the suite fast; a call that outlives WATCHDOG seconds counts as hung.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 2.0
WATCHDOG = 20.0
# Credentials for servers that do not check them (recorded payloads): valid base64, long
# enough that finding them by accident in a message is impossible.
DUMMY_KEY = "xest-conformance-key-7f3a9c1e5b"
DUMMY_SECRET = base64.b64encode(b"xest-conformance-secret-4d2e8b6a0c19").decode()
PUBLIC_READS = ("server_time", "status", "markets", "tickers")


class Harness:
    """Everything the suite knows about one connector, gathered once per session."""

    def __init__(self, exchange: str, *, live: bool = False) -> None:
        self.cls: type[Connector] = registry.connector_class(exchange)
        self.name = self.cls.exchange
        self.live = live
        self.problems: list[str] = []
        self.kit = registry.kits().get(self.name)
        self.sim_factory = registry.simulators().get(self.name)
        self.options: dict[str, Any] = {}
        self.checks: list[Callable[..., Any]] = []
        self.exclude: dict[str, str] = {}
        if self.kit is not None:
            self.error_cases = self._kit_cases("error_cases")
            self.recorded_cases = self._kit_cases("recorded_cases")
            self.options.update(self.kit.options)
            self.checks = list(self.kit.checks)
            self.exclude = dict(self.kit.exclude)
        else:  # a plugin on the older per-part hooks
            self.error_cases = self._cases("xest_error_payloads", ErrorCase)
            self.recorded_cases = self._cases("xest_recorded_payloads", RecordedCase)
            for calls in plugins.collect("xest_conformance_options")[0].values():
                for args in calls:
                    if len(args) == 2 and args[0] == self.name:
                        self.options.update(args[1])
        # Set by the foundation checks: later checks that need them say they depend on them.
        self.broken: dict[str, str] = {}
        self.touched: set[str] = set()  # operations the running check called (the report)

    def _kit_cases(self, kind: str) -> list[Any]:
        try:
            return self.kit.cases(kind)  # type: ignore[union-attr]
        except Exception as exc:
            self.problems.append(f"{self.name}'s ConnectorKit.{kind}: {exc}")
            return []

    def _cases(self, hook: str, kind: Any) -> list[Any]:
        registered, failed = plugins.collect(hook)
        self.problems += [f"{hook} of plugin {p} raised {reason}" for p, reason in failed.items()]
        cases = []
        for plugin, calls in registered.items():
            for args in calls:
                if len(args) != 2:
                    self.problems.append(f"{hook} of {plugin}: register(exchange, case) expected")
                elif args[0] == self.name:
                    try:
                        cases.append(kind.coerce(args[1]))
                    except (TypeError, ValueError, errors.XestError) as exc:
                        self.problems.append(f"{hook} of {plugin}: bad case {args[1]!r}: {exc}")
        return cases

    def declares(self, operation: str) -> bool:
        return operation in self.cls.capabilities

    @property
    def read_operation(self) -> str:
        """The cheapest public read the connector declares, used to carry faults."""
        for op in PUBLIC_READS:
            if self.declares(op):
                return op
        pytest.skip(f"{self.name} declares none of {', '.join(PUBLIC_READS)}")

    def start_sim(self, **options: Any) -> Any:
        if self.sim_factory is None:
            pytest.skip(f"{self.name} registers no simulator (ConnectorKit.simulator)")
        try:
            sim = self.sim_factory(port=0, **options)
        except TypeError as exc:
            pytest.fail(
                f"{self.name}'s simulator factory refused keyword options port=0"
                f"{''.join(f', {k}={v!r}' for k, v in options.items())}: {exc}; accept them "
                "(and ignore the ones you do not use)"
            )
        for needed in ("start", "stop"):
            if not hasattr(sim, needed):
                pytest.fail(f"{self.name}'s simulator has no {needed}(): see LoopbackServer")
        sim.start()
        if not isinstance(getattr(sim, "url", None), str):
            sim.stop()
            pytest.fail(f"{self.name}'s simulator, started, has no url: see LoopbackServer")
        return sim


class Context:
    """One test's world: a simulator (shared per connector), a fault proxy in front of it, and
    a client of the connector going through the proxy with the simulator's demo account."""

    def __init__(self, harness: Harness, sim: Any, proxy: FaultProxy | None = None) -> None:
        self.h = harness
        self.name = harness.name
        self.sim = sim
        self._own_proxy = proxy is None
        self.proxy = proxy if proxy is not None else FaultProxy(sim.url).start()
        if hasattr(sim, "demo_credentials"):
            self.key, self.secret = sim.demo_credentials()
        elif any(is_private(op) for op in harness.cls.capabilities):
            pytest.fail(
                f"{self.name} declares private operations but its simulator has no "
                "demo_credentials() giving the (key, secret) of a funded demo account"
            )
        else:
            self.key = self.secret = None
        self.clients: list[Any] = []
        self.client = self.open()
        self._symbol: str | None = None
        self._resting: tuple[Decimal, Decimal] | None = None

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.proxy.clear_faults()
        if self._own_proxy:
            self.proxy.stop()

    @property
    def connector(self) -> Connector:
        return self.client.connector

    def open(
        self,
        *,
        url: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        cache: bool = False,
        **transport: Any,
    ) -> Any:
        """A facade client of the connector (through the proxy unless ``url`` says otherwise)."""
        import xest

        options = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT, **transport}
        client = xest.open(
            self.name,
            url=url or self.proxy.url,
            key=key or self.key,
            secret=secret or self.secret,
            cache=cache,
            **options,
        )
        self.clients.append(client)
        return client

    # -- calling operations ----------------------------------------------------------------------

    def call(
        self,
        operation: str,
        *args: Any,
        client: Any = None,
        watchdog: float = WATCHDOG,
        **kwargs: Any,
    ) -> Any:
        """Call ``operation`` on the connector; fail if it hangs or raises a non-xest error.

        A signed request the simulator's base refused (bad signature, reused nonce) fails
        naming that refusal, not as whatever error the connector made of it."""
        connector = (client or self.client).connector
        self.h.touched.add(operation)
        refused = len(getattr(self.sim, "refusals", ()))
        try:
            return guarded(getattr(connector, operation), operation, watchdog, *args, **kwargs)
        except (errors.AuthenticationError, errors.InvalidNonce) as exc:
            reasons = list(getattr(self.sim, "refusals", ()))[refused:]
            if reasons and client is None:
                pytest.fail(refusal_message(self.name, operation, reasons[-1], exc), pytrace=False)
            if isinstance(exc, errors.InvalidNonce):
                self._explain_clock(operation, exc)
            raise

    def _explain_clock(self, operation: str, exc: Exception) -> None:
        """A refused timestamp often comes from a server_time() read in the wrong unit (the
        transport signs with the clock it estimates from it): say so when that is the case."""
        if not (self.h.declares("server_time") and hasattr(self.sim, "now")):
            return
        try:
            reading = self.connector.server_time().time.timestamp()
        except Exception:  # the explanation is a bonus; the original error stands
            return
        off = abs(reading - self.sim.now())
        if off > 86400:
            pytest.fail(
                f"{operation}() raised {type(exc).__name__} because server_time() reads "
                f"{reading:.0f}, {off / 86400:.0f} days from the simulator's clock: a timestamp "
                "read in the wrong unit, and every signed request's timestamp follows it",
                pytrace=False,
            )

    def require(self, operation: str) -> None:
        """Skip the test when ``operation`` is undeclared, after checking it raises NotSupported
        without sending a request."""
        if self.h.declares(operation):
            return
        mark = self.proxy.mark()
        args, kwargs = placeholder_args(operation)
        try:
            getattr(self.connector, operation)(*args, **kwargs)
        except errors.NotSupported:
            pass
        except Exception as exc:
            pytest.fail(
                f"{self.name} does not declare {operation} but {operation}() raised "
                f"{type(exc).__name__}: {exc}; an undeclared operation must raise NotSupported"
            )
        else:
            pytest.fail(
                f"{self.name} does not declare {operation} but {operation}() returned; an "
                "undeclared operation must raise NotSupported"
            )
        sent = self.proxy.requests_since(mark)
        if sent:
            pytest.fail(f"undeclared {operation}() sent {sent} before raising NotSupported")
        pytest.skip(f"{self.name} does not declare {operation} (checked: raises NotSupported)")

    # -- what to trade --------------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        if self._symbol is None:
            symbol = self.h.options.get("symbol")
            if symbol is None:
                if not self.h.declares("markets"):
                    pytest.skip(f"{self.name} declares no markets and names no symbol to use")
                active = [m for m in self.call("markets") if m.active]
                if not active:
                    pytest.fail(f"{self.name} simulator lists no active market")
                symbol = active[0].symbol
            self._symbol = symbol
        return self._symbol

    def known_symbols(self) -> set[str]:
        """Every symbol of markets(), or just the one under test when markets is undeclared."""
        if not self.h.declares("markets"):
            return {self.symbol}
        return {m.symbol for m in self.call("markets")}

    def market(self) -> Any:
        return self.call("market", self.symbol)

    def resting_buy(self) -> tuple[Decimal, Decimal]:
        """(amount, price) of a limit buy far below the market, so it rests in the book."""
        if self._resting is None:
            self._resting = self._resting_buy()
        return self._resting

    def _resting_buy(self) -> tuple[Decimal, Decimal]:
        opts = self.h.options
        if "order_amount" in opts and "order_price" in opts:
            return Decimal(str(opts["order_amount"])), Decimal(str(opts["order_price"]))
        market = self.market()
        reference = None
        if self.h.declares("order_book"):
            book = self.call("order_book", self.symbol)
            reference = book.best_bid.price if book.best_bid else None
        if reference is None and self.h.declares("ticker"):
            ticker = self.call("ticker", self.symbol)
            reference = ticker.bid or ticker.last
        if reference is None:
            pytest.skip("no reference price: declare order_book or ticker, or set order_price")
        price = _step(reference * Decimal("0.8"), market.price_step, ROUND_DOWN)
        price = max(price, market.min_price or Decimal(0))
        if price <= 0:
            pytest.fail(
                f"the reference price of {self.symbol} is {reference}, too small for its price "
                f"step {market.price_step}: data of the wrong pair served?",
                pytrace=False,
            )
        amount = Decimal(str(opts.get("order_amount") or 0)) or market.min_amount
        amount = amount or market.amount_step or Decimal("0.001")
        if market.min_cost and amount * price < market.min_cost:
            amount = market.min_cost * Decimal("1.1") / price
        return _step(amount, market.amount_step, ROUND_UP), price

    def quote_args(self) -> tuple[str, str, Decimal]:
        opts = self.h.options
        symbol = opts.get("quote_symbol") or self.symbol
        amount = opts.get("quote_amount")
        if amount is None:
            amount, _ = self.resting_buy() if symbol == self.symbol else (None, None)
        if amount is None:
            pytest.skip("set quote_amount in the ConnectorKit options")
        return symbol, opts.get("quote_side", "buy"), Decimal(str(amount))

    def default_args(self, operation: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Reasonable arguments for ``operation`` (computed before any fault is injected)."""
        if operation in ("ticker", "order_book", "trades"):
            return (self.symbol,), {}
        if operation == "candles":
            return (self.symbol, self.h.options.get("candle_interval", "1m")), {"limit": 5}
        if operation == "place_order":
            amount, price = self.resting_buy()
            return (self.symbol, "buy", "limit", amount, price), {"client_id": new_client_id()}
        if operation in ("order", "cancel_order"):
            return ("0",), {"symbol": self.symbol}
        if operation == "quote":
            return self.quote_args(), {}
        if operation == "accept_quote":
            return (self.call("quote", *self.quote_args()),), {}
        return (), {}


def refusal_message(name: str, operation: str, reason: str, exc: Exception) -> str:
    what = (
        "reuses a nonce (or sends one that does not increase)"
        if "nonce" in reason and "signature" not in reason
        else "signs differently from its declared signature scheme"
    )
    return (
        f"{name} {what}: the simulator refused {operation}(): {reason} "
        f"(the connector raised {type(exc).__name__}); see the connector's sign()"
    )


class foundation:
    """Mark a check as one others depend on: when it fails, its message is kept so a later
    check that fails with it can say it depends on this one."""

    def __init__(self, harness: Harness, check: str) -> None:
        self.harness, self.check = harness, check

    def __enter__(self) -> None:
        self.harness.broken.pop(self.check, None)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if exc is not None and not isinstance(exc, pytest.skip.Exception):
            lines = [ln for ln in str(exc).splitlines() if ln.strip()]
            self.harness.broken[self.check] = lines[0] if lines else type(exc).__name__


def cases(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Parametrise a check over the cases every connector registered (``error_cases`` or
    ``recorded_cases``), instead of over the connectors alone."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func.xest_cases = kind  # type: ignore[attr-defined]
        return func

    return mark


def guarded(func: Callable[..., Any], what: str, watchdog: float, *args: Any, **kwargs: Any) -> Any:
    """Run ``func`` in a thread: fail the test if it outlives ``watchdog`` seconds, and turn a
    non-xest exception into a failure that names it."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = func(*args, **kwargs)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"xest-conformance-{what}", daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(watchdog)
    if thread.is_alive():
        pytest.fail(f"{what}() still running after {watchdog:.0f} s: a call must not hang")
    outcome["elapsed"] = time.monotonic() - started
    if "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, errors.XestError):
            raise exc
        if isinstance(exc, pytest.fail.Exception | pytest.skip.Exception):
            raise exc
        pytest.fail(
            f"{what}() raised {type(exc).__name__}: {exc} -- a connector raises only "
            "xest.errors types, and builds models from exact values (Decimal from the "
            "exchange's strings, aware UTC datetimes)",
            pytrace=True,
        )
    return outcome["value"]


def placeholder_args(operation: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Arguments good enough to reach an undeclared operation's NotSupported."""
    symbol_ops = ("ticker", "order_book", "candles", "trades", "quote")
    if operation in symbol_ops:
        return ("BTC/USD",) + (("buy", Decimal(1)) if operation == "quote" else ()), {}
    if operation == "place_order":
        return ("BTC/USD", "buy", "limit", Decimal(1), Decimal(1)), {}
    if operation in ("order", "cancel_order"):
        return ("0",), {}
    if operation == "accept_quote":
        return (None,), {}
    return (), {}


def wrong_secret(secret: str) -> str:
    """A secret of the same length and alphabet (base64 padding kept) that signs differently."""
    body = secret.rstrip("=")
    pad = secret[len(body) :]
    for shift in range(1, len(body)):
        wrong = body[shift:] + body[:shift] + pad
        if wrong != secret:
            return wrong
    return secret + "x"


def new_client_id() -> str:
    return f"xc{time.time_ns() % 10**12:012d}"


def is_private(operation: str) -> bool:
    return operation in PRIVATE_OPERATIONS


def _step(value: Decimal, step: Decimal | None, rounding: str) -> Decimal:
    if not step:
        return value.quantize(Decimal("0.00000001"), rounding=rounding)
    return (value / step).to_integral_value(rounding=rounding) * step
