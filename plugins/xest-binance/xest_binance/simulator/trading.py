"""Accounts, balances and spot orders of the simulated exchange.

Orders match against the simulator's deterministic book: market orders and crossing limit
orders fill at once (walking the levels), other limit orders rest until cancelled, filled by
:meth:`Exchange.fill_order`, or crossed by a price move (:meth:`Exchange.set_price`). Every
failure is a :class:`SimError` carrying Binance's own code and message.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

import attrs

from xest.markets import take_levels
from xest_binance.simulator.market import EIGHT, SimMarket, fmt, q

COMMISSION = Decimal("0.001")  # 0.1 %, charged in the asset received
FIRST_ORDER_ID = 2**53 + 1000  # past what a double holds exactly: clients must keep ints exact
FIRST_TRADE_ID = 2**53 + 500_000
FINAL = {"FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"}


class SimError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


def missing(name: str) -> SimError:
    return SimError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def number(params: dict[str, str], name: str, required: bool = True) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise missing(name)
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        raise SimError(
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range "
            r"is '^([0-9]{1,20})(\.[0-9]{1,20})?$'.",
        ) from None
    if not value.is_finite():
        raise SimError(-1100, f"Illegal characters found in parameter '{name}'.")
    return value


@attrs.define
class Account:
    key: str
    secret: str = attrs.field(repr=False)
    balances: dict[str, list[Decimal]] = attrs.field(factory=dict)  # asset -> [free, locked]

    def free(self, asset: str) -> Decimal:
        return self.balances.get(asset, [Decimal(0), Decimal(0)])[0]

    def add(self, asset: str, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)) -> None:
        row = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        row[0] += free
        row[1] += locked

    def snapshot(self, omit_zero: bool) -> list[dict]:
        rows = [
            {"asset": a, "free": fmt(f), "locked": fmt(lk)}
            for a, (f, lk) in sorted(self.balances.items())
        ]
        return [r for r in rows if not omit_zero or Decimal(r["free"]) + Decimal(r["locked"])]


class Exchange:
    """The simulated exchange's private state. Callers hold the simulator's lock."""

    def __init__(self, markets: dict[str, SimMarket]) -> None:
        self.markets = markets
        self.accounts: dict[str, Account] = {}
        self.orders: dict[int, dict] = {}
        self.owner: dict[int, str] = {}  # order id -> api key
        self.trades: list[dict] = []
        self._next_order = FIRST_ORDER_ID
        self._next_trade = FIRST_TRADE_ID

    def new_account(self, balances: dict[str, Decimal]) -> Account:
        account = Account(secrets.token_hex(32), secrets.token_hex(32))
        for asset, amount in balances.items():
            account.add(asset, Decimal(amount))
        self.accounts[account.key] = account
        return account

    def market(self, symbol: str | None) -> SimMarket:
        if not symbol:
            raise missing("symbol")
        try:
            return self.markets[symbol]
        except KeyError:
            raise SimError(-1121, "Invalid symbol.") from None

    # -- placing ----------------------------------------------------------------------------------

    def place(self, account: Account, params: dict[str, str], now_ms: int, test: bool) -> dict:
        m = self.market(params.get("symbol"))
        side, type_ = params.get("side"), params.get("type")
        if side not in ("BUY", "SELL"):
            raise missing("side") if not side else SimError(-1117, "Invalid side.")
        if type_ not in ("LIMIT", "MARKET"):
            raise missing("type") if not type_ else SimError(-1116, "Invalid orderType.")
        qty = number(params, "quantity")
        price = number(params, "price", required=type_ == "LIMIT")
        tif = params.get("timeInForce")
        if type_ == "LIMIT" and not tif:
            raise missing("timeInForce")
        if type_ == "MARKET" and tif:
            raise SimError(-1106, "Parameter 'timeInForce' sent when not required.")
        if type_ == "MARKET" and price is not None:
            raise SimError(-1106, "Parameter 'price' sent when not required.")
        if tif and tif not in ("GTC", "IOC", "FOK"):
            raise SimError(-1115, "Invalid timeInForce.")
        assert qty is not None
        self._check_filters(m, type_, qty, price)
        if m.status != "TRADING":
            raise SimError(-2010, "Market is closed.")
        client_id = params.get("newClientOrderId") or f"sim{secrets.token_hex(10)}"
        if any(
            o["clientOrderId"] == client_id and o["status"] not in FINAL for o in self._of(account)
        ):
            raise SimError(-2010, "Duplicate order sent.")
        fills = self._walk(m, side, qty, price if type_ == "LIMIT" else None)
        cost = sum((p * f for p, f in fills), Decimal(0))
        filled = sum((f for _, f in fills), Decimal(0))
        rest = qty - filled if type_ == "LIMIT" and tif == "GTC" else Decimal(0)
        if type_ == "LIMIT" and tif == "FOK" and filled < qty:
            fills, cost, filled = [], Decimal(0), Decimal(0)
        need = (cost + (rest * price if rest and price else 0)) if side == "BUY" else qty
        spend = m.quote if side == "BUY" else m.base
        if account.free(spend) < need:
            raise SimError(-2010, "Account has insufficient balance for requested action.")
        if test:
            return {}
        order_id = self._next_order
        self._next_order += 1
        status = (
            "FILLED"
            if filled == qty
            else ("PARTIALLY_FILLED" if rest and filled else "NEW" if rest else "EXPIRED")
        )
        order = {
            "symbol": m.symbol,
            "orderId": order_id,
            "orderListId": -1,
            "clientOrderId": client_id,
            "price": fmt(price or Decimal(0)),
            "origQty": fmt(qty),
            "executedQty": fmt(Decimal(0)),
            "cummulativeQuoteQty": fmt(Decimal(0)),
            "status": status,
            "timeInForce": tif or "GTC",
            "type": type_,
            "side": side,
            "stopPrice": fmt(Decimal(0)),
            "icebergQty": fmt(Decimal(0)),
            "time": now_ms,
            "updateTime": now_ms,
            "isWorking": True,
            "workingTime": now_ms,
            "origQuoteOrderQty": fmt(Decimal(0)),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }
        self.orders[order_id] = order
        self.owner[order_id] = account.key
        if rest:
            self._lock(account, m, side, rest, price)
        done = [self._fill(account, order, p, f, now_ms, maker=False) for p, f in fills]
        return {**order, "transactTime": now_ms, "fills": done}

    def _check_filters(self, m: SimMarket, type_: str, qty: Decimal, price: Decimal | None) -> None:
        if price is not None and (price < m.tick or price % m.tick):
            raise SimError(-1013, "Filter failure: PRICE_FILTER")
        if qty < m.min_qty or qty > m.max_qty or (qty - m.min_qty) % m.step:
            raise SimError(-1013, "Filter failure: LOT_SIZE")
        if type_ == "MARKET" and qty > m.market_max_qty:
            raise SimError(-1013, "Filter failure: MARKET_LOT_SIZE")
        notional = qty * (price if price is not None else m.mid)
        if notional < m.min_notional:
            raise SimError(
                -1013, "Filter failure: " + ("MIN_NOTIONAL" if m.legacy_notional else "NOTIONAL")
            )
        if m.max_notional is not None and type_ == "LIMIT" and notional > m.max_notional:
            raise SimError(-1013, "Filter failure: NOTIONAL")

    def _walk(self, m: SimMarket, side: str, qty: Decimal, limit: Decimal | None):
        levels = m.asks() if side == "BUY" else m.bids()
        return take_levels(levels, qty, buy=side == "BUY", limit=limit)

    def _lock(
        self, account: Account, m: SimMarket, side: str, qty: Decimal, price: Decimal | None
    ) -> None:
        if side == "BUY":
            amount = q(qty * (price or m.mid), EIGHT)
            account.add(m.quote, -amount, amount)
        else:
            account.add(m.base, -qty, qty)

    def _fill(
        self, account: Account, order: dict, price: Decimal, qty: Decimal, now_ms: int, maker: bool
    ) -> dict:
        m = self.markets[order["symbol"]]
        value = q(price * qty, EIGHT)
        resting = maker  # a resting order's funds were locked when it rested
        if order["side"] == "BUY":
            fee = q(qty * COMMISSION, EIGHT)
            if resting:
                account.add(m.quote, locked=-q(qty * Decimal(order["price"]), EIGHT))
                account.add(m.quote, q(qty * Decimal(order["price"]), EIGHT) - value)
            else:
                account.add(m.quote, -value)
            account.add(m.base, qty - fee)
            fee_asset = m.base
        else:
            fee = q(value * COMMISSION, EIGHT)
            if resting:
                account.add(m.base, locked=-qty)
            else:
                account.add(m.base, -qty)
            account.add(m.quote, value - fee)
            fee_asset = m.quote
        executed = Decimal(order["executedQty"]) + qty
        order["executedQty"] = fmt(executed)
        order["cummulativeQuoteQty"] = fmt(Decimal(order["cummulativeQuoteQty"]) + value)
        order["updateTime"] = now_ms
        if executed >= Decimal(order["origQty"]):
            order["status"] = "FILLED"
        elif order["status"] == "NEW":
            order["status"] = "PARTIALLY_FILLED"
        trade_id = self._next_trade
        self._next_trade += 1
        self.trades.append(
            {
                "symbol": m.symbol,
                "id": trade_id,
                "orderId": order["orderId"],
                "orderListId": -1,
                "price": fmt(price),
                "qty": fmt(qty),
                "quoteQty": fmt(value),
                "commission": fmt(fee),
                "commissionAsset": fee_asset,
                "time": now_ms,
                "isBuyer": order["side"] == "BUY",
                "isMaker": maker,
                "isBestMatch": True,
                "_key": account.key,
            }
        )
        return {
            "price": fmt(price),
            "qty": fmt(qty),
            "commission": fmt(fee),
            "commissionAsset": fee_asset,
            "tradeId": trade_id,
        }

    # -- resting orders ---------------------------------------------------------------------------

    def fill_order(self, order_id: int, qty: Decimal | None, now_ms: int) -> dict:
        """Fill a resting order (all that is left, or ``qty`` of it) at its own price."""
        order = self.orders[order_id]
        if order["status"] in FINAL:
            raise ValueError(f"order {order_id} is {order['status']}")
        left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        take = left if qty is None else min(Decimal(qty), left)
        account = self.accounts[self.owner[order_id]]
        self._fill(account, order, Decimal(order["price"]), take, now_ms, maker=True)
        return order

    def cross(self, m: SimMarket, now_ms: int) -> None:
        """After a price move, fill every resting order the new book crosses."""
        for order_id, order in list(self.orders.items()):
            if order["symbol"] != m.symbol or order["status"] not in ("NEW", "PARTIALLY_FILLED"):
                continue
            price = Decimal(order["price"])
            if (order["side"] == "BUY" and price >= m.best_ask()) or (
                order["side"] == "SELL" and price <= m.best_bid()
            ):
                self.fill_order(order_id, None, now_ms)

    # -- reading and cancelling -------------------------------------------------------------------

    def _of(self, account: Account) -> list[dict]:
        return [o for i, o in self.orders.items() if self.owner[i] == account.key]

    def find(self, account: Account, params: dict[str, str]) -> dict:
        m = self.market(params.get("symbol"))
        order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise SimError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        for o in self._of(account):
            if o["symbol"] != m.symbol:
                continue
            if (order_id and str(o["orderId"]) == order_id) or (
                not order_id and o["clientOrderId"] == client_id
            ):
                return o
        raise SimError(-2013, "Order does not exist.")

    def cancel(self, account: Account, params: dict[str, str], now_ms: int) -> dict:
        try:
            order = self.find(account, params)
        except SimError as exc:
            if exc.code == -2013:
                raise SimError(-2011, "Unknown order sent.") from None
            raise
        if order["status"] in FINAL:
            raise SimError(-2011, "Unknown order sent.")
        m = self.markets[order["symbol"]]
        left = Decimal(order["origQty"]) - Decimal(order["executedQty"])
        if order["side"] == "BUY":
            amount = q(left * Decimal(order["price"]), EIGHT)
            account.add(m.quote, amount, -amount)
        else:
            account.add(m.base, left, -left)
        order["status"] = "CANCELED"
        order["updateTime"] = now_ms
        return {
            **order,
            "origClientOrderId": order["clientOrderId"],
            "clientOrderId": f"cancel{secrets.token_hex(8)}",
            "transactTime": now_ms,
        }

    def open_orders(self, account: Account, symbol: str | None) -> list[dict]:
        if symbol:
            self.market(symbol)
        return [
            o
            for o in self._of(account)
            if o["status"] in ("NEW", "PARTIALLY_FILLED") and (not symbol or o["symbol"] == symbol)
        ]

    def all_orders(self, account: Account, params: dict[str, str]) -> list[dict]:
        """Binance's allOrders: from ``orderId`` on (else ``startTime``, else the latest),
        at most ``limit`` (500 by default, 1000 at most)."""
        m = self.market(params.get("symbol"))
        rows = [o for o in self._of(account) if o["symbol"] == m.symbol]
        return _window(rows, params, "orderId", "orderId")

    def my_trades(self, account: Account, params: dict[str, str]) -> list[dict]:
        """Binance's myTrades: from ``fromId`` on (else ``startTime``, else the latest)."""
        m = self.market(params.get("symbol"))
        rows = [
            {k: v for k, v in t.items() if k != "_key"}
            for t in self.trades
            if t["_key"] == account.key and t["symbol"] == m.symbol
        ]
        return _window(rows, params, "fromId", "id")


def _window(rows: list[dict], params: dict[str, str], cursor: str, field: str) -> list[dict]:
    """The rows a Binance history list answers: ``cursor`` (an id) or ``startTime`` pick the
    first, oldest first; without either, the latest ``limit``."""
    limit = max(1, min(int(params.get("limit") or 500), 1000))
    rows = sorted(rows, key=lambda r: int(r[field]))
    if params.get(cursor):
        return [r for r in rows if int(r[field]) >= int(params[cursor])][:limit]
    if params.get("startTime"):
        return [r for r in rows if r["time"] >= int(params["startTime"])][:limit]
    return rows[-limit:]
