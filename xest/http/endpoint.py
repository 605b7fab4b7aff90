"""How a connector describes its exchange to the transport, and what the transport hands back.

A connector declares each endpoint once (:class:`Endpoint`) and its rate-limit policies; the
transport does pooling, caching, limiting, retries, signing calls and error typing from that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs


@attrs.frozen
class Endpoint:
    """One REST endpoint of an exchange.

    ``cost`` is what one call spends from the rate-limit ``bucket`` (Kraken counter points,
    Binance request weight). ``ttl`` is how long an answer may be served from the shared cache,
    in seconds; ``None`` means never cached. Signed endpoints are never cached, whatever ``ttl``
    says. ``retry`` says whether a lost answer may be retried blindly: true for reads only.
    """

    name: str
    method: str = attrs.field(converter=str.upper)
    path: str
    signed: bool = False
    cost: float = 1
    bucket: str = "public"
    ttl: float | None = None
    retry: bool = attrs.field()

    @retry.default
    def _retry_default(self) -> bool:
        return self.method in ("GET", "HEAD")

    @property
    def cacheable(self) -> bool:
        return bool(self.ttl) and not self.signed and self.method == "GET"


@attrs.frozen
class DecayingCounter:
    """Kraken's policy: each call adds its cost to a counter that decays at ``decay`` per second;
    calls may not push it above ``maximum``. ``per_key``: the exchange counts per API key (as
    Kraken's private counters), so signed calls of each key have their own counter."""

    maximum: float
    decay: float
    per_key: bool = False


@attrs.frozen
class WeightWindow:
    """Binance's policy: at most ``limit`` weight per ``window`` seconds; ``header`` reports the
    weight used so far, and resynchronises the shared count. ``per_key`` as for
    :class:`DecayingCounter` (Binance's IP weight is per IP: leave it false there)."""

    limit: float
    window: float = 60.0
    header: str | None = None
    per_key: bool = False


RateLimitPolicy = DecayingCounter | WeightWindow


@attrs.define
class PreparedRequest:
    """A request about to be sent; a connector's ``sign`` hook may change any field.

    ``params`` go into the query string for GET/DELETE and into ``body`` (form-encoded) for POST,
    unless the signer has set ``body`` or ``query`` itself.
    """

    method: str
    url: str
    path: str
    params: dict[str, Any] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    query: str | None = None
    body: str | None = None


@attrs.frozen
class SigningContext:
    """What a signer may need besides the credentials: a nonce strictly increasing per API key
    across threads and processes, and the estimated server time in milliseconds."""

    nonce: Callable[[], int]
    timestamp_ms: Callable[[], int]


@attrs.frozen
class Response:
    """A decoded answer. ``data`` is the JSON body, decoded with ``parse_float=Decimal``."""

    status: int
    headers: Mapping[str, str]
    data: Any
    endpoint: Endpoint
    elapsed: float = 0.0
    from_cache: bool = False
    text: str = attrs.field(default="", repr=False)
