"""Quotes shared by every process on the machine: the quotes a process asked for (so another
can accept one by id) and the ids already executed (so no process executes one twice).

Files under the xest home (``quotes/``), next to the cache: an executed id is a file created
with ``O_EXCL``, which exactly one process can do. Nothing secret is written: accounts are
named by a hash of their API key, quotes hold what the exchange offered (id, symbol, side,
amount, price, expiry).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from xest import errors
from xest.models import Quote

__all__ = ["claim", "recall", "remember"]


def _dir(exchange: str, key: str | None, *parts: str) -> Path:
    from xest.http.storage import private_dir

    account = hashlib.sha256((key or "").encode()).hexdigest()[:16]
    return private_dir("quotes", exchange, account, *parts)


def _name(quote_id: str) -> str:
    return hashlib.sha256(quote_id.encode()).hexdigest()[:32]


def remember(exchange: str, key: str | None, quote: Quote) -> None:
    """Keep ``quote`` so that another process can accept it by id (best effort)."""
    record = {
        "id": quote.id,
        "symbol": quote.symbol,
        "side": quote.side.value,
        "amount": str(quote.amount),
        "price": str(quote.price),
        "cost": str(quote.cost),
        "expires_at": quote.expires_at.isoformat(),
        "created_at": quote.created_at.isoformat() if quote.created_at else None,
    }
    try:
        path = _dir(exchange, key, "open") / f"{_name(quote.id)}.json"
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(path)
    except (OSError, errors.ConfigError):
        pass


def recall(exchange: str, key: str | None, quote_id: str) -> Quote | None:
    """The quote ``quote_id`` some process asked for on this account, or None."""
    try:
        path = _dir(exchange, key, "open") / f"{_name(quote_id)}.json"
        record = json.loads(path.read_text())
    except (OSError, ValueError, errors.ConfigError):
        return None
    if record.get("id") != quote_id:
        return None
    return Quote(
        id=record["id"],
        symbol=record["symbol"],
        side=record["side"],
        amount=record["amount"],
        price=record["price"],
        cost=record["cost"],
        expires_at=datetime.fromisoformat(record["expires_at"]),
        created_at=(
            datetime.fromisoformat(record["created_at"]) if record.get("created_at") else None
        ),
    )


def claim(exchange: str, key: str | None, quote_id: str) -> None:
    """Mark ``quote_id`` executed, machine-wide, before its acceptance is sent;
    QuoteAlreadyExecuted when some process (this one included) already did."""
    path = _dir(exchange, key, "executed") / _name(quote_id)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise errors.QuoteAlreadyExecuted(
            f"quote {quote_id} was already accepted (by this or another process); "
            "a quote executes at most once: ask for a new one",
            exchange=exchange,
        ) from None
    except OSError:
        return  # an unwritable home must not block trading; the in-process check still holds
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
