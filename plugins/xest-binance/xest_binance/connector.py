"""Binance spot REST API connector, with the convert (RFQ) API for quotes.

Base URL: ``https://api.binance.com`` by default; the spot test network
(:data:`TESTNET_URL`) or a simulator is one ``url=`` (or ``XEST_BINANCE_URL``) away. Options:
``recv_window`` (ms, default 5000, also ``XEST_BINANCE_RECV_WINDOW``) and the convert follow-up
``convert_poll_interval`` / ``convert_timeout`` (seconds).

Symbols: Binance needs the symbol to look an order up. ``order()`` and ``cancel_order()`` without
``symbol=`` search the account's open orders (one call, weight 80); an order that is no longer
open needs ``symbol=``. ``my_trades()`` and ``closed_orders()`` without ``symbol=`` scan the
markets whose base and quote assets the account both holds (at most :data:`MAX_SCAN`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from xest import errors
from xest.connector import OPERATIONS, Connector
from xest.credentials import Credentials
from xest.http import PreparedRequest, Response, SigningContext, record_window
from xest.models import (
    Candle,
    ExchangeStatus,
    Market,
    OrderBook,
    PublicTrade,
    ServerTime,
    Status,
    Ticker,
)
from xest.paging import collect
from xest_binance import endpoints as ep
from xest_binance import parse
from xest_binance.errors import error_for
from xest_binance.quotes import VALID_TIMES, ConvertOperations
from xest_binance.shapes import check_shape
from xest_binance.signing import DEFAULT_RECV_WINDOW, MAX_RECV_WINDOW, sign_request
from xest_binance.trading import MAX_SCAN, AccountOperations

TESTNET_URL = "https://testnet.binance.vision"
# fmt: off
KLINE_INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                   "1d", "3d", "1w", "1M")
# fmt: on


KLINES_PAGE = 1000  # candles per /api/v3/klines answer, at most


class BinanceConnector(AccountOperations, ConvertOperations, Connector):
    exchange = "binance"
    default_url = "https://api.binance.com"
    # Binance's spot test network: its own keys, the same REST dialect (Binance's docs,
    # "Spot Test Network").
    testnet_url = TESTNET_URL
    capabilities = frozenset(OPERATIONS)  # every operation xest defines
    rate_limits = ep.RATE_LIMITS
    time_resolution = timedelta(milliseconds=1)
    candle_intervals = {name: name for name in KLINE_INTERVALS}  # Binance uses the same names
    records_validity = True  # placements carry a window (timestamp + recvWindow)
    streams = frozenset({"ticker", "book", "trades", "orders", "balances"})
    stream_urls = {
        "public": "wss://stream.binance.com:9443",
        "api": "wss://ws-api.binance.com:443/ws-api/v3",
    }

    def stream_feed(self, kind: str, symbol: str | None = None, depth: int | None = None) -> Any:
        from xest_binance import stream

        return stream.feed(self, kind, symbol, depth)

    def __init__(
        self,
        transport: Any,
        credentials: Credentials | None = None,
        *,
        recv_window: int | None = None,
        convert_poll_interval: float = 0.2,
        convert_timeout: float = 10.0,
    ) -> None:
        super().__init__(transport, credentials)
        if recv_window is None:
            setting = os.environ.get("XEST_BINANCE_RECV_WINDOW", str(DEFAULT_RECV_WINDOW))
            try:
                recv_window = int(setting)
            except ValueError:
                raise errors.ConfigError(
                    f"XEST_BINANCE_RECV_WINDOW must be a whole number of ms, got {setting!r}"
                ) from None
        if not 0 < recv_window <= MAX_RECV_WINDOW:
            raise errors.ConfigError(
                f"recv_window must be between 1 and {MAX_RECV_WINDOW} ms, got {recv_window}"
            )
        self.recv_window = recv_window
        self.convert_poll_interval = convert_poll_interval
        self.convert_timeout = convert_timeout

    # -- plumbing ---------------------------------------------------------------------------------

    def sign(
        self, request: PreparedRequest, credentials: Credentials, context: SigningContext
    ) -> None:
        timestamp = context.timestamp_ms()
        sign_request(request, credentials.key, credentials.secret, timestamp, self.recv_window)
        # Binance refuses the request once its clock is past timestamp + recvWindow: the end of
        # a placement's validity window (see xest.trading.place_once).
        record_window(datetime.fromtimestamp((timestamp + self.recv_window) / 1000, UTC))

    def check_response(self, response: Response) -> None:
        error = error_for(response.status, response.data, response.headers, response.endpoint.path)
        if error is not None:
            raise error
        check_shape(response.endpoint.method, response.endpoint.path, response.data)

    def _market_by_id(self, market_id: str) -> Market | None:
        return self.market_index().get(market_id)

    def _need_credentials(self, operation: str) -> None:
        if self.credentials is None:
            raise errors.missing_credentials(self.exchange, operation.replace("_", " "))

    # -- exchange ---------------------------------------------------------------------------------

    def ping(self) -> None:
        """Test connectivity (``/api/v3/ping``)."""
        self.request(ep.PING)

    def status(self) -> ExchangeStatus:
        data = self.request(ep.SYSTEM_STATUS)
        status = Status.ONLINE if int(data["status"]) == 0 else Status.MAINTENANCE
        return ExchangeStatus(status=status, message=str(data.get("msg", "")), raw=data)

    def fetch_server_time(self) -> ServerTime:
        data = self.request(ep.TIME)
        return ServerTime(
            time=parse.ms(data["serverTime"]), resolution=self.time_resolution, raw=data
        )

    def markets(self) -> list[Market]:
        return parse.markets(self.request(ep.EXCHANGE_INFO))

    def ticker(self, symbol: str) -> Ticker:
        # The request for one symbol (market, params, memo name, parser) is made once per
        # market list: a cached ticker then costs the cache hit and little more, and a hit on
        # an unchanged answer no parsing (Connector.request_parsed).
        plans = self._ticker_plans
        plan = plans.get(symbol) if plans is not None else None
        if plan is None or plan[0] is not self._index:
            plan = self._ticker_plan(symbol)
        return self.request_parsed(*plan[1])

    _ticker_plans: dict[str, tuple[Any, tuple[Any, ...]]] | None = None

    def _ticker_plan(self, symbol: str) -> tuple[Any, tuple[Any, ...]]:
        m = self.market(symbol)
        unified = m.symbol
        if self._ticker_plans is None or len(self._ticker_plans) >= 1024:
            self._ticker_plans = {}
        plan = (
            self._index,
            (
                ep.weighted(ep.TICKER_24HR, 2),
                {"symbol": m.id},
                f"ticker {m.id}",
                lambda data: parse.ticker(unified, data),
            ),
        )
        self._ticker_plans[symbol] = plan
        return plan

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        """Several tickers in one call (``symbols=[...]``), or every symbol's when None."""
        if symbols is not None:
            if isinstance(symbols, str):
                symbols = [symbols]
            wanted = [self.market(s) for s in symbols]
            if not wanted:
                return {}
            ids = json.dumps([m.id for m in wanted], separators=(",", ":"))
            endpoint, params = (
                ep.weighted(ep.TICKER_24HR, ep.ticker_weight(len(wanted))),
                {"symbols": ids},
            )
        else:
            endpoint, params = ep.weighted(ep.TICKER_24HR, ep.ticker_weight(None)), None
        # A cache hit on an unchanged answer costs no parsing (Connector.request_parsed).
        name = f"tickers {params['symbols'] if params else '*'}"
        return self.request_parsed(endpoint, params, name, self._parse_tickers)

    def _parse_tickers(self, rows: list[dict[str, Any]]) -> dict[str, Ticker]:
        result = {}
        for row in rows:
            m = self._market_by_id(row["symbol"])
            if m is not None:
                result[m.symbol] = parse.ticker(m.symbol, row)
        return result

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        m = self.market(symbol)
        limit = 100 if depth is None else int(depth)
        if not 1 <= limit <= 5000:
            raise errors.BadRequest(
                f"depth must be between 1 and 5000, got {depth}", exchange=self.exchange
            )
        data = self.request(
            ep.weighted(ep.DEPTH, ep.depth_weight(limit)), {"symbol": m.id, "limit": limit}
        )
        return parse.order_book(m.symbol, data)

    def fetch_candles(
        self, m: Market, interval: str, since: datetime | None, limit: int | None
    ) -> list[Candle]:
        params: dict[str, Any] = {"symbol": m.id, "interval": interval}
        if since is not None:
            params["startTime"] = parse.to_ms(since)
        if limit is None or limit <= KLINES_PAGE:
            if limit is not None:
                params["limit"] = max(1, int(limit))
            rows = self.request(ep.KLINES, params)
            return parse.candles(m.symbol, interval, rows)
        return self._candle_pages(m, interval, params, int(limit), forward=since is not None)

    def _candle_pages(
        self, m: Market, interval: str, params: dict[str, Any], limit: int, *, forward: bool
    ) -> list[Candle]:
        """More candles than one answer holds: forward from ``startTime``, else backward from
        now (each page ends just before the oldest candle read)."""

        def page(cursor: int | None) -> tuple[list[Candle], int | None]:
            asked = dict(params, limit=KLINES_PAGE)
            if cursor is not None:
                asked["startTime" if forward else "endTime"] = cursor
            found = parse.candles(m.symbol, interval, self.request(ep.KLINES, asked))
            if len(found) < KLINES_PAGE:
                return found, None
            edge = found[-1] if forward else found[0]
            ms = parse.to_ms(edge.open_time)
            return (found if forward else found[::-1]), (ms + 1 if forward else ms - 1)

        rows = collect(
            page,
            first=params.get("startTime"),
            want=limit,
            key=lambda c: c.open_time,
            exchange=self.exchange,
            what="candles",
        )
        rows = sorted(rows, key=lambda c: c.open_time)
        return rows[:limit] if forward else rows[-limit:]

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        """Recent public trades (``/api/v3/trades``); ``since`` filters what it returns."""
        m = self.market(symbol)
        params: dict[str, Any] = {"symbol": m.id}
        if limit is not None:
            params["limit"] = max(1, min(int(limit), 1000))
        rows = parse.public_trades(m.symbol, self.request(ep.TRADES, params))
        if since is not None:
            rows = [t for t in rows if t.timestamp is not None and t.timestamp >= since]
        return rows


__all__ = ["KLINE_INTERVALS", "MAX_SCAN", "TESTNET_URL", "VALID_TIMES", "BinanceConnector"]
