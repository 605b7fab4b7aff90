"""The facade: ``xest.open("kraken")`` → one :class:`Client` with every common operation.

It picks the connector, wires it to the transport, the shared cache and limiter, the remote
clock and the credentials, and (with ``sim=True``) starts the exchange's simulator in-process.
"""

from __future__ import annotations

__all__ = ["Client", "open"]

import os
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xest import accounts, errors, registry
from xest.accounts import env_name
from xest.clock import RemoteClock
from xest.connector import Connector
from xest.credentials import Credentials
from xest.models import (
    Balance,
    Candle,
    ExchangeStatus,
    Market,
    Order,
    OrderBook,
    OrderType,
    PublicTrade,
    Quote,
    ServerTime,
    Side,
    Ticker,
    TimeInForce,
    Trade,
)
from xest.urls import check_base_url

if TYPE_CHECKING:
    from xest.agents.account import AccountAgent
    from xest.agents.exchange import ExchangeAgent
    from xest.agents.live import TrackedOrder
    from xest.agents.market import MarketAgent
    from xest.agents.quote import LiveQuote
    from xest.streams import Stream


def open(
    exchange: str,
    account: str | None = None,
    *,
    url: str | None = None,
    key: str | None = None,
    secret: str | None = None,
    sim: bool = False,
    testnet: bool = False,
    public: bool = False,
    cache: bool = True,
    stream_urls: Mapping[str, str] | None = None,
    **transport_options: Any,
) -> Client:
    """Open ``exchange``.

    ``account`` names an account of the config file (see :mod:`xest.accounts`; without it the
    ``XEST_<EXCHANGE>_KEY``/``_SECRET`` or the config's default account is used, if any);
    ``url`` points the connector at another base URL (also ``XEST_<EXCHANGE>_URL``, or an
    account's ``url``); ``testnet=True`` (or an account's ``testnet = true``) uses the
    exchange's test network; ``key`` and ``secret`` give credentials directly; ``sim`` starts
    the exchange's simulator on 127.0.0.1 and points at it, its streams too (``account="bob"``
    then picks one of its demo accounts); ``public=True`` reads no account and no config at all
    (public data only); ``cache=False`` bypasses the shared response cache; ``stream_urls``
    gives the websocket endpoints by name (``{"public": "wss://..."}``) when ``url`` is not the
    exchange's own (otherwise streams stay off rather than reach the real exchange while REST
    goes elsewhere). A malformed URL is a :class:`~xest.errors.UsageError` before anything is
    sent.
    """
    cls = registry.connector_class(exchange)
    if sim and url:
        raise errors.UsageError("give either sim=True or url=, not both")
    if sim and testnet:
        raise errors.UsageError("give either sim=True or testnet=True, not both")
    chosen = None
    if not public and not sim and key is None and secret is None:
        chosen = accounts.resolve(cls.exchange, account)
    url = _base_url(cls, url, testnet, chosen)
    simulator = None
    if sim:
        simulator = registry.simulator_factory(cls.exchange)().start()
        url = simulator.url
    try:
        credentials = None if public else _credentials(account, key, secret, simulator, chosen)
    except BaseException:
        if simulator is not None:
            simulator.stop()
        raise
    transport = cls.make_transport(url, cache=cache, **transport_options)
    connector = cls(transport, credentials)
    if simulator is not None and hasattr(simulator, "stream_urls"):
        connector.use_stream_urls(simulator.stream_urls())
    elif stream_urls is not None:
        connector.use_stream_urls(stream_urls)
    elif url.rstrip("/") != cls.default_url.rstrip("/"):
        connector.use_stream_urls({})  # REST elsewhere: never stream from the real exchange
    return Client(connector, simulator=simulator)


def testnet_url(cls: type[Connector]) -> str:
    """The exchange's test network base URL; ConfigError when it has none."""
    found: str | None = getattr(cls, "testnet_url", None)
    if not found:
        raise errors.ConfigError(
            f"{cls.exchange} has no public test network; use the simulator (--sim, or "
            f"`xest sim start {cls.exchange}`) or point at a server with --url",
            exchange=cls.exchange,
        )
    return found


