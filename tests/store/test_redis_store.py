"""The Redis store against a real redis-server: the same guarantees as the directory store, across
"machines" (processes with separate cache directories), and the failure behaviour it promises."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from httpsupport import STATUS, EchoExchange

from xest import errors
from xest.credentials import Credentials
from xest.http import DecayingCounter, Endpoint, Transport, WeightWindow, store
from xest.http.limiter import RateLimiter, active_restrictions
from xest.http.nonce import SCALE, nonce_source

KEY = "REDIS-KEY-abcdefghijklmnop"
SECRET = "REDIS-SECRET-0123456789"
MACHINE = Path(__file__).with_name("machine.py")


@pytest.fixture
def sim():
    server = EchoExchange().start()
    try:
        yield server
    finally:
        server.stop()


def machines(url: str, tmp_path: Path, mode: str, per_machine: int, *args: str) -> list[str]:
    """Run ``per_machine`` processes on each of two "machines" (separate cache directories,
    one Redis), all starting together; return their outputs."""
    start_at = time.time() + 1.5
    procs = []
    for machine in ("m1", "m2"):
        env = {
            **os.environ,
            "XEST_CACHE_DIR": str(tmp_path / machine),
            "PYTHONPATH": os.pathsep.join(sys.path),
        }
        for i in range(per_machine):
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(MACHINE), mode, url, f"{start_at:.6f}", str(i), *args],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out)
    return outputs


def test_the_store_is_chosen_by_xest_store(redis_url):
    assert store.current().kind == "redis"
    assert store.current() is store.current()


def test_the_config_file_can_choose_it_too(redis_server, monkeypatch, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{redis_server.url}"\n')
    config.chmod(0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    store.reset()
    assert store.current().kind == "redis"
    assert store.current().describe() == f"redis {redis_server.url}"


def test_unreachable_at_start_is_a_clear_error_naming_xest_store(monkeypatch):
    from redissupport import free_port

    monkeypatch.setenv("XEST_STORE", f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    store.reset()
    with pytest.raises(errors.ConfigError, match="XEST_STORE=redis://:\\*\\*\\*@127") as info:
        Transport("echo", "http://127.0.0.1:1")
    assert "hunter2" not in str(info.value)
    assert "unset XEST_STORE" in str(info.value)


def test_an_unknown_scheme_is_refused(monkeypatch):
    monkeypatch.setenv("XEST_STORE", "memcached://127.0.0.1:11211")
    store.reset()
    with pytest.raises(errors.ConfigError, match="not a store xest knows"):
        store.current()


def test_cached_reads_are_shared_with_a_ttl(redis_url, sim, tmp_path, monkeypatch):
    first = Transport("echo", sim.url).request(STATUS)
    # Another "machine": a different cache directory, the same Redis.
    monkeypatch.setenv("XEST_CACHE_DIR", str(tmp_path / "other"))
    again = Transport("echo", sim.url).request(STATUS)
    assert not first.from_cache and again.from_cache
    assert again.data == first.data and sim.hits["/status"] == 1
    client = redis.Redis.from_url(redis_url)
    (key,) = client.keys("xest:1:echo:cache:*")
    assert 0 < client.pttl(key) <= 30_000


def test_identical_misses_on_two_machines_make_one_call(redis_url, sim, tmp_path):
    outputs = machines(redis_url, tmp_path, "status", 4, sim.url)
    assert sim.hits["/slow_status"] == 1
    assert sorted(out.split()[1] for out in outputs).count("False") == 1  # one leader


def test_nonces_from_two_machines_are_unique_and_in_time_order(redis_url, tmp_path):
    outputs = machines(redis_url, tmp_path, "nonce-timed", 4, KEY, "150")
    draws = sorted(
        (int(after), int(before), int(nonce))
        for out in outputs
        for before, nonce, after in (line.split() for line in out.splitlines())
    )
    assert len({n for *_, n in draws}) == 1200
    i, highest = 0, 0
    for _, before, nonce in sorted(draws, key=lambda d: d[1]):
        while i < len(draws) and draws[i][0] < before:
            highest = max(highest, draws[i][2])
            i += 1
        assert nonce > highest
    # This process carries on above all of them.
    assert nonce_source(KEY, "echo")() > max(n for *_, n in draws)
    assert nonce_source(KEY, "echo")() >= time.time_ns() // 1000 * SCALE - SCALE * 10**6


def test_the_budget_is_one_for_both_machines(redis_url, tmp_path, sim):
    # 4 processes on each machine try 30 each against a budget of 50 that does not decay.
    outputs = machines(redis_url, tmp_path, "acquire", 4, "50", "30")
    spent = [tuple(map(int, out.split())) for out in outputs]
    assert sum(ok for ok, _ in spent) == 50
    assert sum(limited for _, limited in spent) == 8 * 30 - 50


def test_verdicts_reach_every_machine_and_cache_clear_lifts_them(redis_url, sim, tmp_path):
    lim = RateLimiter("echo", "h1", {"public": DecayingCounter(10, 1)})
    lim.ban(300, 418)
    lim.block(5)
    other = RateLimiter("echo", "h1", {"public": DecayingCounter(10, 1)})
    with pytest.raises(errors.RateLimited, match="banned this IP"):
        other.acquire("public", 1, max_wait=0)
    kinds = sorted(r["kind"] for r in active_restrictions())
    assert kinds == ["banned", "waiting"]
    assert store.current().clear_restrictions() == 1
    other.acquire("public", 1, max_wait=0)
    assert active_restrictions() == []


def test_a_redis_restarted_empty_does_not_hand_out_a_fresh_budget(redis_url, redis_server):
    lim = RateLimiter("echo", "h3", {"private": DecayingCounter(5, 1e-6, per_key=True)})
    lim.acquire("private", 5, max_wait=0, key=KEY)
    lim.ban(300, 418)
    redis_server.flush()  # what a restart without persistence leaves
    with pytest.raises(errors.RateLimited, match="banned"):
        lim.acquire("private", 1, max_wait=0, key=KEY)
    store.current().clear_restrictions()  # a deliberate clear is not undone by the seed
    with pytest.raises(errors.RateLimited, match="budget"):
        lim.acquire("private", 1, max_wait=0, key=KEY)


def test_weight_windows_follow_the_exchanges_header(redis_url):
    lim = RateLimiter("echo", "h2", {"w": WeightWindow(100, 60, header="X-USED")})
    lim.acquire("w", 10, max_wait=0)
    lim.observe({"X-USED": "95"})
    with pytest.raises(errors.RateLimited):
        lim.acquire("w", 10, max_wait=0)
    lim.observe({"X-USED": "20"})  # a lower reading never lowers the count
    assert lim.state()["buckets"]["w"][1] == 95


def test_a_quote_is_claimed_once_across_machines(redis_url, monkeypatch):
    mine = store.owner()
    first = store.current().executed_quotes("binance", KEY)
    assert first.claim("Q-1") is True
    assert first.claim("Q-1") is True  # ours: a re-send after a confirmed lost answer
    monkeypatch.setattr(store, "_owner", (os.getpid(), "another-process"))
    again = store.current().executed_quotes("binance", KEY)
    assert again.claim("Q-1") is False and again.claimed("Q-1")
    again.release("Q-1")  # not its claim: nothing happens
    assert again.claim("Q-1") is False
    assert store.current().executed_quotes("binance", "OTHER-KEY").claim("Q-1") is True
    monkeypatch.setattr(store, "_owner", (os.getpid(), mine))
    first.release("Q-1")
    monkeypatch.setattr(store, "_owner", (os.getpid(), "another-process"))
    assert again.claim("Q-1") is True


def test_no_key_or_secret_reaches_redis(redis_url, sim):
    creds = Credentials(KEY, SECRET, "carol")
    t = Transport("echo", sim.url, rate_limits={"private": DecayingCounter(10, 1, per_key=True)})
    t.request(
        Endpoint("private", "GET", "/private", signed=True, bucket="private"),
        signer=lambda req, c, ctx: req.headers.update({"API-Key": c.key, "N": str(ctx.nonce())}),
        credentials=creds,
    )
    store.current().executed_quotes("echo", KEY).claim("Q-2")
    t.request(STATUS)
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("*")
    assert keys and all(k.startswith(b"xest:1:echo:") for k in keys)
    for k in keys:
        dumped = client.dump(k)
        assert b"REDIS-KEY" not in k + dumped and b"REDIS-SECRET" not in k + dumped


def test_lost_mid_run_reads_go_on_and_signed_calls_stop(own_redis, sim, caplog):
    creds = Credentials(KEY, SECRET, "carol")

    def sign(req, c, ctx):
        req.headers["API-Key"] = c.key
        req.params["nonce"] = str(ctx.nonce())

    private = Endpoint("private", "GET", "/private", signed=True)
    t = Transport("echo", sim.url, rate_limits={"public": DecayingCounter(100, 1)})
    t.request(STATUS)
    before = int(t.request(private, signer=sign, credentials=creds).data["nonce"])
    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="xest.http")
    for _ in range(3):  # reads: from the exchange, without the cache, one warning
        assert t.request(STATUS).from_cache is False
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1
    with pytest.raises(errors.StoreUnavailable, match=r"XEST_STORE=redis://127\.0\.0\.1") as info:
        t.request(private, signer=sign, credentials=creds)
    assert "nothing was sent" in str(info.value)
    hits = sim.hits["/private"]
    # Restarted empty: the nonce still goes up (the clock is its floor), and the cache is back.
    own_redis.start()
    time.sleep(1.1)  # reads skip a Redis found down for a second
    after = int(t.request(private, signer=sign, credentials=creds).data["nonce"])
    assert after > before and sim.hits["/private"] == hits + 1
    t.request(STATUS)
    assert t.request(STATUS).from_cache is True
