"""The documented shape of each Binance answer, checked before parsing.

An answer that is valid JSON but not what the endpoint documents (a proxy's JSON page, a changed
API) must become a clear :class:`~xest.errors.BadResponse`, not a KeyError deep in parsing.
"""

from __future__ import annotations

from typing import Any

from xest import errors
from xest_binance import endpoints as ep

# (method, path) → (JSON type of the answer, keys it must have; for lists: of each row)
_SHAPES: dict[tuple[str, str], tuple[type | tuple[type, ...], tuple[str, ...]]] = {
    (ep.PING.method, ep.PING.path): (dict, ()),
    (ep.TIME.method, ep.TIME.path): (dict, ("serverTime",)),
    (ep.SYSTEM_STATUS.method, ep.SYSTEM_STATUS.path): (dict, ("status",)),
    (ep.EXCHANGE_INFO.method, ep.EXCHANGE_INFO.path): (dict, ("symbols",)),
    (ep.DEPTH.method, ep.DEPTH.path): (dict, ("bids", "asks")),
    (ep.TRADES.method, ep.TRADES.path): (list, ("price", "qty")),
    (ep.KLINES.method, ep.KLINES.path): (list, ()),
    (ep.TICKER_24HR.method, ep.TICKER_24HR.path): ((dict, list), ("symbol",)),
    (ep.BOOK_TICKER.method, ep.BOOK_TICKER.path): ((dict, list), ("symbol",)),
    (ep.ACCOUNT.method, ep.ACCOUNT.path): (dict, ("balances",)),
    (ep.OPEN_ORDERS.method, ep.OPEN_ORDERS.path): (list, ("orderId", "symbol")),
    (ep.ALL_ORDERS.method, ep.ALL_ORDERS.path): (list, ("orderId", "symbol")),
    (ep.QUERY_ORDER.method, ep.QUERY_ORDER.path): (dict, ("orderId", "symbol")),
    (ep.NEW_ORDER.method, ep.NEW_ORDER.path): (dict, ("orderId", "symbol")),
    (ep.TEST_ORDER.method, ep.TEST_ORDER.path): (dict, ()),
    (ep.CANCEL_ORDER.method, ep.CANCEL_ORDER.path): (dict, ("orderId", "symbol")),
    (ep.MY_TRADES.method, ep.MY_TRADES.path): (list, ("id", "orderId", "price", "qty")),
    (ep.CONVERT_GET_QUOTE.method, ep.CONVERT_GET_QUOTE.path): (dict, ("ratio",)),
    (ep.CONVERT_ACCEPT_QUOTE.method, ep.CONVERT_ACCEPT_QUOTE.path): (dict, ("orderId",)),
    (ep.CONVERT_ORDER_STATUS.method, ep.CONVERT_ORDER_STATUS.path): (dict, ("orderStatus",)),
}


def check_shape(method: str, path: str, data: Any) -> None:
    """Raise BadResponse when a successful answer is not shaped as Binance documents it."""
    shape = _SHAPES.get((method, path))
    if shape is None:
        return
    kind, keys = shape
    if not isinstance(data, kind):
        raise _bad(path, f"a JSON {type(data).__name__}")
    rows = data if isinstance(data, list) else [data]
    for row in rows[:1] if isinstance(data, list) else rows:
        if keys and not isinstance(row, dict):
            raise _bad(path, f"rows of {type(row).__name__}")
        missing = [k for k in keys if not isinstance(row, dict) or k not in row]
        if missing:
            raise _bad(path, f"no {', '.join(repr(k) for k in missing)}")


def _bad(path: str, what: str) -> errors.BadResponse:
    return errors.BadResponse(
        f"Binance answered {path} with {what}, not the documented shape; the API may have "
        "changed or a proxy answered: try again, and report it if it persists",
        exchange="binance",
    )
