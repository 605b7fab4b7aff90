"""``xest status`` and ``xest time`` on the fake exchange, healthy, in maintenance, unreachable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest


def test_status_online_and_in_maintenance(xest_cli, sim):
    result = xest_cli("status", "fakex", "--url", sim.url)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split()[:2] == ["fakex", "online"]
    sim.set_status("maintenance")
    [row] = json.loads(xest_cli("status", "fakex", "--url", sim.url, "--json").out)
    assert (row["exchange"], row["status"], row["error"]) == ("fakex", "maintenance", None)


def test_status_of_an_unreachable_exchange_keeps_the_others(xest_cli, sim, monkeypatch):
    monkeypatch.setenv("XEST_FAKEX_URL", sim.url)
    sim.down = True
    result = xest_cli("status", "fakex", "--no-cache")
    assert result.code == 1
    row = result.out.splitlines()[1]
    assert row.split()[:2] == ["fakex", "unknown"] and "503" in row


def test_url_with_several_exchanges_is_refused(xest_cli, sim):
    result = xest_cli("status", "fakex", "fakex", "--url", sim.url)
    assert result.code == 1
    assert "--url applies to one exchange" in result.err


def test_time_reports_estimate_offset_and_error(xest_cli, fake):
    with fake.FakeSimulator(clock_offset=-7.5) as skewed:
        result = xest_cli("time", "fakex", "--url", skewed.url, "--json", "--samples", "2")
    assert result.code == 0, result.err
    [row] = json.loads(result.out)
    assert row["offset_ms"] == pytest.approx(-7500, abs=100)
    assert 0 < row["error_ms"] < 100
    estimated = datetime.fromisoformat(row["estimated_now"])
    assert abs((estimated - datetime.now(UTC)).total_seconds() + 7.5) < 1


def test_time_table(xest_cli, sim):
    result = xest_cli("time", "fakex", "--url", sim.url)
    assert result.code == 0, result.err
    header, row = result.out.splitlines()
    assert header.split()[:3] == ["EXCHANGE", "SERVER", "TIME"]
    assert row.startswith("fakex") and "±" in row


def test_time_of_an_unreachable_exchange(xest_cli, sim):
    sim.down = True
    result = xest_cli("time", "fakex", "--url", sim.url)
    assert result.code == 1
    assert "error: " in result.err and "503" in result.err
