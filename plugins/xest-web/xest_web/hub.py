"""The hub: one set of agents per exchange and per account, shared by every browser tab.

It opens the exchanges through the facade (``xest.open``), starts each exchange's
:class:`~xest.agents.ExchangeAgent` and each account's :class:`~xest.agents.AccountAgent`, and
turns every agent event into a wake-up of the event streams. Pages read the agents' state;
they never ask an exchange themselves. With ``--sim`` it also runs the simulators, each with
at least two funded demo accounts.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import attrs

import xest
from xest import errors
from xest.agents import AccountAgent, ExchangeAgent, LiveQuote, TrackedOrder
from xest_web.market import Watches
from xest_web.notify import Notifier
from xest_web.sim import demo_accounts

log = logging.getLogger("xest.web")

_KEEP = 50  # orders, quotes and fills kept per account for the pages
_FILL_SYMBOLS = 3  # symbols whose fills are polled per account (Binance asks per symbol)
_PREFERRED = ("BTC/USD", "BTC/USDT", "ETH/USD", "ETH/USDT")


@attrs.frozen
class Intervals:
    """Seconds between polls of each agent task."""

    status: float = 10.0
    time: float = 30.0
    balances: float = 10.0
    open_orders: float = 15.0
    orders: float = 3.0  # only while an order is followed
    fills: float = 30.0
    market: float = 3.0
    markets: float = 600.0


# Simulators answer in microseconds: poll them briskly so the demo feels live...
SIM_INTERVALS = Intervals(
    status=2.0, time=10.0, balances=1.0, open_orders=2.0, orders=0.5, fills=3.0, market=1.0
)
# ... within what each exchange's rate limits allow, which the transport enforces on the
# simulator too: past them, polls would queue in the limiter and the pages fall behind.
# Kraken's starter tier refills its private counter by 0.33 a second (history calls cost 2)
# and its public one by 1 a second. Binance allows 6000 weight a minute per IP, shared by
# every account: account 20, all open orders 80, fills 20 per symbol; with two accounts these
# intervals spend about 3500 of it, leaving room for the person's own orders.
PACE = {
    "kraken": Intervals(
        status=5.0, time=30.0, balances=6.0, open_orders=15.0, orders=3.0, fills=30.0, market=3.0
    ),
    "binance": Intervals(
        status=2.0, time=10.0, balances=2.0, open_orders=10.0, orders=1.0, fills=15.0, market=2.0
    ),
}


def pace(exchange: str, simulated: bool) -> Intervals:
    """The polling intervals for one exchange."""
    if exchange in PACE:
        return PACE[exchange]
    return SIM_INTERVALS if simulated else Intervals()


class ExchangeEntry:
    """One exchange: its public client, its agent, its simulator when simulated."""

    def __init__(self, client: Any, agent: ExchangeAgent, simulator: Any = None) -> None:
        self.client = client
        self.agent = agent
        self.simulator = simulator

    @property
    def name(self) -> str:
        return str(self.client.name)

    def symbols(self) -> list[str]:
        markets = self.agent.markets
        return sorted(markets) if markets else []

    def default_symbol(self) -> str | None:
        symbols = self.symbols()
        for symbol in _PREFERRED:
            if symbol in symbols:
                return symbol
        return symbols[0] if symbols else None


class AccountEntry:
    """One account: its client and agent, and what the pages show about its activity."""

    def __init__(self, exchange: ExchangeEntry, name: str, client: Any, agent: AccountAgent):
        self.exchange = exchange
        self.name = name
        self.client = client
        self.agent = agent
        self.lock = threading.Lock()
        self.orders: collections.OrderedDict[str, TrackedOrder] = collections.OrderedDict()
        self.quotes: collections.OrderedDict[str, LiveQuote] = collections.OrderedDict()
        self.fills: list[Any] = []
        self.fills_at: float | None = None
        self.fill_symbols: collections.OrderedDict[str, None] = collections.OrderedDict()

    @property
    def key(self) -> str:
        return f"{self.exchange.name}:{self.name}"

    def remember_order(self, order: TrackedOrder) -> None:
        with self.lock:
            self.orders[order.id] = order
            self.orders.move_to_end(order.id)
            while len(self.orders) > _KEEP:
                self.orders.popitem(last=False)
        self.interested(order.symbol)

    def remember_quote(self, quote: LiveQuote) -> None:
        with self.lock:
            self.quotes[quote.id] = quote
            while len(self.quotes) > _KEEP:
                self.quotes.popitem(last=False)
        self.interested(quote.symbol)

    def interested(self, symbol: str) -> None:
        """Follow this symbol's fills too (most recent symbols first)."""
        with self.lock:
            self.fill_symbols[symbol] = None
            self.fill_symbols.move_to_end(symbol, last=False)
            while len(self.fill_symbols) > _FILL_SYMBOLS:
                self.fill_symbols.popitem()

    def all_orders(self) -> list[TrackedOrder]:
        """The orders placed here and the account's open orders, newest first, one per id."""
        with self.lock:
            mine = list(self.orders.values())
        seen = {o.id for o in mine}
        opened = [o for o in self.agent.open_orders if o.id not in seen]
        return list(reversed(mine)) + opened

    def poll_fills(self) -> int:
        """The agent's ``fills`` task: the latest fills of the symbols this account traded."""
        symbols = list(self.fill_symbols) or [self.exchange.default_symbol() or ""]
        trades = []
        for symbol in symbols:
            if symbol:
                trades += self.client.my_trades(symbol, limit=20)
        trades.sort(key=lambda t: t.timestamp, reverse=True)
        with self.lock:
            changed = [t.id for t in trades[:20]] != [t.id for t in self.fills]
            self.fills = trades[:20]
            self.fills_at = time.time()
        if changed:
            self.agent.emit("fills", new=len(trades))
        return len(trades)


