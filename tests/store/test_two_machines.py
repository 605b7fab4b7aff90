"""Two "machines" (separate cache directories) x 4 processes of signed Kraken calls through one
Redis, against the Kraken simulator, with the Redis server killed and restarted in the middle:
no nonce repeated, none refused, no order lost, the shared budget kept (counted server-side),
clear errors while Redis is down. The x200 run with figures is bench/bench_store.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from xest import registry

MACHINE = Path(__file__).with_name("machine.py")
CALLS = 40
# A fast budget, so that the run takes seconds, not hours (Kraken's own decays 0.33 to 1 per
# second); still slow against the queue of the send order, as Kraken's is.
MAXIMUM, DECAY = 20.0, 50.0


def record(sim) -> list[tuple[float, str, str, str]]:
    """(arrival, nonce, verdict, path) of every signed request the simulator checks."""
    seen: list[tuple[float, str, str, str]] = []
    original = sim.authenticate

    def authenticate(request):
        arrival = time.monotonic()
        try:
            account = original(request)
        except Exception as exc:
            seen.append((arrival, request.form.get("nonce", ""), str(exc), request.path))
            raise
        seen.append((arrival, request.form.get("nonce", ""), "ok", request.path))
        return account

    sim.authenticate = authenticate
    return seen


def highest_level(arrivals: list[float], maximum: float, decay: float) -> float:
    level, last = 0.0, None
    peak = 0.0
    for t in sorted(arrivals):
        if last is not None:
            level = max(0.0, level - decay * (t - last))
        level += 1
        last = t
        peak = max(peak, level)
    return peak


@pytest.fixture
def kraken_sim():
    if "kraken" not in registry.simulators():
        pytest.skip("the Kraken simulator is not installed")
    sim = registry.simulator_factory("kraken")().start()
    try:
        yield sim
    finally:
        sim.stop()


def test_two_machines_through_redis_killed_and_restarted(own_redis, kraken_sim, tmp_path):
    seen = record(kraken_sim)
    key, secret = kraken_sim.demo_credentials()
    args = [kraken_sim.url, key, secret, str(CALLS), str(MAXIMUM), str(DECAY)]
    procs = []
    for machine in ("m1", "m2"):
        env = {
            **os.environ,
            "XEST_CACHE_DIR": str(tmp_path / machine),
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        for i in range(4):
            cmd = [sys.executable, str(MACHINE), "kraken", own_redis.url, "0", str(i), *args]
            procs.append(
                subprocess.Popen(
                    cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
                )
            )

    def outage():
        # Kill Redis once the run is under way, and bring it back (empty) a second later.
        deadline = time.monotonic() + 30
        while len(seen) < 8 * CALLS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        own_redis.stop()
        time.sleep(1.0)
        own_redis.start()

    killer = threading.Thread(target=outage)
    killer.start()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out)
    killer.join()
    lines = Counter(line.split()[0] for out in outputs for line in out.splitlines())
    placed = [line.split()[1] for out in outputs for line in out.splitlines() if "placed" in line]

    assert lines["invalid-nonce"] == 0
    assert lines["ok"] + lines["placed"] == 8 * CALLS
    assert lines["down"] > 0  # the outage was seen, as StoreUnavailable naming XEST_STORE
    nonces = [int(n) for _, n, *_ in seen]
    assert len(nonces) == len(set(nonces)) == 8 * CALLS  # nothing sent while Redis was down
    assert all(verdict == "ok" for _, _, verdict, _ in seen)
    # No order lost or unknown: every placement the workers saw is at the exchange, and no other.
    (account,) = [a for a in kraken_sim.accounts.values() if a.key == key]
    assert sorted(placed) == sorted(account.orders) and len(placed) == 8 * (CALLS // 10)
    # The shared budgets held, counted where the exchange counts: at arrival (Kraken counts
    # orders on a counter of their own).
    for orders in (False, True):
        arrivals = [t for t, _, _, path in seen if path.endswith("AddOrder") == orders]
        assert highest_level(arrivals, MAXIMUM, DECAY) <= MAXIMUM + 1
