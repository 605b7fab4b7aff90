"""Kraken spot REST API connector.

Every operation of :class:`xest.connector.Connector`, from Kraken's documented REST API. The
parsing lives in :mod:`xest_kraken.parse`, the error mapping in :mod:`xest_kraken.errors`,
signing in :mod:`xest_kraken.signing`, endpoints and rate limits in :mod:`xest_kraken.endpoints`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from xest import errors
from xest.connector import OPERATIONS, Connector
from xest.credentials import Credentials
from xest.http import Endpoint, PreparedRequest, Response, SigningContext
from xest.markets import MarketIndex
from xest.models import (
    Candle,
    ExchangeStatus,
    Market,
    OrderBook,
    PublicTrade,
    ServerTime,
    Status,
    Ticker,
    TimeInForce,
)
from xest.paging import collect
from xest_kraken import endpoints as ep
from xest_kraken import parse, quotes, signing
from xest_kraken.errors import check_payload
from xest_kraken.trading import KrakenTrading, unix

if TYPE_CHECKING:
    from xest.http.transport import Transport

log = logging.getLogger("xest.kraken")


TRADES_PAGE = 1000  # trades per Trades answer, at most


def _limited(rows: list, since: datetime | None, limit: int | None) -> list:
    """The first ``limit`` rows after ``since``, or the latest ``limit`` without it."""
    if not limit:
        return rows
    return rows[:limit] if since else rows[-limit:]


class KrakenConnector(KrakenTrading, Connector):
    """Kraken spot. Unified symbols (``BTC/USD``) with Kraken's names kept in ``Market.id``
    (``XXBTZUSD``) and ``Market.ids`` (``altname`` ``XBTUSD``, ``wsname`` ``XBT/USD``)."""

    exchange = "kraken"
    default_url = "https://api.kraken.com"
    capabilities = frozenset(OPERATIONS)  # every operation xest defines
    rate_limits = ep.rate_limits()
    time_resolution = timedelta(seconds=1)
    candle_intervals = ep.INTERVALS
    order_time_in_force = frozenset({TimeInForce.GTC, TimeInForce.IOC})
    quote_validity = timedelta(seconds=quotes.DEFAULT_VALIDITY_SECONDS)
    streams = frozenset({"ticker", "book", "trades", "orders", "balances"})
    stream_urls = {"public": "wss://ws.kraken.com/v2", "private": "wss://ws-auth.kraken.com/v2"}

    def __init__(self, transport: Transport, credentials: Credentials | None = None) -> None:
        super().__init__(transport, credentials)
        self._accepted: set[str] = set()  # quote ids this connector executed
        self._accept_lock = threading.Lock()

    def stream_feed(self, kind: str, symbol: str | None = None, depth: int | None = None) -> Any:
        from xest_kraken import stream

        return stream.feed(self, kind, symbol, depth)

    # -- transport hooks -------------------------------------------------------------------------

    def sign(
        self, request: PreparedRequest, credentials: Credentials, context: SigningContext
    ) -> None:
        signing.sign(request, credentials, context)

    def check_response(self, response: Response) -> None:
        data = response.data
        if response.status >= 400 and not (isinstance(data, dict) and data.get("error")):
            if response.status >= 500:
                raise errors.ExchangeUnavailable(
                    f"Kraken answered HTTP {response.status} to {response.endpoint.path}; "
                    "try again later",
                    exchange=self.exchange,
                    code=response.status,
                )
            return  # the transport reports other HTTP errors
        check_payload(data)

    def _result(self, endpoint: Endpoint, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.request(endpoint, params, **kw)["result"]

    # -- markets ---------------------------------------------------------------------------------

    def markets(self) -> list[Market]:
        found = parse.markets(self._result(ep.ASSET_PAIRS))
        self._index = MarketIndex(found)  # Kraken's answers name pairs every which way
        return found

    def _pair(self, name: str) -> Market:
        """The market for any name Kraken uses for it (key, altname, wsname) or its symbol."""
        found = self.market_index().get(name)
        if found is None:
            raise errors.BadSymbol(
                f"Kraken named a pair {name!r} that is not among its markets",
                exchange=self.exchange,
            )
        return found

    # -- public ----------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        result = self._result(ep.SYSTEM_STATUS)
        stamp = result.get("timestamp")
        updated = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
        try:
            status, message = Status(result["status"]), ""
        except ValueError:  # a state Kraken added after this connector was written
            status, message = Status.UNKNOWN, f"Kraken says {result['status']!r}"
        return ExchangeStatus(status=status, message=message, updated=updated, raw=result)

    def fetch_server_time(self) -> ServerTime:
        # unixtime, not rfc1123: the latter has a two-digit year.
        result = self._result(ep.TIME)
        return ServerTime(time=int(result["unixtime"]), resolution=self.time_resolution, raw=result)

    def ticker(self, symbol: str) -> Ticker:
        # The request for one symbol (market, params, memo name, parser) is made once per
        # market list: a cached ticker then costs the cache hit and little more, and a hit on
        # an unchanged answer no parsing (Connector.request_parsed).
        plans = self._ticker_plans
        plan = plans.get(symbol) if plans is not None else None
        if plan is None or plan[0] is not self._index:
            plan = self._ticker_plan(symbol)
        return self.request_parsed(*plan[1])

    _ticker_plans: dict[str, tuple[MarketIndex | None, tuple[Any, ...]]] | None = None

    def _ticker_plan(self, symbol: str) -> tuple[MarketIndex | None, tuple[Any, ...]]:
        m = self.market(symbol)

        def one(data: Mapping[str, Any]) -> Ticker:
            found = self._parse_tickers(data["result"]).get(m.symbol)
            if found is None:
                raise errors.BadResponse(
                    f"Kraken's ticker answer lacks {m.symbol}", exchange=self.exchange
                )
            return found

        if self._ticker_plans is None or len(self._ticker_plans) >= 1024:
            self._ticker_plans = {}
        plan = (self._index, (ep.TICKER, {"pair": m.id}, f"ticker {m.id}", one))
        self._ticker_plans[symbol] = plan
        return plan

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        return self._tickers([self.market(s) for s in symbols] if symbols else None)

    def _tickers(self, wanted: list[Market] | None) -> dict[str, Ticker]:
        params = {"pair": ",".join(m.id for m in wanted)} if wanted else None
        # A cache hit on an unchanged answer costs no parsing (Connector.request_parsed).
        out: dict[str, Ticker] = self.request_parsed(
            ep.TICKER,
            params,
            f"tickers {params['pair'] if params else '*'}",
            lambda data: self._parse_tickers(data["result"]),
        )
        missing = [m.symbol for m in wanted or () if m.symbol not in out]
        if missing:
            raise errors.BadResponse(
                f"Kraken's ticker answer lacks {', '.join(missing)}", exchange=self.exchange
            )
        return out

    def _parse_tickers(self, result: dict[str, Any]) -> dict[str, Ticker]:
        out: dict[str, Ticker] = {}
        index = self.market_index()
        for key, entry in result.items():
            # Kraken keys results by its canonical name, whatever name was asked for.
            m = index.get(key)
            if m is None:
                log.debug("kraken ticker for unlisted pair %s skipped", key)
                continue
            out[m.symbol] = parse.ticker(m, entry)
        return out

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        return self._book(self.market(symbol), depth)

    def _book(self, m: Market, depth: int | None, *, cache: bool | None = None) -> OrderBook:
        result = self._result(ep.DEPTH, {"pair": m.id, "count": depth}, cache=cache)
        return parse.order_book(m, self._only(result, m))

    def fetch_candles(
        self, m: Market, interval: str, since: datetime | None, limit: int | None
    ) -> list[Candle]:
        params = {"pair": m.id, "interval": ep.INTERVALS[interval], "since": unix(since)}
        result = self._result(ep.OHLC, params)
        rows = self._only(result, m)
        found = parse.candles(m, interval, rows)
        return _limited(found, since, limit)

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        m = self.market(symbol)
        if since is not None and limit is not None and limit > TRADES_PAGE:
            return self._trade_pages(m, since, limit)
        params = {"pair": m.id, "since": unix(since), "count": limit}
        rows = self._only(self._result(ep.TRADES, params), m)
        found = parse.public_trades(m, rows)
        return _limited(found, since, limit)

    def _trade_pages(self, m: Market, since: datetime, limit: int) -> list[PublicTrade]:
        """More trades than one answer holds, forward from ``since`` with Kraken's ``last``
        cursor (Kraken pages forward only: without ``since`` the latest 1000 are all)."""

        def page(cursor: Any) -> tuple[list[PublicTrade], Any]:
            result = self._result(ep.TRADES, {"pair": m.id, "since": cursor, "count": TRADES_PAGE})
            found = parse.public_trades(m, self._only(result, m))
            following = result.get("last")
            return found, (following if len(found) >= TRADES_PAGE else None)

        rows = collect(
            page,
            first=unix(since),
            want=limit,
            key=lambda t: (t.id, t.timestamp, t.price, t.amount),
            exchange=self.exchange,
            what="trades",
        )
        return rows[:limit]

    def _only(self, result: dict[str, Any], m: Market) -> Any:
        """The one pair entry of a single-pair answer (next to cursors such as ``last``)."""
        if m.id in result:
            return result[m.id]
        entries = [v for k, v in result.items() if k != "last"]
        if len(entries) != 1:
            raise errors.BadResponse(
                f"Kraken's answer for {m.symbol} has no {m.id} entry", exchange=self.exchange
            )
        return entries[0]