def _base_url(
    cls: type[Connector], url: str | None, testnet: bool, chosen: accounts.Account | None
) -> str:
    """The explicit URL, else the testnet's (asked for, or the account's), else the account's
    ``url``, else ``XEST_<EXCHANGE>_URL``, else the exchange's; checked before any request."""
    if url:
        return check_base_url(url, source="the URL")
    if testnet or (chosen is not None and chosen.testnet):
        return testnet_url(cls)
    if chosen is not None and chosen.url:
        return check_base_url(chosen.url, source=f"account {chosen.name!r}'s url")
    variable = env_name(cls.exchange, "URL")
    from_env = os.environ.get(variable)
    if from_env:
        return check_base_url(from_env, source=f"${variable}")
    return cls.default_url


def _credentials(
    account: str | None,
    key: str | None,
    secret: str | None,
    simulator: Any,
    chosen: accounts.Account | None,
) -> Credentials | None:
    """Explicit key/secret, else the simulator's demo account (``account`` may name one of
    its demo accounts), else the named or default account, else none."""
    if key is not None or secret is not None:
        if not (key and secret):
            raise errors.ConfigError("give both key= and secret=, or neither")
        return Credentials(key, secret, account)
    if simulator is not None:
        return sim_credentials(simulator, account)
    return chosen.credentials() if chosen is not None else None


def sim_credentials(simulator: Any, account: str | None) -> Credentials | None:
    """A simulator's demo account: ``account`` by name, else its first (``alice``)."""
    demos = demo_accounts(simulator)
    if not demos:
        return None
    name = account or next(iter(demos))
    if name not in demos:
        raise errors.ConfigError(
            f"the simulator has no demo account {name!r}; its accounts: {', '.join(demos)}"
        )
    demo_key, demo_secret = demos[name]
    return Credentials(demo_key, demo_secret, name)


def demo_accounts(simulator: Any) -> dict[str, tuple[str, str]]:
    """A simulator's demo accounts by name (``demo`` when it offers only one)."""
    if hasattr(simulator, "demo_accounts"):
        return dict(simulator.demo_accounts())
    if hasattr(simulator, "demo_credentials"):
        return {"demo": tuple(simulator.demo_credentials())}
    return {}


