"""The shared response cache: one remote call for repeated, concurrent and cross-process reads."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest
from httpsupport import PRIVATE, SLOW_STATUS, STATUS, TIME, run_workers

from xest.credentials import Credentials
from xest.http import Endpoint, Transport
from xest.http.cache import ResponseCache
from xest.http.storage import cache_dir
from xest.testing.server import Fault

CREDS = Credentials("CACHEKEY-0123456789", "CACHESECRET-9876543210", "bob")


def make(sim, **kw) -> Transport:
    kw.setdefault("backoff", 0.01)
    return Transport("echo", sim.url, **kw)


def sign(req, creds, ctx):
    req.headers["API-Key"] = creds.key
    req.headers["API-Sign"] = "signed-" + creds.secret


def test_repeated_public_reads_make_one_remote_call(sim):
    t = make(sim)
    first = t.request(STATUS)
    again = [t.request(STATUS) for _ in range(5)]
    assert sim.hits["/status"] == 1
    assert not first.from_cache and all(r.from_cache for r in again)
    assert all(r.data == first.data for r in again)


def test_a_second_transport_in_the_process_shares_the_cache(sim):
    make(sim).request(STATUS)
    assert make(sim).request(STATUS).from_cache
    assert sim.hits["/status"] == 1


def test_cache_false_per_call_and_per_transport(sim):
    t = make(sim)
    t.request(STATUS)
    t.request(STATUS, cache=False)
    assert sim.hits["/status"] == 2
    off = make(sim, cache=False)
    off.request(STATUS)
    off.request(STATUS)
    assert sim.hits["/status"] == 4


def test_key_uses_canonical_params(sim):
    t = make(sim)
    t.request(STATUS, {"a": "1", "b": "2"})
    assert t.request(STATUS, {"b": "2", "a": "1"}).from_cache
    t.request(STATUS, {"a": "1", "b": "3"})
    assert sim.hits["/status"] == 2


def test_key_includes_the_base_url_and_exchange(sim):
    make(sim).request(STATUS)
    Transport("other", sim.url).request(STATUS)
    Transport("echo", sim.url + "/").request(STATUS)  # same base URL once normalised
    assert sim.hits["/status"] == 2


def test_entries_expire_after_the_ttl(sim):
    short = Endpoint("status", "GET", "/status", ttl=0.2)
    t = make(sim)
    t.request(short)
    assert t.request(short).from_cache
    time.sleep(0.3)
    assert not t.request(short).from_cache
    assert sim.hits["/status"] == 2


def test_uncacheable_endpoints_always_go_remote(sim):
    t = make(sim)
    t.request(TIME)
    t.request(TIME)
    assert sim.hits["/time"] == 2


def test_failed_answers_are_not_cached(sim):
    sim.inject(Fault.http(500, '{"error":"x"}'), path="/status")
    t = make(sim)
    with pytest.raises(Exception):  # noqa: B017 - any failure; the point is what follows
        t.request(STATUS)
    assert not t.request(STATUS).from_cache
    assert t.request(STATUS).from_cache


def test_signed_answers_never_touch_the_disk(sim):
    t = make(sim)
    for _ in range(3):
        response = t.request(PRIVATE, signer=sign, credentials=CREDS)
        assert not response.from_cache
    assert sim.hits["/private"] == 3
    t.request(STATUS)  # make sure the cache exists, so the scan below scans something
    blobs = b"".join(p.read_bytes() for p in cache_dir().rglob("*") if p.is_file())
    for secret in (CREDS.key, CREDS.secret, b"12.5"):
        needle = secret.encode() if isinstance(secret, str) else secret
        assert needle not in blobs
    assert ResponseCache().info().entries == 1


def test_concurrent_identical_misses_make_one_remote_call(sim):
    t = make(sim)
    results = []
    barrier = threading.Barrier(8)

    def read():
        barrier.wait()
        results.append(t.request(SLOW_STATUS))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert len(results) == 8
    assert sim.hits["/slow_status"] == 1
    assert sum(not r.from_cache for r in results) == 1


def test_a_miss_nobody_else_is_fetching_reads_the_cache_once(sim, monkeypatch):
    # The second look inside the key's lock is for callers who waited for another's fetch.
    reads = []
    original = ResponseCache.get
    monkeypatch.setattr(
        ResponseCache, "get", lambda self, key: reads.append(key) or original(self, key)
    )
    make(sim).request(STATUS)
    assert len(reads) == 1 and sim.hits["/status"] == 1


def test_two_processes_make_one_remote_call(sim):
    outputs = run_workers("status", sim.url, 2)
    assert sim.hits["/slow_status"] == 1
    assert sorted(o.split()[1] for o in outputs) == ["False", "True"]


def test_cache_directory_is_private(sim, tmp_path, monkeypatch):
    target = tmp_path / "nested" / "xest-cache"
    monkeypatch.setenv("XEST_CACHE_DIR", str(target))
    make(sim).request(STATUS)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700
    assert (target / "responses").is_dir()


def test_cache_location_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XEST_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("XEST_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "xest"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == Path(tmp_path / "home" / ".cache" / "xest")


def test_info_and_clear(sim):
    assert ResponseCache().info().entries == 0
    t = make(sim)
    t.request(STATUS, {"a": "1"})
    t.request(STATUS, {"a": "2"})
    info = ResponseCache().info()
    assert info.entries == 2 and info.size > 0
    assert info.location == cache_dir() / "responses"
    assert ResponseCache().clear() == 2
    assert ResponseCache().info().entries == 0
    assert not t.request(STATUS, {"a": "1"}).from_cache


def test_headers_are_case_insensitive_fresh_or_cached(sim):
    t = make(sim)
    for response in (t.request(STATUS), t.request(STATUS)):
        assert response.headers["content-type"] == response.headers["Content-Type"]
    assert response.from_cache


def test_expired_answers_are_swept_from_the_disk_now_and_then(tmp_path, monkeypatch):
    from xest.http import cache

    monkeypatch.setattr(cache, "_CULL_EVERY", 8)
    responses = ResponseCache(tmp_path / "responses")
    answer = cache.CachedAnswer(200, {}, {"ok": True}, '{"ok": true}')
    responses._write([(f"old{i}", answer, 0.01) for i in range(4)])
    time.sleep(0.05)
    db = responses._db()
    assert len(db) == 4  # expired, not yet swept
    responses._write([(f"new{i}", answer, 60) for i in range(4)])  # the 8th write sweeps
    assert len(db) == 4 and all(responses.get(f"new{i}") for i in range(4))
    assert responses.get("old0") is None


def test_an_answer_waiting_to_be_written_is_handed_out_as_a_copy(sim, monkeypatch):
    # Hold the writer: the answer stays in memory, waiting, while the hits are served.
    from xest.http import cache

    gate = threading.Event()
    original = ResponseCache._write
    monkeypatch.setattr(
        ResponseCache, "_write", lambda self, items: gate.wait(5) and original(self, items)
    )
    try:
        t = make(sim)
        cached = Endpoint("time", "GET", "/time", ttl=30)
        first = t.request(cached)
        first.data["price"] = "changed by the first caller"
        second = t.request(cached)
        assert second.from_cache and second.data["price"] != "changed by the first caller"
        second.data["id"] = 0
        assert t.request(cached).data["id"] == 2**63 + 7
    finally:
        gate.set()
        cache.flush()


def test_an_answer_waiting_to_be_written_expires_with_its_ttl(sim, monkeypatch):
    from xest.http import cache

    gate = threading.Event()
    original = ResponseCache._write
    monkeypatch.setattr(
        ResponseCache, "_write", lambda self, items: gate.wait(5) and original(self, items)
    )
    short = Endpoint("time", "GET", "/time", ttl=0.2)
    try:
        t = make(sim)
        t.request(short)
        assert t.request(short).from_cache
        time.sleep(0.3)
        assert not t.request(short).from_cache  # not served past its expiry from memory
    finally:
        gate.set()
        cache.flush()
