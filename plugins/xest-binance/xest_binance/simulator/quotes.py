"""Simulated convert (RFQ) quotes: firm until ``validTimestamp``, accepted at most once.

Binance publishes no code table for convert failures, so the simulator's codes for an expired,
an already accepted and an unknown quote are its own; the messages say what happened, which is
what the connector reads on the convert endpoints.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

from xest_binance.simulator.market import EIGHT, SimMarket, fmt
from xest_binance.simulator.trading import Account, SimError, missing, number

SPREAD = Decimal("0.001")  # the convert desk's margin over the book
VALID_TIMES = {"10s": 10_000, "30s": 30_000, "1m": 60_000, "2m": 120_000}
FIRST_QUOTE_ID = 12415572564
FIRST_CONVERT_ORDER_ID = 933256278426274426  # past 2**53, like Binance's

QUOTE_EXPIRED = (345103, "Quote has expired. Please request a new quote.")
QUOTE_USED = (345104, "Quote has already been accepted. Please request a new quote.")
QUOTE_UNKNOWN = (345105, "Quote is invalid or does not exist.")
CONVERT_FUNDS = (345106, "Insufficient balance to convert.")


def _eight(value: Decimal, rounding: str) -> Decimal:
    return value.quantize(EIGHT, rounding=rounding)


class ConvertDesk:
    def __init__(
        self,
        markets: dict[str, SimMarket],
        settle_delay_ms: int = 0,
        lifetime_ms: int | None = None,
    ) -> None:
        self.markets = markets
        self.settle_delay_ms = settle_delay_ms
        self.lifetime_ms = lifetime_ms  # overrides validTime, so tests see expiry quickly
        self.quotes: dict[str, dict] = {}
        self.orders: dict[int, dict] = {}
        self._next_quote = FIRST_QUOTE_ID
        self._next_order = FIRST_CONVERT_ORDER_ID

    def _pair(self, from_asset: str, to_asset: str) -> tuple[SimMarket, bool]:
        """The market converting between the two assets, and whether ``to`` is its base."""
        for m in self.markets.values():
            if (m.quote, m.base) == (from_asset, to_asset):
                return m, True
            if (m.base, m.quote) == (from_asset, to_asset):
                return m, False
        raise SimError(-1130, "Data sent for parameter 'toAsset' is not valid.")

    def get_quote(self, account: Account, params: dict[str, str], now_ms: int) -> dict:
        from_asset, to_asset = params.get("fromAsset"), params.get("toAsset")
        if not from_asset:
            raise missing("fromAsset")
        if not to_asset:
            raise missing("toAsset")
        from_amount = number(params, "fromAmount", required=False)
        to_amount = number(params, "toAmount", required=False)
        if (from_amount is None) == (to_amount is None):
            raise SimError(
                -1102,
                "Param 'fromAmount' or 'toAmount' must be sent, but both were empty/null!"
                if from_amount is None
                else "Send either 'fromAmount' or 'toAmount', not both.",
            )
        valid = params.get("validTime") or "10s"
        if valid not in VALID_TIMES:
            raise SimError(-1130, "Data sent for parameter 'validTime' is not valid.")
        m, buying_base = self._pair(from_asset, to_asset)
        # Price of the base in the quote asset, with the desk's margin against the taker.
        price = (m.best_ask() * (1 + SPREAD)) if buying_base else (m.best_bid() * (1 - SPREAD))
        ratio = (1 / price) if buying_base else price  # to per from
        if to_amount is not None:
            from_amount = _eight(to_amount / ratio, ROUND_UP)
        else:
            assert from_amount is not None
            to_amount = _eight(from_amount * ratio, ROUND_DOWN)
        if to_amount <= 0 or from_amount <= 0:
            raise SimError(-1130, "Data sent for parameter 'fromAmount' is not valid.")
        body = {
            "ratio": fmt(_eight(ratio, ROUND_DOWN)).rstrip("0").rstrip("."),
            "inverseRatio": fmt(_eight(1 / ratio, ROUND_UP)).rstrip("0").rstrip("."),
            "validTimestamp": now_ms + (self.lifetime_ms or VALID_TIMES[valid]),
            "toAmount": fmt(to_amount).rstrip("0").rstrip("."),
            "fromAmount": fmt(from_amount).rstrip("0").rstrip("."),
        }
        if account.free(from_asset) < from_amount:
            return body  # Binance returns a quote id only when the account can pay
        quote_id = str(self._next_quote)
        self._next_quote += 1
        self.quotes[quote_id] = {
            **body,
            "quoteId": quote_id,
            "key": account.key,
            "fromAsset": from_asset,
            "toAsset": to_asset,
            "accepted": False,
        }
        return {"quoteId": quote_id, **body}

    def accept(self, account: Account, params: dict[str, str], now_ms: int) -> dict:
        quote_id = params.get("quoteId")
        if not quote_id:
            raise missing("quoteId")
        quote = self.quotes.get(quote_id)
        if quote is None or quote["key"] != account.key:
            raise SimError(*QUOTE_UNKNOWN)
        if quote["accepted"]:
            raise SimError(*QUOTE_USED)
        if now_ms > quote["validTimestamp"]:
            raise SimError(*QUOTE_EXPIRED)
        from_amount, to_amount = Decimal(quote["fromAmount"]), Decimal(quote["toAmount"])
        if account.free(quote["fromAsset"]) < from_amount:
            raise SimError(*CONVERT_FUNDS)
        quote["accepted"] = True
        account.add(quote["fromAsset"], -from_amount)
        account.add(quote["toAsset"], to_amount)
        order_id = self._next_order
        self._next_order += 1
        self.orders[order_id] = {
            "orderId": order_id,
            "quoteId": quote_id,
            "key": account.key,
            "createTime": now_ms,
            "settle": now_ms + self.settle_delay_ms,
            "fromAsset": quote["fromAsset"],
            "fromAmount": quote["fromAmount"],
            "toAsset": quote["toAsset"],
            "toAmount": quote["toAmount"],
            "ratio": quote["ratio"],
            "inverseRatio": quote["inverseRatio"],
        }
        return {"orderId": str(order_id), "createTime": now_ms, "orderStatus": "PROCESS"}

    def status(self, account: Account, params: dict[str, str], now_ms: int) -> dict:
        order_id, quote_id = params.get("orderId"), params.get("quoteId")
        if order_id and quote_id:
            raise SimError(-1128, "Combination of optional parameters invalid.")
        if not order_id and not quote_id:
            raise SimError(
                -1102, "Param 'orderId' or 'quoteId' must be sent, but both were empty/null!"
            )
        for order in self.orders.values():
            if order["key"] == account.key and (
                str(order["orderId"]) == order_id or order["quoteId"] == quote_id
            ):
                done = now_ms >= order["settle"]
                return {
                    "orderId": order["orderId"],
                    "orderStatus": "SUCCESS" if done else "PROCESS",
                    **{
                        k: order[k]
                        for k in (
                            "fromAsset",
                            "fromAmount",
                            "toAsset",
                            "toAmount",
                            "ratio",
                            "inverseRatio",
                            "createTime",
                        )
                    },
                }
        raise SimError(-2013, "Order does not exist.")