class Client:
    """One exchange, opened: every operation of its connector, plus the remote clock.

    ``client.exchange`` is its :class:`~xest.agents.exchange.ExchangeAgent`. A context manager:
    leaving it stops its agents and the simulator it started, if any.
    """

    def __init__(self, connector: Connector, *, simulator: Any = None) -> None:
        self.connector = connector
        self.simulator = simulator
        self._agents: list[Any] = []
        self._exchange_agent: ExchangeAgent | None = None
        self._account_agent: AccountAgent | None = None
        self._account_lock = threading.Lock()
        self._streams: list[Any] = []

    def __repr__(self) -> str:
        return f"<xest.Client {self.name} at {self.url}>"

    @property
    def clock(self) -> RemoteClock:
        """The exchange's remote clock (owned by the transport, fed by every server_time())."""
        clock = self.connector.transport.clock
        assert clock is not None  # every connector's transport has one (Connector.__init__)
        return clock

    @property
    def name(self) -> str:
        """The exchange's name (``kraken``)."""
        return self.connector.exchange

    @property
    def exchange(self) -> ExchangeAgent:
        """The exchange agent (status and clock in the background); ``start()`` it to poll."""
        with self._account_lock:  # one lock for both lazily made agents: one of each, ever
            if self._exchange_agent is None:
                from xest.agents.exchange import ExchangeAgent

                self._exchange_agent = self.add_agent(ExchangeAgent(self.connector))
            return self._exchange_agent

    @property
    def account(self) -> AccountAgent | None:
        """The account agent (balances, orders, quotes; ``start()`` it to poll), or None when
        the client has no credentials."""
        with self._account_lock:
            if self._account_agent is None and self.connector.credentials is not None:
                from xest.agents.account import AccountAgent

                options: dict[str, Any] = {
                    "clock": self.clock,
                    "refresh_clock": self.connector.server_time,
                }
                if "orders" in self.connector.streams:
                    # Order changes as the exchange pushes them; polling stays as the net.
                    from xest.agents.account_streams import StreamingAccountAgent

                    agent: AccountAgent = StreamingAccountAgent(
                        self.connector, stream_client=self, **options
                    )
                else:
                    agent = AccountAgent(self.connector, **options)
                self._account_agent = self.add_agent(agent)
            return self._account_agent

    def require_account(self) -> AccountAgent:
        """The account agent; AuthenticationError saying what to do when there is none."""
        agent = self.account
        if agent is None:
            raise errors.missing_credentials(self.name)
        return agent

    def add_agent(self, agent: Any) -> Any:
        """Attach an agent so that closing the client stops it; returns the agent."""
        self._agents.append(agent)
        return agent

    @property
    def url(self) -> str:
        return self.connector.transport.base_url

    @property
    def capabilities(self) -> frozenset[str]:
        return self.connector.capabilities

    def close(self) -> None:
        """Stop the streams and agents, then the simulator this client started, if any."""
        for stream in list(self._streams):
            stream.close()
        for agent in reversed(self._agents):
            agent.stop()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- exchange ------------------------------------------------------------------------------

    def status(self) -> ExchangeStatus:
        return self.connector.status()

    def server_time(self) -> ServerTime:
        """The exchange's clock reading; every reading also feeds the remote-clock estimate."""
        return self.connector.server_time()

    def markets(self) -> list[Market]:
        return self.connector.markets()

    def market(self, symbol: str) -> Market:
        return self.connector.market(symbol)

    def ticker(self, symbol: str) -> Ticker:
        return self.connector.ticker(symbol)

    def tickers(self, symbols: Sequence[str] | None = None) -> dict[str, Ticker]:
        return self.connector.tickers(symbols)

    def order_book(self, symbol: str, depth: int | None = None) -> OrderBook:
        return self.connector.order_book(symbol, depth)

    def candles(
        self,
        symbol: str,
        interval: str = "1m",
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Candle]:
        return self.connector.candles(symbol, interval, since, limit)

    def trades(
        self, symbol: str, since: datetime | None = None, limit: int | None = None
    ) -> list[PublicTrade]:
        return self.connector.trades(symbol, since, limit)

    # -- streams -------------------------------------------------------------------------------

    @property
    def streams(self) -> frozenset[str]:
        """The streams the connector declares (``ticker``, ``book``, ``trades``, ...)."""
        return self.connector.streams

    def stream(
        self, kind: str, symbol: str | None = None, depth: int | None = None, **options: Any
    ) -> Stream:
        """A started :class:`xest.streams.Stream` of ``kind``: iterate it for values,
        ``close()`` it (or use ``with``). NotSupported when the connector declares no such
        stream; AuthenticationError for a private stream without credentials."""
        from xest.streams import PRIVATE_STREAMS, Stream

        if kind not in self.connector.streams:
            raise self.connector.not_supported(f"stream_{kind}")
        if kind in PRIVATE_STREAMS and self.connector.credentials is None:
            raise errors.AuthenticationError(
                f"the {kind} stream of {self.name} needs API credentials: pick an account "
                "(--account NAME), set XEST_<EXCHANGE>_KEY and _SECRET, or pass key= and "
                "secret=",
                exchange=self.name,
            )
        feed = self.connector.stream_feed(kind, symbol, depth)
        feed.url()  # an unknown endpoint is a ConfigError now, not in the stream's thread
        stream = Stream(feed, **options)
        self._streams.append(stream)
        stream.subscribe(lambda _: self._forget(stream), "closed")
        return stream.start()

    def market_agent(self, symbol: str, **options: Any) -> MarketAgent:
        """A :class:`~xest.agents.market.MarketAgent` for ``symbol`` (ticker and book; streamed
        when the connector declares streams, polled otherwise; ``poll=True`` forces polling),
        stopped with the client. ``start()`` it."""
        from xest.agents.market import MarketAgent

        agent: MarketAgent = self.add_agent(MarketAgent(self, symbol, **options))
        return agent

    def _forget(self, stream: Any) -> None:
        if stream in self._streams:
            self._streams.remove(stream)

    def stream_ticker(self, symbol: str, **options: Any) -> Stream:
        """Tickers of ``symbol`` as the exchange pushes them."""
        return self.stream("ticker", symbol, **options)

    def stream_book(self, symbol: str, depth: int = 10, **options: Any) -> Stream:
        """The order book of ``symbol`` (best ``depth`` levels), each time it changes; only
        books known right are yielded (checksums, update ids), resyncing by itself."""
        return self.stream("book", symbol, depth, **options)

    def stream_trades(self, symbol: str, **options: Any) -> Stream:
        """Public trades of ``symbol`` as they happen."""
        return self.stream("trades", symbol, **options)

    def stream_orders(self, **options: Any) -> Stream:
        """The account's order updates (needs credentials)."""
        return self.stream("orders", **options)

    def stream_balances(self, **options: Any) -> Stream:
        """The account's balance updates (needs credentials)."""
        return self.stream("balances", **options)

    # -- account -------------------------------------------------------------------------------

    def balances(self, **options: Any) -> dict[str, Balance]:
        """Balances by asset; ``options`` are the connector's own (Binance ``include_zero``)."""
        return self.connector.balances(**options)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self.connector.open_orders(symbol)

    def closed_orders(
        self, symbol: str | None = None, since: datetime | None = None
    ) -> list[Order]:
        return self.connector.closed_orders(symbol, since)

    def order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> TrackedOrder:
        """The account's one live object for an order (final orders answered from memory)."""
        return self.require_account().order(order_id, client_id=client_id, symbol=symbol)

    def place_order(
        self,
        symbol: str,
        side: Side | str,
        type: OrderType | str,
        amount: Decimal | str,
        price: Decimal | str | None = None,
        *,
        time_in_force: TimeInForce | str | None = None,
        client_id: str | None = None,
        validate: bool = False,
    ) -> TrackedOrder | Order:
        """Place an order exactly once and follow it (see :meth:`AccountAgent.place_order`):
        rounded or refused against the market first, always with a client order id, lost
        answers reconciled by that id. ``validate=True`` returns the exchange's check only."""
        return self.require_account().place_order(
            symbol,
            side,
            type,
            amount,
            price,
            time_in_force=time_in_force,
            client_id=client_id,
            validate=validate,
        )

    def cancel_order(
        self,
        order_id: str | None = None,
        *,
        client_id: str | None = None,
        symbol: str | None = None,
    ) -> TrackedOrder:
        """Cancel an order (by id or client id); a final order is an InvalidOrder error."""
        return self.require_account().cancel_order(order_id, client_id=client_id, symbol=symbol)

    def my_trades(
        self, symbol: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Trade]:
        return self.connector.my_trades(symbol, since, limit)

    def quote(
        self,
        symbol: str,
        side: Side | str,
        amount: Decimal | str,
        *,
        valid_for: timedelta | None = None,
    ) -> LiveQuote:
        """A firm quote: the account's one live object for its id (``accept()`` it once)."""
        return self.require_account().quote(symbol, side, amount, valid_for=valid_for)

    def accept_quote(self, quote: LiveQuote | Quote | str) -> TrackedOrder:
        """Execute a quote once; QuoteExpired/QuoteAlreadyExecuted are raised before sending."""
        return self.require_account().accept_quote(quote)
