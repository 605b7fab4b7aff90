"""The shared rate limiter: policies, the exchange's verdicts (429, 418), and sharing."""

from __future__ import annotations

import time

import pytest
from httpsupport import STATUS, TIME, WEIGHTED, run_workers

from xest import errors
from xest.http import DecayingCounter, Transport, WeightWindow
from xest.http.limiter import RateLimiter, lease_calls
from xest.testing.server import Fault


class FakeTime:
    """A clock that only moves when the limiter sleeps."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def limiter(policies, clock: FakeTime, host: str = "h") -> RateLimiter:
    return RateLimiter("test", host, policies, clock=clock, sleep=clock.sleep)


def test_decaying_counter_waits_for_decay():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=3, decay=0.5)}, clock)
    for _ in range(3):
        assert lim.acquire("public", 1, max_wait=10) == 0
    assert clock.slept == []
    assert lim.acquire("public", 1, max_wait=10) == pytest.approx(2.0)  # 1 point at 0.5/s
    assert clock.slept == [2.0]
    clock.now += 6  # fully decayed
    for _ in range(3):
        assert lim.acquire("public", 1, max_wait=10) == 0


def test_costs_spend_more_budget():
    clock = FakeTime()
    lim = limiter({"private": DecayingCounter(maximum=4, decay=1)}, clock)
    lim.acquire("private", 2, max_wait=10)
    lim.acquire("private", 2, max_wait=10)
    assert lim.acquire("private", 2, max_wait=10) == pytest.approx(2.0)


def test_weight_window_waits_for_the_next_window():
    clock = FakeTime(start=6000.0 + 15)  # 15 s into a minute
    lim = limiter({"weight": WeightWindow(limit=100, window=60)}, clock)
    lim.acquire("weight", 60, max_wait=100)
    lim.acquire("weight", 40, max_wait=100)
    assert lim.acquire("weight", 1, max_wait=100) == pytest.approx(45.0)


def test_raise_instead_of_waiting_when_max_wait_is_zero():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=1, decay=0.25)}, clock)
    lim.acquire("public", 1, max_wait=0)
    with pytest.raises(errors.RateLimited, match=r"needs 4\.00 s more") as info:
        lim.acquire("public", 1, max_wait=0)
    assert info.value.retry_after == pytest.approx(4.0)
    assert clock.slept == []


def test_wait_is_bounded():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=1, decay=0.1)}, clock)
    lim.acquire("public", 1, max_wait=5)
    with pytest.raises(errors.RateLimited):
        lim.acquire("public", 1, max_wait=5)  # would need 10 s


def test_unknown_bucket_is_not_limited():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=1, decay=0.1)}, clock)
    for _ in range(5):
        assert lim.acquire("other", 1, max_wait=0) == 0


def test_used_weight_header_resynchronises_the_count(sim):
    policy = {"weight": WeightWindow(limit=100, window=60, header="X-MBX-USED-WEIGHT-1M")}
    t = Transport("echo", sim.url, rate_limits=policy, max_wait=0)
    sim.used_weight = 95  # other programs on this IP spent most of the minute's budget
    t.request(WEIGHTED)
    with pytest.raises(errors.RateLimited, match="'weight' budget"):
        t.request(WEIGHTED)
    assert sim.hits["/weighted"] == 1


def test_budget_is_shared_by_transports_in_a_process(sim):
    policy = {"public": DecayingCounter(maximum=2, decay=1e-6)}
    a = Transport("echo", sim.url, rate_limits=policy, max_wait=0)
    b = Transport("echo", sim.url, rate_limits=policy, max_wait=0)
    a.request(TIME)
    b.request(TIME)
    with pytest.raises(errors.RateLimited):
        a.request(TIME)
    assert sim.hits["/time"] == 2


def test_cache_hits_spend_no_budget(sim):
    policy = {"public": DecayingCounter(maximum=1, decay=1e-6)}
    t = Transport("echo", sim.url, rate_limits=policy, max_wait=0)
    for _ in range(5):
        t.request(STATUS)
    assert sim.hits["/status"] == 1


def test_budget_is_shared_by_processes(sim):
    # Four processes, five calls each, one budget of 10 that does not decay: exactly 10 pass.
    outputs = run_workers("limit", sim.url, 4, "10", "5")
    results = "".join(outputs).split()
    assert results.count("ok") == 10
    assert results.count("limited") == 10
    assert sim.hits["/time"] == 10


def test_budget_accounting_is_atomic_across_processes(sim):
    # No HTTP here, so the processes hammer the shared state: a lost update would let more
    # than the budget through. A budget of 60 is too tight to lease: every call is counted.
    outputs = run_workers("acquire", sim.url, 6, "60", "40")
    ok = sum(int(o.split()[0]) for o in outputs)
    limited = sum(int(o.split()[1]) for o in outputs)
    assert (ok, limited) == (60, 180)


def test_leases_never_let_more_than_the_budget_through(sim):
    # A roomy budget is spent a few calls at a time per process (a lease of 7 calls here); what
    # is leased but unused when the budget runs out is lost, never spent twice.
    assert lease_calls(DecayingCounter(maximum=500, decay=0), 1) == 7
    outputs = run_workers("acquire", sim.url, 6, "500", "200")
    ok = sum(int(o.split()[0]) for o in outputs)
    limited = sum(int(o.split()[1]) for o in outputs)
    assert ok + limited == 1200
    assert 500 - 6 * 6 <= ok <= 500


def test_a_lease_is_spent_locally_and_ends_with_its_time():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=6400, decay=0)}, clock, host="lease")

    def level() -> float:
        return lim.state()["buckets"]["public"][0]

    lim.acquire("public", 1, max_wait=0)
    assert level() == 16  # one call, and a lease of 15 more
    for _ in range(15):
        lim.acquire("public", 1, max_wait=0)
    assert level() == 16  # spent from the lease: the shared bucket did not move
    lim.acquire("public", 1, max_wait=0)
    assert level() == 32
    clock.now += 0.06  # past the lease's time: its 15 unused calls are not used any more
    lim.acquire("public", 1, max_wait=0)
    assert level() == 48


def test_a_tight_budget_is_never_leased():
    clock = FakeTime()
    lim = limiter({"private": DecayingCounter(maximum=20, decay=0.33)}, clock, host="tight")
    lim.acquire("private", 1, max_wait=0)
    assert lim.state()["buckets"]["private"][0] == 1


def test_a_ban_stops_calls_even_with_budget_leased():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(maximum=6400, decay=0)}, clock, host="banned")
    lim.acquire("public", 1, max_wait=0)
    lim.shared.ban(clock.now + 60, 418)  # as another process records it
    with pytest.raises(errors.RateLimited):
        lim.acquire("public", 1, max_wait=0)


def test_429_retry_after_is_honoured_by_later_calls(sim):
    t = Transport("echo", sim.url)
    sim.inject(Fault.rate_limited(0.4), path="/time")
    with pytest.raises(errors.RateLimited, match="HTTP 429") as info:
        t.request(TIME)
    refused_at = time.monotonic()
    assert info.value.retry_after == pytest.approx(0.4)
    assert info.value.code == 429
    t.request(TIME)  # waits out the Retry-After before going out
    assert sim.hits["/time"] == 2
    (arrived,) = [when for path, when in sim.arrivals if path == "/time"]
    assert arrived - refused_at >= 0.35


def test_429_with_max_wait_zero_raises_without_calling(sim):
    t = Transport("echo", sim.url, max_wait=0)
    sim.inject(Fault.rate_limited(5), path="/time")
    with pytest.raises(errors.RateLimited, match="HTTP 429"):
        t.request(TIME)
    with pytest.raises(errors.RateLimited, match="Retry-After") as info:
        t.request(TIME)
    assert 4 < info.value.retry_after <= 5
    assert sim.hits["/time"] == 1


def test_429_makes_other_processes_wait(sim):
    t = Transport("echo", sim.url)
    sim.inject(Fault.rate_limited(30), path="/time")
    with pytest.raises(errors.RateLimited):
        t.request(TIME)
    (out,) = run_workers("once", sim.url, 1)
    word, retry_after, ban_until = out.split()
    assert word == "limited" and 25 < float(retry_after) <= 30 and ban_until == "None"
    assert sim.hits["/time"] == 1


def test_418_ban_stops_every_process_until_it_ends(sim):
    t = Transport("echo", sim.url)
    sim.inject(Fault.rate_limited(120, status=418), path="/time")
    before = time.time()
    with pytest.raises(errors.RateLimited, match="banned this IP") as info:
        t.request(TIME)
    assert info.value.code == 418
    assert before + 119 <= info.value.ban_until <= time.time() + 120
    with pytest.raises(errors.RateLimited, match=r"banned this IP until .* UTC") as again:
        Transport("echo", sim.url).request(STATUS)
    assert again.value.ban_until == pytest.approx(info.value.ban_until)
    (out,) = run_workers("once", sim.url, 1)
    word, _, ban_until = out.split()
    assert word == "limited" and float(ban_until) == pytest.approx(info.value.ban_until)
    assert sim.hits["/time"] == 1 and sim.hits["/status"] == 0


def test_a_foreign_state_file_is_started_afresh(tmp_path):
    clock = FakeTime()
    lim = RateLimiter(
        "test", "h", {"public": DecayingCounter(maximum=2, decay=1e-6)}, directory=tmp_path
    )
    lim.acquire("public", 1, max_wait=0)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"garbage, not a limiter state file".ljust(path.stat().st_size, b"!"))
    again = RateLimiter(
        "test", "h", {"public": DecayingCounter(maximum=2, decay=1e-6)}, directory=tmp_path
    )
    again.acquire("public", 2, max_wait=0)
    assert again.state()["buckets"]["public"][0] == 2
    with pytest.raises(errors.RateLimited):
        again.acquire("public", 1, max_wait=0)
    assert clock.slept == []


def test_state_snapshot_names_buckets_and_verdicts():
    clock = FakeTime()
    lim = limiter({"public": DecayingCounter(5, 1), "orders": WeightWindow(10)}, clock)
    lim.acquire("public", 2, max_wait=0)
    lim.acquire("orders", 3, max_wait=0)
    lim.block(5)
    state = lim.state()
    assert state["buckets"]["public"] == (2.0, clock.now)
    assert state["buckets"]["orders"][1] == 3.0
    assert state["blocked_until"] == clock.now + 5 and state["ban_until"] == 0


def test_the_connectors_reading_of_a_ban_is_recorded_and_raised(sim):
    ends = time.time() + 300

    def check(response):
        if response.status == 418:
            raise errors.RateLimited(
                f"Binance says -1003: banned until {int(ends * 1000)}",
                exchange="echo",
                code=-1003,
                ban_until=ends,
            )

    t = Transport("echo", sim.url)
    body = f'{{"code":-1003,"msg":"IP banned until {int(ends * 1000)}."}}'
    sim.inject(Fault.http(418, body, {"Retry-After": "60"}), path="/time")
    with pytest.raises(errors.RateLimited, match="Binance says -1003") as info:
        t.request(TIME, check=check)
    assert info.value.ban_until == pytest.approx(ends, abs=0.01)  # the body's, not 60 s
    with pytest.raises(errors.RateLimited, match="banned this IP") as again:
        Transport("echo", sim.url).request(TIME)
    assert again.value.ban_until == pytest.approx(ends, abs=0.01)
    assert sim.hits["/time"] == 1


def test_the_connectors_429_message_is_kept_with_the_shared_wait(sim):
    def check(response):
        if response.status == 429:
            raise errors.RateLimited("Binance says -1003: too much weight", exchange="echo")

    t = Transport("echo", sim.url, max_wait=0)
    sim.inject(Fault.rate_limited(7, body='{"code":-1003,"msg":"Too much weight"}'), path="/time")
    with pytest.raises(errors.RateLimited, match="too much weight") as info:
        t.request(TIME, check=check)
    assert info.value.retry_after == 7
    with pytest.raises(errors.RateLimited, match="Retry-After"):
        t.request(TIME)


def test_a_short_or_foreign_file_is_reset_when_first_used(tmp_path):
    from xest.http.shared_state import SIZE, SharedState

    path = tmp_path / "old.limits"
    path.write_bytes(b"xest-limits kraken api.kraken.com\n1.0 418 2.0\n")  # an older text format
    state = SharedState.at(path)
    assert state.peek_header() == (0.0, 0, 0.0)
    with state:
        assert state.header() == (0.0, 0, 0.0)
    assert path.stat().st_size == SIZE


def test_per_key_policies_count_each_api_key_apart():
    clock = FakeTime()
    lim = limiter(
        {"private": DecayingCounter(2, 1e-6, per_key=True), "public": DecayingCounter(2, 1e-6)},
        clock,
    )
    for key in ("alice-key-123", "bob-key-456"):
        lim.acquire("private", 2, max_wait=0, key=key)
    with pytest.raises(errors.RateLimited):
        lim.acquire("private", 1, max_wait=0, key="alice-key-123")
    # A policy that is not per key is one budget whoever signs.
    lim.acquire("public", 2, max_wait=0, key="alice-key-123")
    with pytest.raises(errors.RateLimited):
        lim.acquire("public", 1, max_wait=0, key="bob-key-456")
    assert not any("alice" in name or "bob" in name for name in lim.state()["buckets"])


def test_per_key_weight_is_resynchronised_for_that_key(sim):
    from httpsupport import Endpoint

    from xest.credentials import Credentials

    policy = {
        "weight": WeightWindow(limit=100, window=60, header="X-MBX-USED-WEIGHT-1M", per_key=True)
    }
    signed = Endpoint("weighted", "GET", "/weighted", signed=True, cost=20, bucket="weight")
    t = Transport("echo", sim.url, rate_limits=policy, max_wait=0)
    alice, bob = Credentials("alice-key-123", "s" * 8), Credentials("bob-key-456", "s" * 8)
    sim.used_weight = 95
    t.request(signed, signer=lambda *a: None, credentials=alice)
    with pytest.raises(errors.RateLimited):
        t.request(signed, signer=lambda *a: None, credentials=alice)
    t.request(signed, signer=lambda *a: None, credentials=bob)  # bob's budget is his own
