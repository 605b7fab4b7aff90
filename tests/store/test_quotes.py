"""A quote executes once across processes sharing an API key: the store's claim is taken before
the acceptance leaves (directory store on one machine, Redis across machines)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

import xest
from xest import errors, registry
from xest.http import store


@pytest.fixture(params=["directory", "redis"])
def shared(request, monkeypatch):
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.flush()
        monkeypatch.setenv("XEST_STORE", server.url)
    store.reset()
    yield request.param
    store.reset()


@pytest.fixture
def binance():
    if "binance" not in registry.simulators():
        pytest.skip("the Binance simulator is not installed")
    sim = registry.simulator_factory("binance")().start()
    try:
        yield sim
    finally:
        sim.stop()


def test_two_processes_accepting_one_quote_send_one_acceptance(shared, binance, monkeypatch):
    key, secret = binance.demo_credentials()
    host = binance.url.split("://")[1]
    port = host.rsplit(":", 1)[1]
    # Two clients with registries of their own (another URL spelling of the same simulator),
    # as two processes would have; each claims as a process of its own.
    first = xest.open("binance", url=binance.url, key=key, secret=secret, cache=False)
    other = xest.open(
        "binance", url=f"http://localhost:{port}", key=key, secret=secret, cache=False
    )
    owners = {}

    def as_owner(name, fn):
        def run():
            owners[threading.get_ident()] = name
            return fn()

        return run

    real_owner = store.owner
    monkeypatch.setattr(store, "owner", lambda: owners.get(threading.get_ident(), real_owner()))
    try:
        quote = first.quote("BTC/USDT", "buy", Decimal("0.01"), valid_for=timedelta(seconds=30))
        accept = "/sapi/v1/convert/acceptQuote"
        before = binance.hits[accept]
        results, barrier = [], threading.Barrier(2)

        def go(client, name):
            barrier.wait()
            try:
                results.append(("ok", client.accept_quote(quote.snapshot).id))
            except errors.XestError as exc:
                results.append((type(exc).__name__, str(exc)))

        threads = [
            threading.Thread(target=as_owner(n, lambda c=c, n=n: go(c, n)))
            for c, n in ((first, "process-1"), (other, "process-2"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert binance.hits[accept] - before == 1, results
        # The loser learns the winner's order (found by the quote), or is told it executed.
        kinds = sorted(kind for kind, _ in results)
        assert kinds in (["ok", "ok"], ["QuoteAlreadyExecuted", "ok"]), results
        if kinds == ["ok", "ok"]:
            assert results[0][1] == results[1][1]
    finally:
        first.close()
        other.close()
