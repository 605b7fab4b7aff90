"""The transport layer: exchange-agnostic HTTP with pooling, caching, limiting and retries.

The endpoint declarations load light; ``Transport`` (and urllib3 with it) loads on first use,
so registering connectors and listing plugins never pays for the HTTP stack.
"""

from typing import TYPE_CHECKING, Any

from xest.http.endpoint import (
    DecayingCounter,
    Endpoint,
    PreparedRequest,
    RateLimitPolicy,
    Response,
    SigningContext,
    WeightWindow,
)
from xest.http.validity import current_placement, record_window
from xest.http.wire import plain_decimal, wire_value

if TYPE_CHECKING:
    from xest.http.limiter import retry_after_seconds
    from xest.http.outcomes import GatewayError, decode_json
    from xest.http.transport import Transport

__all__ = [
    "DecayingCounter",
    "Endpoint",
    "GatewayError",
    "PreparedRequest",
    "RateLimitPolicy",
    "Response",
    "SigningContext",
    "Transport",
    "WeightWindow",
    "current_placement",
    "decode_json",
    "plain_decimal",
    "record_window",
    "retry_after_seconds",
    "wire_value",
]


def __getattr__(name: str) -> Any:
    if name in ("Transport", "decode_json", "GatewayError"):
        from xest.http import transport

        return getattr(transport, name)
    if name == "retry_after_seconds":
        from xest.http.limiter import retry_after_seconds

        return retry_after_seconds
    raise AttributeError(f"module 'xest.http' has no attribute {name!r}")
