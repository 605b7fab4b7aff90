"""How a connector describes its exchange to the transport, and what the transport hands back.

A connector declares each endpoint once (:class:`Endpoint`) and its rate-limit policies; the
transport does pooling, caching, limiting, retries, signing calls and error typing from that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from xest import errors


def _upper(method: str) -> str:
    return method.upper()


# ``{name}`` in a path: a parameter filled from the call's params (letters, digits, ``_``).
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def path_names(path: str) -> tuple[str, ...]:
    """The ``{name}`` placeholders of a path template, in order."""
    return tuple(_PLACEHOLDER.findall(path))


@attrs.frozen
class Endpoint:
    """One REST endpoint of an exchange.

    ``cost`` is what one call spends from the rate-limit ``bucket`` (Kraken counter points,
    Binance request weight). ``ttl`` is how long an answer may be served from the shared cache,
    in seconds; ``None`` means never cached. Signed endpoints are never cached, whatever ``ttl``
    says. ``retry`` says whether a lost answer may be retried blindly: true by default for
    GET/HEAD only; give ``retry=True`` to a POST that only reads (many exchanges read private
    data by POST), never to one that changes state.

    ``path`` may hold ``{name}`` placeholders (``"/api/v2/ticker/{pair}/"``): each is filled
    from the call's parameter of that name, URL-escaped (``/`` included), and that parameter
    is not sent again in the query or body. A missing one raises BadRequest. The filled path is
    what is sent, cached under and logged.
    """

    name: str
    method: str = attrs.field(converter=_upper)
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

    @property
    def path_params(self) -> tuple[str, ...]:
        """The names of the ``{name}`` placeholders in ``path`` (empty for a fixed path)."""
        return path_names(self.path)

    def fill(self, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The path with its placeholders filled from ``params``, and the params left over.

        ``fill({"pair": "btcusd", "limit": 5})`` on ``/ticker/{pair}/`` gives
        ``("/ticker/btcusd/", {"limit": 5})``. Values are URL-escaped; a missing or ``None``
        value raises BadRequest naming it."""
        if "{" not in self.path:
            return self.path, dict(params)
        rest = dict(params)

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            given = rest.pop(name, None)
            if given is None or given == "":
                raise errors.BadRequest(
                    f"{self.name} needs the path parameter {name!r} ({self.method} {self.path}); "
                    f"pass it in params, e.g. {{{name!r}: ...}}"
                )
            return quote(str(given), safe="")

        return _PLACEHOLDER.sub(value, self.path), rest


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
