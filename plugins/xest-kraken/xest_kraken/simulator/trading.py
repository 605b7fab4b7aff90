"""The simulated Kraken's private endpoints: balances, orders and trades per API key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xest.testing.server import LoopbackServer, SimRequest, route
from xest_kraken.quotes import valid_client_id
from xest_kraken.simulator import market
from xest_kraken.simulator.data import ASSET_BY_CODE, TAKER_FEE
from xest_kraken.simulator.engine import Account, Engine, Reject, SimOrder

if TYPE_CHECKING:
    from xest_kraken.simulator.data import PairDef
from xest_kraken.simulator.wire import flag, integer, ok, positive

PAGE = 50


def _page(rows: list[tuple[str, Any]], params: dict[str, str]) -> list[tuple[str, Any]]:
    ofs = integer(params.get("ofs", "0") or "0", "ofs", 0)
    return rows[ofs : ofs + PAGE]


def _window(value: float, params: dict[str, str]) -> bool:
    start, end = params.get("start"), params.get("end")
    if start and value <= float(integer(start, "start")):
        return False
    return not (end and value > float(integer(end, "end")))


class PrivateRoutes(LoopbackServer):
    """Mixed into :class:`KrakenSimulator`; relies on its ``authenticate``, ``pair``, ``book``."""

    engine: Engine
    status: str
    book: Any
    pair: Callable[[str], PairDef]

    def _account(self, request: SimRequest, permission: str = "query") -> Account:
        account = self.authenticate(request)  # type: ignore[attr-defined]
        if permission not in account.permissions:
            raise Reject("EGeneral:Permission denied")
        return account

    def _amount(self, code: str, value: Decimal) -> str:
        asset = ASSET_BY_CODE.get(code)
        return market.text(value, asset.decimals if asset else 10)

    @route("POST", "/0/private/Balance")
    def balance(self, request: SimRequest) -> dict:
        account = self._account(request)
        return ok({code: self._amount(code, v) for code, v in account.balances.items()})

    @route("POST", "/0/private/BalanceEx")
    def balance_ex(self, request: SimRequest) -> dict:
        account = self._account(request)
        return ok(
            {
                code: {
                    "balance": self._amount(code, v),
                    "hold_trade": self._amount(code, account.held(code)),
                }
                for code, v in account.balances.items()
            }
        )

    def _matches(self, order: SimOrder, params: dict[str, str]) -> bool:
        if params.get("cl_ord_id") and order.cl_ord_id != params["cl_ord_id"]:
            return False
        return not (params.get("userref") and str(order.userref) != params["userref"])

    @route("POST", "/0/private/OpenOrders")
    def open_orders(self, request: SimRequest) -> dict:
        account, params = self._account(request), request.form
        rows = {
            o.txid: o.info(flag(params.get("trades")))
            for o in account.orders.values()
            if o.status == "open" and self._matches(o, params)
        }
        return ok({"open": rows})

    @route("POST", "/0/private/ClosedOrders")
    def closed_orders(self, request: SimRequest) -> dict:
        account, params = self._account(request), request.form
        closed = [
            o
            for o in account.orders.values()
            if o.status not in ("open", "pending")
            and self._matches(o, params)
            and _window(o.closetm or o.opentm, params)
        ]
        closed.sort(key=lambda o: o.closetm or o.opentm, reverse=True)
        rows = [(o.txid, o.info(flag(params.get("trades")))) for o in closed]
        return ok({"closed": dict(_page(rows, params)), "count": len(rows)})

    @route("POST", "/0/private/QueryOrders")
    def query_orders(self, request: SimRequest) -> dict:
        account, params = self._account(request), request.form
        txids = [t for t in params.get("txid", "").split(",") if t]
        if not txids or len(txids) > 50:
            raise Reject("EGeneral:Invalid arguments:txid")
        out = {}
        for txid in txids:
            order = account.orders.get(txid)
            if order is None:
                raise Reject("EOrder:Invalid order")
            out[txid] = order.info(flag(params.get("trades")))
        return ok(out)

    @route("POST", "/0/private/TradesHistory")
    def trades_history(self, request: SimRequest) -> dict:
        account, params = self._account(request), request.form
        rows = [(t, info) for t, info in account.trades.items() if _window(info["time"], params)]
        rows.sort(key=lambda r: r[1]["time"], reverse=True)
        return ok({"trades": dict(_page(rows, params)), "count": len(rows)})

    @route("POST", "/0/private/CancelOrder")
    def cancel_order(self, request: SimRequest) -> dict:
        account, params = self._account(request, "trade"), request.form
        ident = params.get("txid") or params.get("cl_ord_id")
        if not ident:
            raise Reject("EGeneral:Invalid arguments:txid")
        targets = [
            o
            for o in account.orders.values()
            if o.status == "open"
            and ident in (o.txid, o.cl_ord_id, str(o.userref) if o.userref else None)
        ]
        if not targets:
            raise Reject("EOrder:Unknown order")
        for order in targets:
            self.engine.close(order, "canceled", "User requested", self.now())
        return ok({"count": len(targets), "pending": False})

    @route("POST", "/0/private/AddOrder")
    def add_order(self, request: SimRequest) -> dict:
        account, params = self._account(request, "trade"), request.form
        deadline = params.get("deadline")
        if deadline:
            try:
                end = datetime.fromisoformat(deadline.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise Reject("EGeneral:Invalid arguments:deadline") from None
            if self.now() > end:
                raise Reject("EOrder:Deadline elapsed")
        order = self._new_order(account, params)
        if self.status == "cancel_only":
            raise Reject("EService:Market in cancel_only mode")
        if self.status == "post_only" and "post" not in order.oflags:
            raise Reject("EService:Market in post_only mode")
        self._check_funds(account, order)
        result: dict[str, Any] = {"descr": {"order": order.describe()}}
        if flag(params.get("validate")):
            return ok(result)  # checked, not placed
        account.orders[order.txid] = order
        self.engine.execute(account, order, self.book(order.pair), self.now())
        result["txid"] = [order.txid]
        return ok(result)

    def _new_order(self, account: Account, params: dict[str, str]) -> SimOrder:
        pair = self.pair(params.get("pair", ""))
        side = params.get("type", "")
        if side not in ("buy", "sell"):
            raise Reject("EGeneral:Invalid arguments:type")
        kind = params.get("ordertype", "")
        if kind not in ("market", "limit"):
            raise Reject("EGeneral:Invalid arguments:ordertype")
        vol = positive(params.get("volume"), "volume")
        if -int(vol.as_tuple().exponent) > pair.lot_decimals:
            raise Reject("EGeneral:Invalid arguments:volume")
        if vol < pair.ordermin:
            raise Reject("EOrder:Order minimum not met")
        price = None
        if kind == "limit":
            price = positive(params.get("price"), "price")
            if -int(price.as_tuple().exponent) > pair.pair_decimals:
                raise Reject(
                    f"EOrder:Invalid price:{pair.altname} price can only be specified "
                    f"up to {pair.pair_decimals} decimals."
                )
            if price % pair.tick_size:
                raise Reject("EOrder:Tick size check failed")
        tif = params.get("timeinforce", "GTC").upper()
        if tif not in ("GTC", "IOC", "GTD"):
            raise Reject("EGeneral:Invalid arguments:timeinforce")
        if tif == "GTD" and not params.get("expiretm"):
            raise Reject("EGeneral:Invalid arguments:expiretm")
        cl_ord_id = params.get("cl_ord_id") or None
        if cl_ord_id is not None:
            if params.get("userref") or not valid_client_id(cl_ord_id):
                raise Reject("EGeneral:Invalid arguments:cl_ord_id")
            if any(
                o.cl_ord_id == cl_ord_id and o.status == "open" for o in account.orders.values()
            ):
                raise Reject("EOrder:Duplicate order")
        flags = params.get("oflags", "")
        # The simulator knows post-only and the fee-currency flags; refusing the others beats
        # silently misreading them (viqc would change what volume means).
        if set(filter(None, flags.split(","))) - {"post", "fciq", "fcib", "nompp"}:
            raise Reject("EGeneral:Invalid arguments:oflags")
        order = SimOrder(
            txid=self.engine.ids.make("O"),
            pair=pair,
            side=side,
            ordertype=kind,
            vol=vol,
            price=price,
            opentm=round(self.now(), 4),
            cl_ord_id=cl_ord_id,
            userref=integer(params.get("userref") or 0, "userref"),
            tif=tif,
            oflags=",".join(f for f in ("fciq", *flags.split(",")) if f),
        )
        cost = vol * (price if price is not None else self._estimate(order))
        if cost < pair.costmin:
            raise Reject("EOrder:Cost minimum not met")
        return order

    def _estimate(self, order: SimOrder) -> Decimal:
        """The average price a market order would get (the last level's, past the book)."""
        bids, asks = self.book(order.pair)
        levels = asks if order.side == "buy" else bids
        fills = self.engine.walk(levels, order.side, order.vol, None)
        taken = sum((v for _, v in fills), Decimal(0))
        cost = sum((p * v for p, v in fills), Decimal(0))
        return cost / taken if taken else levels[0][0]

    def _check_funds(self, account: Account, order: SimOrder) -> None:
        p = order.pair
        if order.side == "sell":
            needed, asset = order.vol, p.base
        else:
            price = order.price if order.price is not None else self._estimate(order)
            needed, asset = order.vol * price * (1 + TAKER_FEE), p.quote
        if account.available(asset) < needed:
            raise Reject("EOrder:Insufficient funds")
