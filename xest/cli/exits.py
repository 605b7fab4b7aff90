"""Exit codes by kind of failure, and the JSON object an error becomes under ``--json``.

A script can tell what went wrong from the code alone:

====  =====================================================================================
code  meaning
====  =====================================================================================
0     success
1     unexpected failure (a bug: run again with --debug), or aborted at a prompt
2     usage: a wrong argument or option (bad URL, --sim with --url, a malformed amount)
3     configuration or credentials: config file, account, missing or rejected keys
4     network or exchange unavailable: unreachable, timed out, rate limited, maintenance,
      or the shared store (``XEST_STORE``) unreachable
5     the exchange refused the request (insufficient funds, invalid order, expired quote...)
6     not found: unknown symbol, order, quote, exchange or simulator
7     still waiting: ``--wait`` timed out before the order was final
130   interrupted (Ctrl-C)
====  =====================================================================================
"""

from __future__ import annotations

from typing import Any

OK, UNEXPECTED, USAGE, CONFIG, NETWORK, REFUSED, NOT_FOUND, WAIT_TIMEOUT = range(8)
INTERRUPTED = 130

KINDS = {
    OK: "ok",
    UNEXPECTED: "unexpected",
    USAGE: "usage",
    CONFIG: "config",
    NETWORK: "network",
    REFUSED: "refused",
    NOT_FOUND: "not_found",
    WAIT_TIMEOUT: "wait_timeout",
    INTERRUPTED: "interrupted",
}


# Codes xest itself gives to "no such thing" errors of other classes.
_NOT_FOUND_CODES = ("unknown_quote", "sim_not_running", "unknown_exchange")


def code_for(exc: BaseException) -> int:
    """The exit code of an exception (see the module's table)."""
    import click

    from xest import errors

    if isinstance(exc, errors.UsageError | click.UsageError):
        return USAGE
    if isinstance(exc, errors.BadSymbol | errors.OrderNotFound):
        return NOT_FOUND
    if isinstance(exc, errors.XestError) and exc.code in _NOT_FOUND_CODES:
        return NOT_FOUND
    if isinstance(exc, errors.ConfigError | errors.PluginError):
        return CONFIG
    if isinstance(exc, errors.AuthenticationError | errors.PermissionDenied):
        return CONFIG
    if isinstance(exc, errors.NetworkError | errors.GatewayError | errors.StoreUnavailable):
        return NETWORK  # the shared store (XEST_STORE) unreachable is one too
    if isinstance(exc, errors.BadResponse):
        return NETWORK  # the answer was not the exchange's: trying later may work
    if isinstance(exc, errors.ExchangeError | errors.NotSupported):
        return REFUSED
    if isinstance(exc, errors.XestError):
        return REFUSED
    return UNEXPECTED


def error_object(exc: BaseException, code: int | None = None) -> dict[str, Any]:
    """What ``--json`` prints on stderr for a failure (schema ``xest.error/1``)."""
    from xest import errors

    code = code_for(exc) if code is None else code
    exchange = getattr(exc, "exchange", None)
    raw_code = getattr(exc, "code", None) if isinstance(exc, errors.XestError) else None
    if raw_code is not None and not isinstance(raw_code, str | int):
        raw_code = str(raw_code)
    message = exc.message if isinstance(exc, errors.XestError) else str(exc)
    if hasattr(exc, "format_message"):  # click's usage errors
        message = exc.format_message()
    return {
        "type": type(exc).__name__,
        "kind": KINDS.get(code, "unexpected"),
        "message": message,
        "exchange": exchange,
        "code": raw_code,
        "exit_code": code,
    }
