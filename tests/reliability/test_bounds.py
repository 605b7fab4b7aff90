"""Bounded everything (issue 15, findings 4-7): a whole call has a deadline, answers a size
limit, Retry-After a ceiling, and odd JSON is a BadResponse, never a stray exception."""

from __future__ import annotations

import threading
import time

import pytest
from hostile import HostileServer, answer, flood, gzip_bomb, json_answer, trickle

from xest import errors
from xest.http import Endpoint, Transport
from xest.http.deadline import CancelScope, cancel_scope
from xest.http.limiter import MAX_RETRY_AFTER, retry_after_seconds

GET = Endpoint("thing", "GET", "/thing", retry=False)


def transport(server, **kw):
    kw.setdefault("read_timeout", 1.0)
    return Transport("hostile", server.url, cache=False, retries=1, **kw)


@pytest.mark.parametrize(
    "head",
    [
        b"",  # even the status line trickles
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[",
    ],
)
def test_a_trickling_server_is_cut_off_at_the_whole_call_deadline(head):
    with HostileServer(trickle(head, every=0.1)) as server:
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeout, match=r"whole answer .* within 1.5 s"):
            transport(server, total_timeout=1.5).request(GET)
        assert 1.4 < time.monotonic() - started < 4


def test_the_deadline_defaults_to_connect_plus_twice_the_read_timeout():
    t = Transport("x", "http://127.0.0.1:9", connect_timeout=1, read_timeout=2)
    assert t.total_timeout == 5


def test_a_call_in_a_cancelled_scope_ends_at_once():
    scope = CancelScope()
    failures = []

    def call():
        with cancel_scope(scope):
            try:
                transport(server, read_timeout=30, total_timeout=60).request(GET)
            except errors.XestError as exc:
                failures.append(exc)

    with HostileServer(trickle(b"", every=0.1)) as server:
        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        scope.cancel()
        thread.join(2)
        assert not thread.is_alive() and time.monotonic() - started < 1
    assert isinstance(failures[0], errors.RequestTimeout)
    assert "cancelled" in str(failures[0])


def test_an_answer_over_the_limit_is_refused_while_reading():
    with (
        HostileServer(flood(50 << 20)) as server,
        pytest.raises(errors.BadResponse, match=r"more than 1048576 bytes.*XEST_MAX_ANSWER_MB"),
    ):
        transport(server, max_answer=1 << 20).request(GET)


def test_an_announced_length_over_the_limit_is_refused_before_reading():
    body = b"[" + b"1," * 600_000 + b"1]"
    with (
        HostileServer(lambda c, r: c.sendall(answer(200, body))) as server,
        pytest.raises(errors.BadResponse, match="announced"),
    ):
        transport(server, max_answer=1 << 20).request(GET)


def test_a_gzip_bomb_is_refused_after_decompression():
    with (
        HostileServer(gzip_bomb(200 << 20)) as server,
        pytest.raises(errors.BadResponse, match="decompressed"),
    ):  # 200 MB of spaces, ~200 KB gzipped
        transport(server, max_answer=8 << 20).request(GET)


def test_a_gzip_answer_within_the_limit_is_decoded(monkeypatch):
    import gzip

    body = gzip.compress(b'{"ok": 1.5}')
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with HostileServer(lambda c, r: c.sendall(answer(200, body, headers))) as server:
        assert str(transport(server).request(GET).data["ok"]) == "1.5"


def test_the_limit_is_configurable_from_the_environment(monkeypatch):
    monkeypatch.setenv("XEST_MAX_ANSWER_MB", "2")
    assert Transport("x", "http://127.0.0.1:9").max_answer == 2 << 20
    monkeypatch.setenv("XEST_MAX_ANSWER_MB", "lots")
    with pytest.raises(errors.ConfigError, match="XEST_MAX_ANSWER_MB"):
        Transport("x", "http://127.0.0.1:9")


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        '{"p": Infinity}',
        '{"p": -Infinity}',
        '{"p": 1e999}',
        "[" * 100_000 + "]" * 100_000,
        "1" * 5000,
    ],
)
def test_odd_json_is_a_bad_response(text):
    with (
        HostileServer(json_answer(text)) as server,
        pytest.raises(errors.BadResponse, match="not JSON"),
    ):
        transport(server).request(GET)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("inf", None),
        ("1e10", MAX_RETRY_AFTER),
        ("-5", 0.0),
        ("nan", None),
        ("garbage", None),
        ("12", 12.0),
        ("Infinity", None),
        ("1" * 400, MAX_RETRY_AFTER),
    ],
)
def test_retry_after_is_clamped(value, expected):
    assert retry_after_seconds({"Retry-After": value}) == expected


@pytest.mark.parametrize("value", ["inf", "1e10", "nan", "garbage"])
def test_one_odd_retry_after_bans_no_process_for_good(value):
    headers = {"Retry-After": value, "Content-Type": "application/json"}
    with HostileServer(json_answer("{}", 418, headers)) as server:
        t = transport(server)
        with pytest.raises(errors.RateLimited):
            t.request(GET)
        ban_until, _, _ = t.limiter.shared.header()
        assert ban_until <= time.time() + MAX_RETRY_AFTER + 1
        # A fresh transport in "another process" reads the shared state without blowing up.
        with pytest.raises(errors.RateLimited, match="banned"):
            transport(server).request(GET)
