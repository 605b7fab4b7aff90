"""One error hierarchy for everything xest raises.

Every class is rooted at :class:`XestError`. Connectors map each exchange error code they know
to one of these classes, so callers can write ``except xest.errors.InsufficientFunds`` once and
have it work for every exchange. Messages say what happened and what to do about it; they never
contain secrets (keys, signatures, signed bodies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = [
    "AuthenticationError",
    "BadRequest",
    "BadResponse",
    "BadSymbol",
    "ConfigError",
    "DuplicateOrder",
    "ErrorTable",
    "ExchangeError",
    "ExchangeUnavailable",
    "GatewayError",
    "InsufficientFunds",
    "InvalidNonce",
    "InvalidOrder",
    "InvalidQuote",
    "NetworkError",
    "NotSupported",
    "OnMaintenance",
    "OrderNotFound",
    "OrderStateUnknown",
    "PermissionDenied",
    "PluginError",
    "QuoteAlreadyExecuted",
    "QuoteExpired",
    "RateLimited",
    "RequestTimeout",
    "StoreUnavailable",
    "TruncatedWarning",
    "UsageError",
    "XestError",
    "missing_credentials",
]


class XestError(Exception):
    """Root of every error xest raises.

    ``exchange`` names the exchange involved, when there is one; ``code`` keeps the exchange's
    own error code or text, so nothing the exchange said is lost in translation.
    """

    def __init__(self, message: str, *, exchange: str | None = None, code: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.code = code

    def __str__(self) -> str:
        if self.exchange and not self.message.startswith(f"{self.exchange}:"):
            return f"{self.exchange}: {self.message}"
        return self.message


class ConfigError(XestError):
    """The configuration (config file, environment, arguments) is wrong or incomplete."""


class UsageError(ConfigError):
    """An argument is malformed (a URL without a scheme, --sim with --url): nothing was sent."""


class PluginError(XestError):
    """A plugin could not be loaded, or registered something invalid."""


class NotSupported(XestError):
    """The connector does not declare the requested operation."""


class BadSymbol(XestError):
    """The symbol is not a market of this exchange."""


class ExchangeError(XestError):
    """The exchange answered, and refused or failed the request."""


class AuthenticationError(ExchangeError):
    """The API key or signature was rejected."""


class PermissionDenied(ExchangeError):
    """The API key is valid but lacks the permission for this operation."""


class InsufficientFunds(ExchangeError):
    """The account does not hold enough of an asset for this operation."""


class BadRequest(ExchangeError):
    """A request parameter was missing or malformed."""


class InvalidOrder(ExchangeError):
    """The exchange (or xest, before sending) refused an order's parameters."""


class OrderNotFound(InvalidOrder):
    """No order with this id exists on the exchange for this account."""


class DuplicateOrder(InvalidOrder):
    """An order with this client order id already exists."""


class InvalidQuote(ExchangeError):
    """The quote cannot be used."""


class QuoteExpired(InvalidQuote):
    """The quote's deadline has passed; ask for a new quote."""


class QuoteAlreadyExecuted(InvalidQuote):
    """The quote was already accepted once; a quote executes at most once."""


class BadResponse(ExchangeError):
    """The exchange's answer could not be understood (not JSON, truncated, unexpected shape)."""


class NetworkError(XestError):
    """The request did not get a usable answer; trying again later may succeed."""


class RequestTimeout(NetworkError):
    """The exchange did not answer within the timeout."""


class ExchangeUnavailable(NetworkError):
    """The exchange could not be reached, or answered that it is down or busy."""


class OnMaintenance(ExchangeUnavailable):
    """The exchange is in maintenance."""


class OrderStateUnknown(ExchangeUnavailable):
    """A placement got no usable answer and the exchange could not (yet) tell whether it has
    the order: nothing was sent again. ``client_id`` is what to look it up by."""

    def __init__(
        self,
        message: str,
        *,
        exchange: str | None = None,
        code: object = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange, code=code)
        self.client_id = client_id


class GatewayError(ExchangeUnavailable, BadResponse):
    """A 5xx answer whose body is not JSON (a proxy's or CDN's error page): the exchange is
    unavailable, and the answer is not one it wrote. Both ``except`` clauses catch it."""


