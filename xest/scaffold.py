"""``xest new-connector NAME``: a new connector distribution that installs, is listed by
``xest plugins list`` and passes the conformance suite as it stands, laid out as CONTRIBUTING.md
teaches (``endpoints.py``, ``errors.py``, ``parse.py``, ``connector.py``, ``simulator.py``,
``cases.py``, ``plugin.py``).

It speaks a small made-up dialect that shows the shapes real exchanges need: the pair in the URL
path (a path template), no time endpoint (the clock comes from the HTTP ``Date`` header), an
error envelope mapped with an :class:`~xest.errors.ErrorTable`. Every place to replace with the
real exchange's facts is marked ``TODO(xest)``.
"""

from __future__ import annotations

import re
from pathlib import Path

from xest import errors

__all__ = ["files", "write"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")


def names(name: str) -> dict[str, str]:
    """The names derived from the exchange's: ``{name}``, ``{package}``, ``{dist}``, ``{cls}``."""
    if not _NAME.match(name):
        raise errors.ConfigError(
            f"{name!r} is not a connector name: use 2 to 31 lower-case letters, digits or _, "
            "starting with a letter (the name users type, e.g. bitstamp)"
        )
    title = "".join(part.capitalize() for part in name.split("_"))
    dist = "xest-" + name.replace("_", "-")
    return {"name": name, "package": f"xest_{name}", "dist": dist, "cls": title}


def files(name: str) -> dict[str, str]:
    """Relative path → content of every file of the new distribution."""
    n = names(name)
    pkg = n["package"]

    def fill(text: str) -> str:
        for key, value in n.items():
            text = text.replace(f"@{key}@", value)
        return text.lstrip("\n")

    return {
        "pyproject.toml": fill(_PYPROJECT),
        "README.md": fill(_README),
        f"{pkg}/__init__.py": fill(_INIT),
        f"{pkg}/endpoints.py": fill(_ENDPOINTS),
        f"{pkg}/errors.py": fill(_ERRORS),
        f"{pkg}/parse.py": fill(_PARSE),
        f"{pkg}/connector.py": fill(_CONNECTOR),
        f"{pkg}/simulator.py": fill(_SIMULATOR),
        f"{pkg}/cases.py": fill(_CASES),
        f"{pkg}/plugin.py": fill(_PLUGIN),
        "tests/test_connector.py": fill(_TESTS),
    }


def write(name: str, directory: Path, *, force: bool = False) -> list[Path]:
    """Write the distribution into ``directory`` (created); the paths written. Refuses to
    overwrite an existing file unless ``force``."""
    planned = {directory / rel: text for rel, text in files(name).items()}
    existing = [p for p in planned if p.exists()]
    if existing and not force:
        raise errors.ConfigError(
            f"{existing[0]} already exists: pick another directory, or pass --force to overwrite"
        )
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(planned)


_PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "@dist@"
version = "0.1.0"
description = "xest connector for @cls@"  # TODO(xest): say which exchange and API
requires-python = ">=3.11"
dependencies = ["xest>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The one line that makes the connector visible to xest and to its conformance suite.
[project.entry-points.xest]
@name@ = "@package@.plugin"

[tool.setuptools.packages.find]
include = ["@package@*"]
"""

_README = """
# @dist@

An [xest](https://pypi.org/project/xest/) connector for @cls@, written from
`xest new-connector @name@`. It runs as generated against its own simulator:

```console
pip install -e .
xest plugins list                # @name@ is listed, with its capabilities
xest status @name@ --sim         # against the simulator, no network
xest conformance @name@          # the conformance suite
pytest tests
```

Then make it the real exchange, one `TODO(xest)` at a time (`grep -rn "TODO(xest)" .`):

1. `@package@/endpoints.py`: the exchange's base URL, paths, rate limits.
2. `@package@/errors.py`: its error codes, each mapped to an `xest.errors` class.
3. `@package@/parse.py`: its JSON into `xest.models` (Decimals from strings, UTC times).
4. `@package@/connector.py`: declare each operation you add in `capabilities`.
5. `@package@/simulator.py`: the same dialect, served on loopback (paths, envelopes, errors).
6. `@package@/cases.py`: real error answers and recorded answers from the API docs.
"""

_INIT = '''
"""xest connector for @cls@."""
'''

_ENDPOINTS = '''
"""@cls@'s REST endpoints and rate limits, declared once for the transport.

Paths may hold ``{name}`` placeholders, filled from the call's parameter of that name.
"""

from __future__ import annotations

from xest.http import Endpoint, WeightWindow

# TODO(xest): the exchange's real base URL, paths, costs and cache lifetimes (ttl, seconds).
BASE_URL = "https://api.@name@.invalid"
STATUS = Endpoint("status", "GET", "/api/v1/status/", ttl=5)
MARKETS = Endpoint("markets", "GET", "/api/v1/markets/", ttl=300)
TICKER = Endpoint("ticker", "GET", "/api/v1/ticker/{pair}/", ttl=1)  # the pair is in the path

# TODO(xest): the exchange's documented limits, per bucket.
RATE_LIMITS = {"public": WeightWindow(limit=600, window=60)}
'''

_ERRORS = '''
"""@cls@'s error envelope, ``{"error": {"code": ..., "message": ...}}``, mapped onto
:mod:`xest.errors`."""

from __future__ import annotations

from typing import Any

from xest import errors

# TODO(xest): every error code the exchange documents, with what the user should do.
TABLE = errors.ErrorTable(
    "@name@",
    exact={
        "UNKNOWN_PAIR": (errors.BadSymbol, "see `xest markets @name@` for the symbols"),
        "RATE_LIMITED": (errors.RateLimited, "slow down"),
        "MAINTENANCE": (errors.OnMaintenance, "try again after the maintenance"),
    },
    prefixes=[("AUTH_", errors.AuthenticationError, "check the account's API key and secret")],
    default=(errors.ExchangeError, "@cls@ refused the request"),
)


def check(status: int, data: Any, exchange: str) -> None:
    """Raise the mapped error if ``data`` is an error envelope."""
    if not (isinstance(data, dict) and isinstance(data.get("error"), dict)):
        return
    code = str(data["error"].get("code", ""))
    message = str(data["error"].get("message", "")) or code
    if code not in TABLE and status >= 500:
        raise errors.ExchangeUnavailable(f"{message} ({code})", exchange=exchange, code=code)
    raise TABLE.error(code, f"{message} ({code})", exchange=exchange)
'''

_PARSE = '''
"""@cls@'s JSON into :mod:`xest.models`: ``(market, data)`` in that order, numbers as Decimals
from the exchange's strings, times as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from xest import errors
from xest.models import ExchangeStatus, Market, Status, Ticker

STATUSES = {"online": Status.ONLINE, "maintenance": Status.MAINTENANCE}


def shaped(data: Any, *keys: str) -> dict[str, Any]:
    """``data`` if it is an object with ``keys``; BadResponse (never KeyError) otherwise."""
    if isinstance(data, dict) and all(k in data for k in keys):
        return data
    raise errors.BadResponse(
        f"unexpected answer: wanted an object with {', '.join(keys)}, got {str(data)[:80]!r}",
        exchange="@name@",
    )


def status(data: Any) -> ExchangeStatus:
    data = shaped(data, "status")
    return ExchangeStatus(status=STATUSES.get(data["status"], Status.UNKNOWN), raw=data)


def markets(data: Any) -> list[Market]:
    rows = shaped(data, "markets")["markets"]
    return [market(shaped(row, "pair", "base", "quote", "tick", "lot")) for row in rows]


def market(row: dict[str, Any]) -> Market:
    # TODO(xest): the exchange's names; its own id goes in ``id``, other names in ``ids``.
    return Market(
        symbol=f"{row['base']}/{row['quote']}",
        id=row["pair"],
        base=row["base"],
        quote=row["quote"],
        base_id=row["base"],
        quote_id=row["quote"],
        price_step=row["tick"],
        amount_step=row["lot"],
        raw=row,
    )


def ticker(m: Market, data: Any) -> Ticker:
    t = shaped(data, "bid", "ask", "last", "timestamp")
    return Ticker(
        symbol=m.symbol,
        id=m.id,
        bid=t["bid"],
        ask=t["ask"],
        last=t["last"],
        volume=t.get("volume"),
        timestamp=datetime.fromtimestamp(int(t["timestamp"]), UTC),
        raw=t,
    )
'''

_CONNECTOR = '''
"""The @cls@ connector: xest's operations as @cls@'s HTTP calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from xest.connector import Connector
from xest.http import Response
from xest.models import ExchangeStatus, Market, Ticker
from @package@ import endpoints as ep
from @package@ import errors, parse


class @cls@Connector(Connector):
    exchange = "@name@"
    default_url = ep.BASE_URL
    # TODO(xest): declare each operation you implement (place_order, balances, candles...).
    capabilities = frozenset({"status", "server_time", "markets", "ticker"})
    rate_limits = ep.RATE_LIMITS
    # No time endpoint: the clock is read from the HTTP Date header of this cheap call.
    # TODO(xest): with a time endpoint, implement fetch_server_time() instead.
    date_endpoint = ep.STATUS
    time_resolution = timedelta(seconds=1)

    def check_response(self, response: Response) -> None:
        errors.check(response.status, response.data, self.exchange)

    def check_date_answer(self, data: Any) -> None:
        parse.status(data)  # the Date counts only on the exchange's own answer


    def status(self) -> ExchangeStatus:
        return parse.status(self.request(ep.STATUS))

    def markets(self) -> list[Market]:
        return parse.markets(self.request(ep.MARKETS))

    def ticker(self, symbol: str) -> Ticker:
        m = self.market(symbol)  # a unified symbol or any exchange name: BadSymbol otherwise
        return parse.ticker(m, self.request(ep.TICKER, {"pair": m.id}))
'''

_SIMULATOR = '''
"""@cls@ on loopback: the same paths, envelopes and errors, no network. ``xest ... --sim`` and
the conformance suite run against it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xest.testing.server import LoopbackServer, SimRequest, SimResponse, route
from xest.testing.state import SimPrice

# TODO(xest): the exchange's markets as its API lists them.
MARKETS = {
    "btcusd": {"pair": "btcusd", "base": "BTC", "quote": "USD", "tick": "0.01", "lot": "0.0001"},
    "ethusd": {"pair": "ethusd", "base": "ETH", "quote": "USD", "tick": "0.01", "lot": "0.001"},
}
PRICES = {"btcusd": Decimal("43000.00"), "ethusd": Decimal("2300.00")}


def error(code: str, message: str, status: int = 400) -> SimResponse:
    return SimResponse({"error": {"code": code, "message": message}}, status=status)


class @cls@Simulator(LoopbackServer):
    exchange = "@name@"

    def __init__(self, port: int = 0, *, clock_offset: float = 0.0, **_: Any) -> None:
        super().__init__(port, clock_offset=clock_offset)
        self.status = "online"

    def not_found(self, request: SimRequest) -> SimResponse:
        return error("NOT_FOUND", f"no such path {request.path}", 404)

    @route("GET", "/api/v1/status/")
    def get_status(self, request: SimRequest) -> Any:
        return {"status": self.status}

    @route("GET", "/api/v1/markets/")
    def get_markets(self, request: SimRequest) -> Any:
        return {"markets": list(MARKETS.values())}

    @route("GET", "/api/v1/ticker/{pair}/")
    def get_ticker(self, request: SimRequest) -> Any:
        pair = request.path_params["pair"]
        if pair not in MARKETS:
            return error("UNKNOWN_PAIR", f"unknown pair {pair}")
        last = PRICES[pair]
        tick = Decimal(MARKETS[pair]["tick"])
        return {
            "bid": str(last - tick),
            "ask": str(last + tick),
            "last": str(last),
            "volume": "12.5",
            "timestamp": int(self.now()),  # self.now() honours clock_offset, as Date does
        }

    # -- inspection: what the suite compares the connector with (xest.testing.state) ---------
    # TODO(xest): balances, orders, credit() and fill_order() too once you add private calls.

    def inspect_prices(self) -> dict[str, SimPrice]:
        return {
            pair: SimPrice(PRICES[pair] - Decimal(m["tick"]), PRICES[pair] + Decimal(m["tick"]))
            for pair, m in MARKETS.items()
        }
'''

_CASES = '''
"""What the conformance suite checks this connector with, beyond its simulator: the error
answers the exchange sends and recorded answers with what they must parse to."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from xest.models import ServerTime, Status
from xest.testing import ErrorCase, RecordedCase

# TODO(xest): the exchange's real error answers (from its API docs), each with its xest error.
ERROR_CASES = [
    ErrorCase(
        name="unknown-pair",
        status=400,
        body={"error": {"code": "UNKNOWN_PAIR", "message": "unknown pair"}},
        error="BadSymbol",
        operation="ticker",
        code="UNKNOWN_PAIR",
    ),
    ErrorCase(
        name="maintenance",
        status=503,
        body={"error": {"code": "MAINTENANCE", "message": "down for maintenance"}},
        error="OnMaintenance",
        code="MAINTENANCE",
    ),
]

# TODO(xest): documented example answers, byte for byte, with what they must parse to.
MARKETS = {
    "/api/v1/markets/": '{"markets":[{"pair":"btcusd","base":"BTC","quote":"USD",'
    '"tick":"0.01","lot":"0.0001"}]}'
}


def _read_from_date(reading: ServerTime) -> None:
    # The replayed answer's Date header is the replay server's clock: check the reading's form.
    assert reading.resolution == timedelta(seconds=1) and reading.raw["date"].endswith("GMT")


RECORDED_CASES = [
    RecordedCase(
        name="markets",
        operation="markets",
        responses=MARKETS,
        values={"0.symbol": "BTC/USD", "0.id": "btcusd", "0.price_step": Decimal("0.01")},
    ),
    RecordedCase(
        name="server-time-from-date",
        operation="server_time",
        responses={"/api/v1/status/": '{"status":"online"}'},
        check=_read_from_date,
    ),
    RecordedCase(
        name="status",
        operation="status",
        responses={"/api/v1/status/": '{"status":"maintenance"}'},
        values={"status": Status.MAINTENANCE},
    ),
    RecordedCase(
        name="ticker",
        operation="ticker",
        args=("BTC/USD",),
        responses={
            **MARKETS,
            "/api/v1/ticker/btcusd/": '{"bid":"42999.99","ask":"43000.01","last":"43000.00",'
            '"volume":"12.5","timestamp":1700000000}',
        },
        values={"bid": Decimal("42999.99"), "last": Decimal("43000.00"), "id": "btcusd"},
    ),
]
'''

_PLUGIN = '''
"""The hooks through which xest finds the @cls@ connector, its simulator and its cases.
Imports stay inside the hooks so `xest plugins list` stays quick."""

from xest import hookimpl


@hookimpl
def xest_register_connectors(register):
    from @package@.connector import @cls@Connector

    register(@cls@Connector)


@hookimpl
def xest_simulators(register):
    from @package@.simulator import @cls@Simulator

    register("@name@", @cls@Simulator)


@hookimpl
def xest_error_payloads(register):
    from @package@.cases import ERROR_CASES

    for case in ERROR_CASES:
        register("@name@", case)


@hookimpl
def xest_recorded_payloads(register):
    from @package@.cases import RECORDED_CASES

    for case in RECORDED_CASES:
        register("@name@", case)
'''

_TESTS = '''
"""The connector against its simulator (the conformance suite checks the rest:
`xest conformance @name@`)."""

from decimal import Decimal

import pytest
from @package@.connector import @cls@Connector
from @package@.simulator import @cls@Simulator

from xest import errors


@pytest.fixture
def connector():
    with @cls@Simulator(clock_offset=120.0) as sim:
        yield @cls@Connector.create(sim.url, cache=False)


def test_ticker_by_symbol_and_by_exchange_id(connector):
    assert connector.ticker("BTC/USD").last == Decimal("43000.00")
    assert connector.ticker("btcusd").symbol == "BTC/USD"
    with pytest.raises(errors.BadSymbol):
        connector.ticker("DOGE/USD")


def test_the_clock_comes_from_the_date_header(connector):
    connector.server_time()
    assert abs(connector.transport.clock.now().offset - 120) < 1.5
'''
