"""The quotes a process asked for, kept so that another process on the machine can accept
one by id (``xest quote accept EXCHANGE QUOTE_ID``). Which quotes were already sent for
execution is the store's business (``store.executed_quotes``), not this module's.

Files under the xest home (``quotes/``), next to the cache. Nothing secret is written: accounts
are named by a hash of their API key, quotes hold what the exchange offered (id, symbol, side,
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

__all__ = ["recall", "remember"]


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
