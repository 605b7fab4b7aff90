"""Issue 15.11 replayed on both simulators: a process killed after its orders reached the
exchange but before it learned their outcome; the next account agent to start knows every one
of them, finished or still open."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

import xest
from xest import registry
from xest.http.limiter import RateLimiter

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork"),
]

SETUP = {"kraken": ("BTC/USD", "1000.0"), "binance": ("BTC/USDT", "1000.00")}


def _client(exchange, sim):
    key, secret = sim.demo_credentials()
    limiter = RateLimiter(exchange, sim.url.split("://")[1], {})
    return xest.open(exchange, url=sim.url, key=key, secret=secret, cache=False, limiter=limiter)


@pytest.mark.parametrize("exchange", sorted(SETUP))
def test_a_restarted_agent_knows_every_order_a_killed_process_placed(exchange):
    if exchange not in registry.simulators():
        pytest.skip(f"no {exchange} simulator installed")
    symbol, rest = SETUP[exchange]
    sim = registry.simulator_factory(exchange)().start()
    try:
        planned = []
        for i in range(12):  # market orders finish at once; limit orders far below rest
            kind = "market" if i % 2 else "limit"
            price = None if kind == "market" else Decimal(rest) + i
            planned.append((kind, price))
        client = _client(exchange, sim)
        requests = [
            client.account.prepare_order(symbol, "buy", kind, Decimal("0.01"), price)
            for kind, price in planned
        ]
        for request in requests:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child: dies once the order has landed
                try:
                    child = _client(exchange, sim)
                    child.account.journal.close = lambda client_id: os._exit(0)
                    child.account.submit(request)
                finally:
                    os._exit(1)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
        client.close()

        restarted = _client(exchange, sim)
        agent = restarted.account
        assert len(agent.journal.orphans()) == 12
        agent.start()
        try:
            assert agent.journal.orphans() == []
            for request in requests:
                found = agent.registry.find(None, client_id=request.client_id)
                assert found is not None, request.client_id
                assert found.amount == request.amount
            finished = [
                r for r, (kind, _) in zip(requests, planned, strict=True) if kind == "market"
            ]
            assert all(agent.registry.find(None, client_id=r.client_id).is_final for r in finished)
        finally:
            restarted.close()
    finally:
        sim.stop()