class RateLimited(NetworkError):
    """Too many requests: wait ``retry_after`` seconds before the next one.

    ``ban_until`` is a UNIX time, set when the exchange banned this IP (Binance HTTP 418).
    """

    def __init__(
        self,
        message: str,
        *,
        exchange: str | None = None,
        code: object = None,
        retry_after: float | None = None,
        ban_until: float | None = None,
    ) -> None:
        super().__init__(message, exchange=exchange, code=code)
        self.retry_after = retry_after
        self.ban_until = ban_until


class InvalidNonce(NetworkError):
    """The nonce or timestamp was refused (not increasing, or outside the receive window)."""


class StoreUnavailable(XestError):
    """The shared store (``XEST_STORE``, e.g. a Redis server) cannot be reached. Reads go on
    without the shared cache; signed calls stop, rather than risk a repeated nonce or a second
    execution of a quote. Nothing was sent to the exchange."""


ErrorRule = tuple[type[XestError], str]  # (the class to raise, what the user should do)


class ErrorTable:
    """An exchange's error codes mapped onto xest errors, declared once.

    ``exact`` maps whole codes (``-2010``, ``"EOrder:Unknown order"``) to ``(class, advice)``;
    ``prefixes`` maps code prefixes (``"EOrder:"``) to the same, and the longest matching prefix
    wins whatever the declaration order; ``default`` is used when nothing matches. ``advice``
    says what to do and ends up in the message (``"<said>: <advice>"``)::

        TABLE = ErrorTable(
            "kraken",
            exact={"EOrder:Unknown order": (OrderNotFound, "check the order id")},
            prefixes=[("EOrder:", InvalidOrder, "fix the order and try again")],
        )
        raise TABLE.error("EOrder:Unknown order", "Kraken says EOrder:Unknown order")
    """

    def __init__(
        self,
        exchange: str,
        exact: Mapping[object, ErrorRule] | None = None,
        prefixes: Iterable[tuple[str, type[XestError], str]] = (),
        default: ErrorRule = (ExchangeError, "the exchange refused the request"),
    ) -> None:
        self.exchange = exchange
        self.exact: dict[object, ErrorRule] = dict(exact or {})
        rules = ((prefix, (cls, advice)) for prefix, cls, advice in prefixes)
        self.prefixes: tuple[tuple[str, ErrorRule], ...] = tuple(
            sorted(rules, key=lambda rule: -len(rule[0]))
        )
        self.default = default

    def classify(self, code: object) -> ErrorRule:
        """``(class, advice)`` for ``code``: an exact entry, else the longest prefix, else the
        default."""
        try:
            return self.exact[code]
        except (KeyError, TypeError):
            pass
        text = str(code)
        for prefix, rule in self.prefixes:
            if text.startswith(prefix):
                return rule
        return self.default

    def __contains__(self, code: object) -> bool:
        return self.classify(code) is not self.default

    def get(self, code: object) -> type[XestError] | None:
        """The class ``code`` maps to, or None when the table does not know it."""
        rule = self.classify(code)
        return None if rule is self.default else rule[0]

    def error(
        self, code: object, said: str, *, exchange: str | None = None, **extra: object
    ) -> XestError:
        """The error for ``code``: message ``"<said>: <advice>"``, ``.code`` = ``code``;
        ``exchange`` overrides the table's (a subclassed connector); ``extra`` goes to the
        class (``retry_after=`` for RateLimited)."""
        cls, advice = self.classify(code)
        message = f"{said}: {advice}" if advice else said
        return cls(message, exchange=exchange or self.exchange, code=code, **extra)


def missing_credentials(exchange: str, what: str = "this request") -> AuthenticationError:
    """The error for an operation that needs an account when none was given: it says, in the
    command line's words, how to give one (the variables named for this exchange)."""
    prefix = f"XEST_{exchange.upper().replace('-', '_')}"
    return AuthenticationError(
        f"{what} needs an account on {exchange}: pick one with --account NAME (see "
        f"`xest accounts list`), or set {prefix}_KEY and {prefix}_SECRET",
        exchange=exchange,
        code="no_credentials",
    )


class TruncatedWarning(UserWarning):
    """A list came back shorter than the exchange has it (a paging limit): the message says
    how many rows were read of how many, and how to read the rest."""
