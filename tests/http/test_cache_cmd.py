"""``xest cache info`` and ``xest cache clear``."""

from __future__ import annotations

import pytest
from httpsupport import STATUS, TIME

from xest import errors
from xest.cli import main
from xest.http import Transport
from xest.http.storage import cache_dir
from xest.schemas import parse as jdoc
from xest.testing.server import Fault


def run(capsys, *argv: str) -> str:
    main(list(argv))
    return capsys.readouterr().out


def test_info_shows_location_entries_and_size(sim, capsys):
    t = Transport("echo", sim.url)
    t.request(STATUS, {"a": "1"})
    t.request(STATUS, {"a": "2"})
    data = jdoc(run(capsys, "cache", "info", "--json"))
    assert data["location"] == str(cache_dir() / "responses")
    assert data["entries"] == 2 and data["size_bytes"] > 0
    assert data["restrictions"] == []
    table = run(capsys, "cache", "info")
    assert str(cache_dir() / "responses") in table and "KiB" in table


def test_clear_removes_answers_and_the_next_read_goes_remote(sim, capsys):
    t = Transport("echo", sim.url)
    t.request(STATUS)
    assert "removed 1 cached answer from" in run(capsys, "cache", "clear")
    assert jdoc(run(capsys, "--json", "cache", "info"))["entries"] == 0
    assert not t.request(STATUS).from_cache
    assert sim.hits["/status"] == 2


def test_info_reports_a_ban_and_clear_lifts_it(sim, capsys):
    t = Transport("echo", sim.url)
    sim.inject(Fault.rate_limited(10**10, status=418), path="/time")  # "banned until 2343"
    with pytest.raises(errors.RateLimited):
        t.request(TIME)
    out = run(capsys, "cache", "info")
    assert f"echo ({t.host}) banned this IP until" in out
    with pytest.raises(errors.RateLimited, match="banned"):
        Transport("echo", sim.url).request(TIME)
    out = run(capsys, "cache", "clear")
    assert f"lifted the ban echo ({t.host})" in out
    assert "banned" not in run(capsys, "cache", "info")
    t.request(TIME)  # this process, and every other, may call again
    assert sim.hits["/time"] == 2
