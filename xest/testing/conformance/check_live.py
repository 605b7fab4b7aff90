"""Live mode (``--xest-live``): the read-only checks against the real exchange.

Opt-in, because it uses the network. Credentials for the private reads come from the usual
account configuration (``XEST_<NAME>_KEY`` / ``XEST_<NAME>_SECRET``); nothing is ever placed.
"""

from __future__ import annotations

import os
import time

import pytest

from xest.models import Balance, ExchangeStatus, Market, OrderBook, ServerTime, Ticker
from xest.testing.conformance import invariants as inv
from xest.testing.conformance.harness import WATCHDOG, Harness, guarded

READS = ("status", "server_time", "markets", "ticker", "order_book", "balances", "open_orders")
KINDS = {
    "status": ExchangeStatus,
    "server_time": ServerTime,
    "markets": list,
    "ticker": Ticker,
    "order_book": OrderBook,
    "balances": dict,
    "open_orders": list,
}


@pytest.fixture(scope="session")
def live_client(request: pytest.FixtureRequest, xest_harness: Harness):
    if not xest_harness.live:
        pytest.skip("live checks run only with --xest-live (they call the real exchange)")
    import xest

    account = request.config.getoption("xest_account")
    client = xest.open(xest_harness.name, account, cache=False)
    yield client
    client.close()


def test_live_reads(xest_harness: Harness, live_client):
    h = xest_harness
    prefix = f"XEST_{h.name.upper().replace('-', '_')}_"
    problems: list[str] = []
    checked = []
    for operation in READS:
        if not h.declares(operation):
            continue
        if operation in ("balances", "open_orders") and live_client.connector.credentials is None:
            problems_note = f"no credentials ({prefix}KEY, {prefix}SECRET): {operation} skipped"
            checked.append(problems_note)
            continue
        problems += _check(live_client, operation, prefix)
        checked.append(operation)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
    assert checked, f"{h.name} declares none of {', '.join(READS)}"


def _check(client, operation: str, prefix: str) -> list[str]:
    args: tuple = ()
    if operation in ("ticker", "order_book"):
        markets = guarded(client.connector.markets, "markets", WATCHDOG)
        active = [m for m in markets if m.active]
        args = (os.environ.get(f"{prefix}LIVE_SYMBOL") or active[0].symbol,)
    result = guarded(getattr(client.connector, operation), operation, WATCHDOG, *args)
    if not isinstance(result, KINDS[operation]):
        return [f"{operation}() returned {type(result).__name__}"]
    problems = inv.value_problems(result, f"{operation}()")
    if operation == "server_time":
        skew = abs(result.time.timestamp() - time.time())
        if skew > 300:
            problems.append(f"server time is {skew:.0f} s from this machine's clock")
    if operation == "markets":
        problems += [f"{m!r} is not a Market" for m in result if not isinstance(m, Market)]
    if operation == "order_book":
        problems += inv.book_problems(result)
    if operation == "balances":
        problems += inv.balance_problems(result)
        problems += [
            f"{b!r} is not a Balance" for b in result.values() if not isinstance(b, Balance)
        ]
    return problems
