"""``xest status`` and ``xest time`` on the fake exchange, healthy, in maintenance, unreachable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xest.schemas import parse as jdoc


def test_status_online_and_in_maintenance(xest_cli, sim):
    result = xest_cli("status", "fakex", "--url", sim.url)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split()[:2] == ["fakex", "online"]
    sim.set_status("maintenance")
    [row] = jdoc(xest_cli("status", "fakex", "--url", sim.url, "--json").out)
    assert (row["exchange"], row["status"], row["error"]) == ("fakex", "maintenance", None)


def test_status_of_an_unreachable_exchange_keeps_the_others(xest_cli, fake, monkeypatch):
    with fake.FakeSimulator() as up, fake.FakeSimulator() as down:
        down.down = True
        monkeypatch.setenv("XEST_FAKEX_URL", down.url)
        monkeypatch.setenv("XEST_FAKEY_URL", up.url)

        class FakeY(fake.FakeConnector):
            exchange = "fakey"

        from xest import registry

        monkeypatch.setattr(
            registry, "connectors", lambda: {"fakex": fake.FakeConnector, "fakey": FakeY}
        )
        result = xest_cli("status", "fakex", "fakey", "--no-cache")
    assert result.code == 4
    rows = result.out.splitlines()[1:]
    assert rows[0].split()[:2] == ["fakex", "unknown"] and "503" in rows[0]
    assert rows[1].split()[:2] == ["fakey", "online"]


def test_status_of_one_unreachable_exchange_is_a_one_line_error(xest_cli, sim):
    sim.down = True
    result = xest_cli("status", "fakex", "--url", sim.url, "--no-cache")
    assert result.code == 4 and result.out == ""
    [line] = result.err.strip().splitlines()
    assert line.startswith("error: fakex:") and "503" in line


def test_url_with_several_exchanges_is_refused(xest_cli, sim):
    result = xest_cli("status", "fakex", "fakex", "--url", sim.url)
    assert result.code == 2
    assert "--url applies to one exchange" in result.err


def test_time_reports_estimate_offset_and_error(xest_cli, fake):
    with fake.FakeSimulator(clock_offset=-7.5) as skewed:
        result = xest_cli("time", "fakex", "--url", skewed.url, "--json", "--samples", "2")
    assert result.code == 0, result.err
    [row] = jdoc(result.out)
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
    assert result.code == 4 and result.out == ""
    assert result.err.startswith("error: ") and "503" in result.err
