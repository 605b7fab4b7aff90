"""Binance's ``{"code": <negative int>, "msg": "..."}`` errors mapped onto :mod:`xest.errors`.

Codes are universal, messages vary (the docs say so), so the code picks the class and the message
only refines it where Binance overloads one code (-2010, -2011, -1003). Messages never carry
secrets: Binance's own text, the code and the endpoint name are all that go in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from xest import errors
from xest.http import retry_after_seconds
from xest_binance.endpoints import CONVERT_PATHS, ORDER_PATHS

EXCHANGE = "binance"

_AUTH = (-1022, -2014, -2015)
_UNAVAILABLE_ADVICE = (
    "Binance could not process the request; its outcome is unknown, check before repeating "
    "anything that trades"
)
# Codes whose meaning does not depend on the message or the endpoint.
TABLE = errors.ErrorTable(
    EXCHANGE,
    exact={
        -1021: (
            errors.InvalidNonce,
            "the request timestamp was outside recvWindow; xest re-reads the server clock and "
            "signs with its estimate, so retry (or raise the recv_window option)",
        ),
        **dict.fromkeys(
            _AUTH,
            (
                errors.AuthenticationError,
                "check the API key and secret of this account (and the key's IP whitelist)",
            ),
        ),
        -1002: (errors.PermissionDenied, "enable this permission for the API key on Binance"),
        -2013: (errors.OrderNotFound, "no such order on this account"),
        -2026: (errors.OrderNotFound, "no such order on this account"),
        -1121: (errors.BadSymbol, "see `xest markets binance` for the symbols"),
        **dict.fromkeys(
            (-1001, -1006, -1007, -1008, -1016), (errors.ExchangeUnavailable, _UNAVAILABLE_ADVICE)
        ),
    },
    default=(errors.ExchangeError, ""),
)
# Neither a clock nor a key problem is a quote problem, whatever the convert message says.
_NOT_CONVERT = frozenset({-1021, -1002, *_AUTH})
_BAN_UNTIL = re.compile(r"banned until (\d{10,})")
_PARAM = re.compile(r"[Pp]aram(?:eter)? '([^']+)'")
_SPENT = re.compile(r"\b(already|executed|used|accepted)\b")
_FILTER = re.compile(r"Filter failure: ([A-Z_]+)")


def error_for(
    status: int,
    data: Any,
    headers: Mapping[str, str] | None = None,
    path: str = "",
    now: float | None = None,
) -> errors.XestError | None:
    """The xest error a Binance answer maps to, or None when it is not an error."""
    headers = headers or {}
    payload = isinstance(data, dict) and isinstance(data.get("code"), int) and "msg" in data
    if not payload:
        if status in (418, 429):
            return _rate_limited(status, None, "", headers, now)
        return None
    code: int = data["code"]
    msg = str(data.get("msg", ""))
    if code >= 0 and status < 400:  # SAPI answers {"code": 0, ...}-style successes elsewhere
        return None
    where = f" ({path})" if path else ""
    said = f"Binance says {code} {msg!r}{where}"

    if status in (418, 429) or code in (-1003, -1015):
        return _rate_limited(status, code, msg, headers, now)
    if path in CONVERT_PATHS and code not in _NOT_CONVERT:
        quote_error = _convert_error(code, msg, said)
        if quote_error is not None:
            return quote_error
    if code in TABLE.exact:
        return TABLE.error(code, said)
    if code == -2010:
        return _order_rejected(code, msg, said)
    if code == -2011:
        if "unknown order" in msg.lower():
            return errors.OrderNotFound(f"{said}: no such open order", exchange=EXCHANGE, code=code)
        return errors.InvalidOrder(
            f"{said}: the order could not be cancelled", exchange=EXCHANGE, code=code
        )
    if code == -1013:
        found = _FILTER.search(msg)
        what = f"the {found.group(1)} filter" if found else "the symbol's filters"
        return errors.InvalidOrder(
            f"{said}: the order breaks {what}; see the market's limits (`client.market(...)`)",
            exchange=EXCHANGE,
            code=code,
        )
    if -1199 <= code <= -1100:
        found = _PARAM.search(msg)
        what = f"parameter {found.group(1)!r}" if found else "a parameter"
        cls = errors.InvalidOrder if path in ORDER_PATHS else errors.BadRequest
        return cls(f"{said}: fix {what}", exchange=EXCHANGE, code=code)
    if status >= 500:
        return errors.ExchangeUnavailable(
            f"{said}: {_UNAVAILABLE_ADVICE}", exchange=EXCHANGE, code=code
        )
    return errors.ExchangeError(said, exchange=EXCHANGE, code=code)


def _order_rejected(code: int, msg: str, said: str) -> errors.XestError:
    low = msg.lower()
    if "insufficient balance" in low:
        return errors.InsufficientFunds(
            f"{said}: the account lacks the funds for this order", exchange=EXCHANGE, code=code
        )
    if "duplicate order" in low:
        return errors.DuplicateOrder(
            f"{said}: that client order id is already in use", exchange=EXCHANGE, code=code
        )
    if "unknown order" in low:
        return errors.OrderNotFound(f"{said}: no such order", exchange=EXCHANGE, code=code)
    if "market is closed" in low:
        return errors.InvalidOrder(
            f"{said}: the market is not trading now", exchange=EXCHANGE, code=code
        )
    return errors.InvalidOrder(f"{said}: the order was rejected", exchange=EXCHANGE, code=code)


def _convert_error(code: int, msg: str, said: str) -> errors.XestError | None:
    """Convert errors are told apart by their text: Binance documents no code table for them."""
    low = msg.lower()
    if "expire" in low:
        return errors.QuoteExpired(f"{said}: ask for a new quote", exchange=EXCHANGE, code=code)
    if _SPENT.search(low):
        return errors.QuoteAlreadyExecuted(
            f"{said}: a quote executes once; ask for a new quote", exchange=EXCHANGE, code=code
        )
    if "insufficient" in low or "not enough" in low:
        return errors.InsufficientFunds(
            f"{said}: not enough funds to convert", exchange=EXCHANGE, code=code
        )
    if "quote" in low and ("invalid" in low or "not exist" in low or "not found" in low):
        return errors.InvalidQuote(f"{said}: no such quote", exchange=EXCHANGE, code=code)
    return None


def _rate_limited(
    status: int, code: int | None, msg: str, headers: Mapping[str, str], now: float | None
) -> errors.RateLimited:
    now = time.time() if now is None else now
    retry_after = retry_after_seconds(headers)
    ban_until: float | None = None
    if status == 418 or "banned until" in msg:
        found = _BAN_UNTIL.search(msg)
        if found:
            ban_until = int(found.group(1)) / 1000
        elif retry_after is not None:
            ban_until = now + retry_after
        if retry_after is None and ban_until is not None:
            retry_after = max(0.0, ban_until - now)
    told = f"Binance says {code} {msg!r}" if code is not None else f"Binance answered {status}"
    if ban_until is not None:
        text = (
            f"{told}: this IP is banned (HTTP 418) until "
            f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(ban_until))}; "
            "make no calls to Binance before then"
        )
    else:
        text = f"{told}: too much request weight; wait {retry_after or 'a while'} s"
    return errors.RateLimited(
        text,
        exchange=EXCHANGE,
        code=code if code is not None else status,
        retry_after=retry_after,
        ban_until=ban_until,
    )
