"""What the tests count on the simulators' side."""

from __future__ import annotations

# The requests that trade: place, cancel, quote, accept (Kraken derives quotes from the book).
TRADING_PATHS = {
    "/0/private/AddOrder",
    "/0/private/CancelOrder",
    "/api/v3/order",
    "/sapi/v1/convert/getQuote",
    "/sapi/v1/convert/acceptQuote",
}
ORIGIN = "http://127.0.0.1:8750"
TOKEN = "test-token-" + "x" * 32


def trading_hits(hub) -> int:
    """Trading requests the simulators received so far."""
    return sum(
        n
        for entry in hub.exchanges.values()
        for path, n in entry.simulator.hits.items()
        if path in TRADING_PATHS
    )


def accept_hits(hub) -> int:
    """Acceptances sent: Binance's acceptQuote, Kraken's AddOrder (a quote executes as IOC)."""
    return sum(
        entry.simulator.hits.get(path, 0)
        for entry in hub.exchanges.values()
        for path in ("/sapi/v1/convert/acceptQuote", "/0/private/AddOrder")
    )
