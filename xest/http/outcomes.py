"""What came back: a decoded :class:`Response`, or the typed xest error for what went wrong.

Every message names the host and the endpoint's path (never the query, which may carry a
signature) and is passed through :func:`~xest.http.redact.redact`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xest import errors
from xest.http.endpoint import Endpoint, Response
from xest.http.redact import redact

if TYPE_CHECKING:
    import urllib3

# An exponent past 10^±400 is no price or amount, but makes float() overflow. (Integers are
# bounded by Python itself: over 4300 digits int() raises ValueError.)
MAX_EXPONENT = 400


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _exact_float(text: str) -> Decimal:
    value = Decimal(text)
    if abs(value.adjusted()) > MAX_EXPONENT:
        raise ValueError(f"number {text[:40]!r} is out of range")
    return value


_decoder = json.JSONDecoder(parse_float=_exact_float, parse_constant=_refuse_constant)


def decode_json(text: str | bytes) -> Any:
    """JSON with exact numbers: floats become Decimal, integers stay exact ints.

    Strict where Python's json is lenient: ``NaN``/``Infinity``, numbers out of any sane range
    and nesting deeper than the interpreter can follow raise ValueError, like any other
    malformed JSON (the transport turns that into BadResponse).
    """
    if not isinstance(text, str):
        text = text.decode(json.detect_encoding(text), "replace")  # UTF-8/16/32, as json.loads
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


GatewayError = errors.GatewayError  # kept importable from here; it lives with the others


def decode_response(
    exchange: str,
    host: str,
    endpoint: Endpoint,
    raw: urllib3.BaseHTTPResponse,
    body: bytes,
    elapsed: float,
    secrets: set[str],
) -> Response:
    """The decoded answer; BadResponse (GatewayError for a 5xx) if the body is not JSON."""
    text = body.decode("utf-8", errors="replace")
    status = raw.status
    try:
        data = decode_json(text)
    except ValueError:
        shown = redact(snippet(text), secrets)
        del text, body, raw  # the server may echo the request: keep it out of frame locals
        if status >= 500:
            raise GatewayError(
                f"{host} answered HTTP {status} to {endpoint.path} with a body that is not JSON: "
                f"{shown!r}; try again later",
                exchange=exchange,
                code=status,
            ) from None
        raise errors.BadResponse(
            f"{host} answered {endpoint.path} with HTTP {status} and a body that is not JSON: "
            f"{shown!r}",
            exchange=exchange,
            code=status,
        ) from None
    return Response(
        status=status, headers=raw.headers, data=data, endpoint=endpoint, elapsed=elapsed, text=text
    )


def status_error(
    exchange: str, host: str, endpoint: Endpoint, response: Response, secrets: set[str]
) -> errors.XestError | None:
    """The error for an HTTP error status the connector's ``check`` did not map, or None."""
    status = response.status
    if status >= 500:
        return errors.ExchangeUnavailable(
            f"{host} answered HTTP {status} to {endpoint.path}; try again later",
            exchange=exchange,
            code=status,
        )
    if status >= 400:
        return errors.ExchangeError(
            f"HTTP {status} from {endpoint.path}: {redact(snippet(response.text), secrets)}",
            exchange=exchange,
            code=status,
        )
    return None


def network_error(
    exchange: str, host: str, endpoint: Endpoint, exc: BaseException, secrets: set[str]
) -> tuple[errors.NetworkError, bool]:
    """The typed error for a failed exchange of packets, and whether a retry is safe."""
    import urllib3.exceptions as exs  # loaded by the failed call already

    reason = redact(_reason(exc), secrets)
    if isinstance(exc, exs.NewConnectionError | exs.NameResolutionError):
        # Checked first: urllib3 files refused connections under connect timeouts.
        return errors.ExchangeUnavailable(
            f"could not reach {host} ({reason}); check the URL and your network",
            exchange=exchange,
        ), True
    if isinstance(exc, exs.ConnectTimeoutError):
        return errors.RequestTimeout(
            f"could not connect to {host} in time; check your network, or raise the connect "
            "timeout",
            exchange=exchange,
        ), True
    if isinstance(exc, exs.TimeoutError | TimeoutError):
        # Not retried: the server may be slow under load, and a retry would multiply the wait.
        return errors.RequestTimeout(
            f"{host} did not answer {endpoint.path} in time; try again, or raise the timeout",
            exchange=exchange,
        ), False
    if "WRONG_VERSION_NUMBER" in reason or "record layer failure" in reason:
        # https:// to a port that speaks plain HTTP: no retry will help, the URL is wrong.
        return errors.ExchangeUnavailable(
            f"{host} does not speak TLS (https://) on this port: it looks like plain HTTP; "
            "use an http:// URL, or the exchange's TLS port",
            exchange=exchange,
            code="tls_to_plain_port",
        ), False
    if endpoint.retry:
        message = f"the connection to {host} broke ({reason}); try again"
    else:
        message = (
            f"the connection to {host} broke while calling {endpoint.path} ({reason}); the "
            "request may have been executed: check (e.g. look the order up by its client order "
            "id) before sending it again"
        )
    return errors.ExchangeUnavailable(message, exchange=exchange), True


def try_decode(
    raw: urllib3.BaseHTTPResponse, body: bytes, endpoint: Endpoint, elapsed: float
) -> Response:
    """The answer with its JSON decoded if it is JSON (``data`` None otherwise)."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = decode_json(text)
    except ValueError:
        data = None
    return Response(
        status=raw.status,
        headers=raw.headers,
        data=data,
        endpoint=endpoint,
        elapsed=elapsed,
        text=text,
    )


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    return str(reason).split(": ", 1)[-1][:120]


def snippet(text: str) -> str:
    """The first 200 characters, whitespace folded."""
    return " ".join(text.split())[:200]