class Hub:
    """Every exchange and account the dashboard shows, with their agents."""

    def __init__(self, intervals: dict[str, Intervals] | None = None) -> None:
        self._intervals = dict(intervals or {})
        self.notifier = Notifier()
        self.watches = Watches(self)
        self.exchanges: dict[str, ExchangeEntry] = {}
        self.accounts: dict[str, AccountEntry] = {}
        self.problems: list[str] = []  # what could not be opened, in words (no secrets)
        self.simulated = False
        self._closed = False

    # -- building ------------------------------------------------------------------------------

    def intervals(self, exchange: str) -> Intervals:
        """How often the agents of ``exchange`` poll."""
        found = self._intervals.get(exchange)
        return found if found is not None else pace(exchange, self.simulated)

    @classmethod
    def simulated_exchanges(
        cls, exchanges: Iterable[str] | None = None, intervals: dict[str, Intervals] | None = None
    ) -> Hub:
        """The installed connectors' simulators, each with its demo accounts."""
        from xest import registry

        hub = cls(intervals)
        hub.simulated = True
        names = sorted(exchanges or (set(registry.simulators()) & set(registry.connectors())))
        try:
            for name in names:
                simulator = registry.simulator_factory(name)().start()
                # No response cache: the agents are the only pollers of a private simulator,
                # and a cached answer would only delay what the page shows.
                # Its websocket simulator too, when it has one: market agents then stream.
                urls = getattr(simulator, "stream_urls", None)
                client = xest.open(
                    name, url=simulator.url, cache=False, stream_urls=urls() if urls else None
                )
                entry = hub._add_exchange(client, simulator)
                for account, key, secret in demo_accounts(simulator):
                    opened = xest.open(
                        name, account, url=simulator.url, key=key, secret=secret, cache=False
                    )
                    hub._add_account(entry, account, opened)
        except BaseException:
            hub.close()
            raise
        return hub

    @classmethod
    def configured(
        cls, exchanges: Iterable[str] | None = None, intervals: dict[str, Intervals] | None = None
    ) -> Hub:
        """The installed connectors against the real exchanges, with the configured accounts."""
        from xest import accounts, registry

        hub = cls(intervals)
        for name in sorted(exchanges or registry.connectors()):
            try:
                entry = hub._add_exchange(xest.open(name))
            except errors.XestError as exc:
                hub.problems.append(f"{name}: {exc}")
                continue
            for account in accounts.accounts(name, exchanges=(name,)):
                try:
                    client = xest.open(name, account.name)
                    hub._add_account(entry, account.name, client)
                except errors.XestError as exc:
                    hub.problems.append(f"{name} account {account.name}: {exc}")
        return hub

    def _add_exchange(self, client: Any, simulator: Any = None) -> ExchangeEntry:
        pace = self.intervals(client.name)
        agent = ExchangeAgent(
            client.connector,
            status_interval=pace.status,
            time_interval=pace.time,
            markets_interval=pace.markets,
        )
        client.add_agent(agent)
        agent.subscribe(self.notifier.notify)
        entry = ExchangeEntry(client, agent, simulator)
        self.exchanges[entry.name] = entry
        return entry

    def _add_account(self, exchange: ExchangeEntry, name: str, client: Any) -> AccountEntry:
        agent = client.account
        if agent is None:
            client.close()
            raise errors.AuthenticationError(f"account {name} has no credentials")
        pace = self.intervals(exchange.name)
        for task, interval in (
            ("balances", pace.balances),
            ("open_orders", pace.open_orders),
            ("orders", pace.orders),
        ):
            if task in agent.tasks:
                agent.set_interval(task, interval)
        entry = AccountEntry(exchange, name, client, agent)
        if "my_trades" in client.capabilities:
            agent.add_task("fills", entry.poll_fills, pace.fills)
        agent.subscribe(self.notifier.notify)
        self.accounts[entry.key] = entry
        return entry

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, wait: bool = False) -> Hub:
        agents = [e.agent for e in self.exchanges.values()]
        agents += [a.agent for a in self.accounts.values()]
        if not wait:
            for agent in agents:
                agent.start(wait=False)
            return self
        # Each start(wait=True) returns after the agent's first round: all at once, in parallel.
        starters = [threading.Thread(target=agent.start, name="xest-web-start") for agent in agents]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        return self

    def close(self) -> None:
        """Stop every agent and market watch, close the clients, stop the simulators."""
        if self._closed:
            return
        self._closed = True
        self.notifier.close()
        self.watches.close()
        for account in self.accounts.values():
            _quietly(account.client.close)
        for exchange in self.exchanges.values():
            _quietly(exchange.client.close)
            if exchange.simulator is not None:
                _quietly(exchange.simulator.stop)

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups -------------------------------------------------------------------------------

    def exchange(self, name: str) -> ExchangeEntry:
        try:
            return self.exchanges[name]
        except KeyError:
            raise errors.ConfigError(
                f"no exchange {name!r} here (shown: {', '.join(self.exchanges) or 'none'})"
            ) from None

    def account(self, key: str) -> AccountEntry:
        try:
            return self.accounts[key]
        except KeyError:
            raise errors.ConfigError(
                f"no account {key!r} here: pick one from the list "
                f"({', '.join(self.accounts) or 'none configured'})"
            ) from None


def _quietly(func: Any) -> None:
    try:
        func()
    except Exception:  # closing must go on for the others
        log.exception("xest web: closing failed")
