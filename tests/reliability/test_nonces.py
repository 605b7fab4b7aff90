"""Issue 15.3: nonces the exchange accepts under concurrency. Against the Kraken simulator
(which refuses any nonce not above the last one it saw for the key, as Kraken does with no
nonce window): 8 processes x 200 signed calls, and 32 threads, one key: 0 refusals.

The refusals are counted at the simulator, so the transport's one retry of a refused nonce on
a read cannot hide them."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from xest import registry

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("nonce_worker.py")


@pytest.fixture
def kraken():
    if "kraken" not in registry.simulators():
        pytest.skip("no kraken simulator installed")
    sim = registry.simulator_factory("kraken")().start()
    refused = []
    real = sim.authenticate

    def counting(request):
        try:
            return real(request)
        except Exception as exc:
            refused.append(str(exc))
            raise

    sim.authenticate = counting
    yield sim, refused
    sim.stop()


def test_eight_processes_sharing_a_key_get_no_nonce_refused(kraken):
    sim, refused = kraken
    key, secret = sim.demo_credentials()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), sim.url, key, secret, "200"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    failures = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        failures.append(int(out.split()[-1]))
    assert refused == [] and failures == [0] * 8
    assert sim.hits["/0/private/BalanceEx"] == 1600


def test_thirty_two_threads_sharing_a_key_get_no_nonce_refused(kraken):
    sys.path.insert(0, str(WORKER.parent))
    from nonce_worker import connector

    sim, refused = kraken
    c = connector(sim.url, *sim.demo_credentials())
    errors_seen = []
    barrier = threading.Barrier(32)

    def work():
        barrier.wait()
        for _ in range(40):
            try:
                c.balances()
            except Exception as exc:
                errors_seen.append(exc)

    threads = [threading.Thread(target=work) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert refused == [] and errors_seen == []
    assert sim.hits["/0/private/BalanceEx"] == 1280
