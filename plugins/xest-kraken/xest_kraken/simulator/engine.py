"""The simulated Kraken's state: accounts, orders that rest or fill against the book, fees.

Not thread safe on its own: the server calls it under its lock.
"""

from __future__ import annotations

import random
import string
from decimal import Decimal

import attrs

from xest.markets import take_levels
from xest_kraken.simulator import market
from xest_kraken.simulator.data import ASSET_BY_CODE, MAKER_FEE, TAKER_FEE, PairDef


class Reject(Exception):
    """A request Kraken refuses: carries its error string (answered with HTTP 200)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@attrs.define
class SimOrder:
    txid: str
    pair: PairDef
    side: str
    ordertype: str
    vol: Decimal
    price: Decimal | None
    opentm: float
    cl_ord_id: str | None = None
    userref: int = 0
    tif: str = "GTC"
    oflags: str = "fciq"
    status: str = "open"
    vol_exec: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    closetm: float | None = None
    reason: str | None = None
    trades: list[str] = attrs.field(factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.vol - self.vol_exec

    def describe(self) -> str:
        vol = market.text(self.vol, self.pair.lot_decimals)
        where = (
            "market"
            if self.price is None
            else (f"limit {market.text(self.price, self.pair.pair_decimals)}")
        )
        return f"{self.side} {vol} {self.pair.altname} @ {where}"

    def info(self, with_trades: bool = False) -> dict:
        p = self.pair
        average = self.cost / self.vol_exec if self.vol_exec else Decimal(0)
        out: dict = {
            "refid": None,
            "userref": self.userref,
            "status": self.status,
            "opentm": self.opentm,
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": p.altname,
                "type": self.side,
                "ordertype": self.ordertype,
                "price": market.text(self.price, p.pair_decimals) if self.price else "0",
                "price2": "0",
                "leverage": "none",
                "order": self.describe(),
                "close": "",
            },
            "vol": market.text(self.vol, 8),
            "vol_exec": market.text(self.vol_exec, 8),
            "cost": market.text(self.cost, p.cost_decimals),
            "fee": market.text(self.fee, p.cost_decimals),
            "price": market.text(average, p.pair_decimals),
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": self.oflags,
        }
        if self.cl_ord_id:
            out["cl_ord_id"] = self.cl_ord_id
        if self.closetm is not None:
            out["closetm"] = self.closetm
            out["reason"] = self.reason
        if with_trades and self.trades:
            out["trades"] = list(self.trades)
        return out


@attrs.define
class Account:
    key: str
    secret: str
    balances: dict[str, Decimal]
    permissions: frozenset[str] = frozenset({"query", "trade"})
    last_nonce: int = 0
    orders: dict[str, SimOrder] = attrs.field(factory=dict)
    trades: dict[str, dict] = attrs.field(factory=dict)

    def held(self, asset: str) -> Decimal:
        total = Decimal(0)
        for o in self.orders.values():
            if o.status != "open":
                continue
            if o.side == "buy" and o.pair.quote == asset and o.price is not None:
                total += o.remaining * o.price * (1 + MAKER_FEE)
            elif o.side == "sell" and o.pair.base == asset:
                total += o.remaining
        return total

    def available(self, asset: str) -> Decimal:
        return self.balances.get(asset, Decimal(0)) - self.held(asset)


class Ids:
    """Kraken-shaped ids (``OQCLML-BW3P3-BUCMWZ``), deterministic for a given seed."""

    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)
        self.trade_id = 50_000_000

    def make(self, prefix: str) -> str:
        chars = string.ascii_uppercase + string.digits
        parts = [
            prefix + "".join(self._random.choices(chars, k=5)),
            "".join(self._random.choices(chars, k=5)),
            "".join(self._random.choices(chars, k=6)),
        ]
        return "-".join(parts)


class Engine:
    """Matching against the simulated maker book, and the bookkeeping that follows."""

    def __init__(self, ids: Ids, public_fills: list) -> None:
        self.ids = ids
        self.public_fills = public_fills  # (pair key, row) appended for /public/Trades

    def walk(
        self, levels: list[tuple[Decimal, Decimal]], side: str, vol: Decimal, limit: Decimal | None
    ) -> list[tuple[Decimal, Decimal]]:
        """The (price, volume) fills a taker order of ``vol`` gets from ``levels``."""
        return take_levels(levels, vol, buy=side == "buy", limit=limit)

    def fill(
        self,
        account: Account,
        order: SimOrder,
        price: Decimal,
        vol: Decimal,
        maker: bool,
        now: float,
    ) -> None:
        p = order.pair
        value = price * vol
        # Fees are charged in the quote asset, to that asset's precision.
        decimals = ASSET_BY_CODE[p.quote].decimals
        fee = market.q(value * (MAKER_FEE if maker else TAKER_FEE), decimals)
        bal = account.balances
        base, quote = p.base, p.quote
        if order.side == "buy":
            bal[base] = bal.get(base, Decimal(0)) + vol
            bal[quote] = bal.get(quote, Decimal(0)) - value - fee
        else:
            bal[base] = bal.get(base, Decimal(0)) - vol
            bal[quote] = bal.get(quote, Decimal(0)) + value - fee
        order.vol_exec += vol
        order.cost += value
        order.fee += fee
        txid = self.ids.make("T")
        self.ids.trade_id += 1
        order.trades.append(txid)
        account.trades[txid] = {
            "ordertxid": order.txid,
            "postxid": "TKH2SE-M7IF5-CFI7LT",
            "pair": p.key,
            "time": round(now, 4),
            "type": order.side,
            "ordertype": order.ordertype,
            "price": market.text(price, p.pair_decimals),
            "cost": market.text(value, p.cost_decimals),
            "fee": market.text(fee, p.cost_decimals),
            "vol": market.text(vol, 8),
            "margin": "0.00000",
            "misc": "",
            "trade_id": self.ids.trade_id,
            "maker": maker,
        }
        self.public_fills.append(
            (
                p.key,
                [
                    market.text(price, p.pair_decimals),
                    market.text(vol, 8),
                    round(now, 4),
                    "b" if order.side == "buy" else "s",
                    "l" if order.price is not None else "m",
                    "",
                    self.ids.trade_id,
                ],
            )
        )
        if order.remaining <= 0:
            order.status, order.closetm = "closed", now

    def close(self, order: SimOrder, status: str, reason: str, now: float) -> None:
        order.status, order.reason, order.closetm = status, reason, now

    def execute(self, account: Account, order: SimOrder, book, now: float) -> None:
        """Run a new order against the book: fill what crosses, then rest or cancel the rest."""
        bids, asks = book
        levels = asks if order.side == "buy" else bids
        crosses = bool(self.walk(levels, order.side, order.vol, order.price))
        if "post" in order.oflags and crosses:
            self.close(order, "canceled", "Post only order", now)
            return
        for price, vol in self.walk(levels, order.side, order.vol, order.price):
            self.fill(account, order, price, vol, maker=False, now=now)
        if order.status != "open":
            return
        if order.price is None or order.tif == "IOC":
            reason = "Insufficient liquidity" if order.price is None else "IOC"
            if order.vol_exec > 0:
                self.close(order, "closed" if order.remaining <= 0 else "canceled", reason, now)
            else:
                self.close(order, "canceled", reason, now)

    def rest_crossing(self, account: Account, book, now: float, pair_key: str) -> None:
        """After the book moved: resting orders it now crosses fill, as makers, at their limit."""
        bids, asks = book
        for order in list(account.orders.values()):
            if order.status != "open" or order.pair.key != pair_key or order.price is None:
                continue
            best = asks[0][0] if order.side == "buy" else bids[0][0]
            if (order.side == "buy" and best <= order.price) or (
                order.side == "sell" and best >= order.price
            ):
                self.fill(account, order, order.price, order.remaining, maker=True, now=now)
