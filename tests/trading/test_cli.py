"""The trading commands: confirmation prompts, --yes, --json, one-line errors."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from click.testing import CliRunner

from xest.cli import main
from xest.schemas import parse as jdoc


def run(args, input=None):
    """Run ``xest ARGS`` the way the console script does: (exit code, stdout, stderr)."""
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
    return code, out.getvalue().decode(), err.getvalue().decode()


@pytest.fixture
def on_sim(sim, tx, monkeypatch):
    """Commands pointed at the test's simulator with its demo account (default account)."""
    key, secret = sim.demo_credentials()
    monkeypatch.setenv("XEST_TRADEX_KEY", key)
    monkeypatch.setenv("XEST_TRADEX_SECRET", secret)
    return ["--url", sim.url]


def test_order_asks_first_and_places_nothing_when_refused(sim, on_sim):
    code, _out, err = run(
        ["order", "tradex", "BTC/USD", "buy", "0.5", "--limit", "40000", *on_sim], input="n\n"
    )
    assert code == 1 and "Place: buy 0.5 BTC/USD limit 40000" in err and "aborted" in err
    assert "(value 20000" in err
    assert sim.placed == 0


def test_order_placed_after_confirmation(sim, on_sim):
    code, out, err = run(
        [
            "order",
            "tradex",
            "BTC/USD",
            "buy",
            "0.5",
            "--limit",
            "40000",
            "--client-id",
            "cli-1",
            *on_sim,
        ],
        input="y\n",
    )
    assert code == 0, err
    (stored,) = sim.by_client("cli-1")
    assert stored["id"] in out and "open" in out


def test_order_json_with_yes_and_rounding_note(sim, on_sim):
    code, out, err = run(
        [
            "--json",
            "order",
            "tradex",
            "BTC/USD",
            "sell",
            "0.123456",
            "--limit",
            "40000.04",
            "--tif",
            "gtc",
            "--yes",
            *on_sim,
        ]
    )
    assert code == 0, err
    data = jdoc(out)  # nothing but JSON on stdout
    # The price goes on the wire in plain digits (40000.0 → 40000); the exchange echoes them.
    assert (data["amount"], data["price"], data["side"]) == ("0.1234", "40000", "sell")
    assert "amount 0.123456 -> 0.1234" in err
    assert len(sim.by_client(data["client_id"])) == 1


def test_market_order_waits_until_final(sim, on_sim):
    code, out, err = run(
        ["--json", "order", "tradex", "BTC/USD", "buy", "0.01", "--wait", "-y", *on_sim]
    )
    assert code == 0, err
    assert jdoc(out)["status"] == "filled"


def test_wait_timeout_is_one_line_with_what_to_do(sim, on_sim):
    code, _out, err = run(
        [
            "order",
            "tradex",
            "BTC/USD",
            "buy",
            "0.01",
            "--limit",
            "40000",
            "--wait",
            "--timeout",
            "0.2",
            "-y",
            *on_sim,
        ]
    )
    assert code == 7
    assert "still open after 0.2 s" in err and "xest order-status tradex" in err
    assert "Traceback" not in err


def test_refused_order_is_one_line_error(sim, on_sim):
    code, _out, err = run(["order", "tradex", "BTC/USD", "buy", "0.0001", "-y", *on_sim])
    assert code == 5 and err.strip().startswith("error:") and "minimum" in err
    assert len(err.strip().splitlines()) == 1 and sim.hits["/private/order/new"] == 0


def test_validate_places_nothing(sim, on_sim):
    code, out, _err = run(["order", "tradex", "BTC/USD", "buy", "0.01", "--validate", *on_sim])
    assert code == 0 and "nothing was placed" in out and sim.placed == 0
    code, out, _err = run(
        ["--json", "order", "tradex", "BTC/USD", "buy", "0.01", "--validate", *on_sim]
    )
    assert code == 0 and jdoc(out)["valid"] is True and sim.placed == 0


def test_cancel_and_order_status(sim, on_sim):
    run(
        [
            "order",
            "tradex",
            "BTC/USD",
            "buy",
            "0.5",
            "--limit",
            "40000",
            "--client-id",
            "c2",
            "-y",
            *on_sim,
        ]
    )
    (stored,) = sim.by_client("c2")
    sim.fill(stored["id"], "0.2")
    code, out, err = run(["order-status", "tradex", stored["id"], *on_sim])
    assert code == 0 and "partially_filled" in out and "0.2" in out
    code, out, err = run(["cancel", "tradex", "--client-id", "c2", *on_sim])
    assert code == 0 and f"order {stored['id']}: cancelled (0.2 filled)" in out
    code, out, err = run(["cancel", "tradex", stored["id"], *on_sim])
    assert code == 5 and "already cancelled" in err and "nothing to cancel" in err
    code, out, err = run(["--json", "order-status", "tradex", "--client-id", "c2", *on_sim])
    assert jdoc(out)["status"] == "cancelled"


def test_cancel_needs_exactly_one_id(on_sim):
    code, _out, err = run(["cancel", "tradex", *on_sim])
    assert code == 2 and "give an ORDER_ID or --client-id" in err


def test_quote_shows_and_does_not_execute_without_accept(sim, on_sim):
    code, out, err = run(["quote", "tradex", "BTC/USD", "buy", "0.1", *on_sim])
    assert code == 0, err
    assert "quote id" in out and "50000" in out and "seconds left" in out
    assert sim.accepts == {}


def test_quote_accept_asks_then_executes_once(sim, on_sim):
    code, out, err = run(
        ["quote", "tradex", "BTC/USD", "buy", "0.1", "--accept", *on_sim], input="y\n"
    )
    assert code == 0, err
    assert "Accept: buy 0.1 BTC/USD at 50000" in err and "executed: order" in out
    assert list(sim.accepts.values()) == [1]


def test_quote_accept_refused_at_the_prompt(sim, on_sim):
    code, _out, _err = run(
        ["quote", "tradex", "BTC/USD", "sell", "0.1", "--accept", *on_sim], input="n\n"
    )
    assert code == 1 and sim.accepts == {}


def test_quote_accept_json(sim, on_sim):
    code, out, err = run(
        [
            "--json",
            "quote",
            "tradex",
            "BTC/USD",
            "buy",
            "0.1",
            "--accept",
            "--yes",
            "--valid-for",
            "20",
            *on_sim,
        ]
    )
    assert code == 0, err
    data = jdoc(out)
    assert data["quote"]["state"] == "executed" and data["order"]["status"] == "filled"
    assert Decimal(data["order"]["amount"]) == Decimal("0.1")


def test_trading_with_sim_uses_the_demo_account(tx):
    code, out, err = run(["--sim", "--json", "order", "tradex", "BTC/USD", "buy", "0.01", "-y"])
    assert code == 0, err
    assert jdoc(out)["status"] == "filled"


def test_trading_without_an_account_says_what_to_do(sim, tx):
    code, _out, err = run(["order", "tradex", "BTC/USD", "buy", "0.01", "-y", "--url", sim.url])
    assert code == 3 and "needs an account" in err and "--account" in err
    assert "key=" not in err and "<EXCHANGE>" not in err  # CLI words, no placeholder


def test_bad_amount_is_a_usage_error(on_sim):
    code, _out, err = run(["order", "tradex", "BTC/USD", "buy", "lots", *on_sim])
    assert code == 2 and "not a number" in err


def test_waiting_shows_partial_fills(sim, on_sim):
    deadline = time.monotonic() + 10

    def fill_in_two():
        while not sim.orders and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        (order_id,) = sim.orders
        sim.fill(order_id, "0.2")
        seen = sim.hits["/private/order"]
        # The client reads one order at a time: when its second read since the partial fill
        # arrives, the first one has been answered with the partial fill. Then fill the rest.
        while sim.hits["/private/order"] < seen + 2 and time.monotonic() < deadline:
            threading.Event().wait(0.01)
        sim.fill(order_id, "0.3")

    filler = threading.Thread(target=fill_in_two, daemon=True)
    filler.start()
    code, out, err = run(
        ["order", "tradex", "BTC/USD", "buy", "0.5", "--limit", "40000", "--wait", "-y", *on_sim]
    )
    filler.join(10)
    assert code == 0, err
    assert "partially_filled, 0.2/0.5" in err and "filled, 0.5/0.5" in err
    assert "filled" in out


def test_accounts_side_by_side_from_the_config_file(sim, tx, monkeypatch, tmp_path):
    """--account picks who trades; each sees only its own orders; no secret is printed."""
    sim.add_account("bob-key", {"USD": "1000"})
    config = tmp_path / "config.toml"
    config.write_text(
        '[accounts.alice]\nexchange = "tradex"\nkey_env = "A_KEY"\nsecret_env = "A_SECRET"\n'
        '[accounts.bob]\nexchange = "tradex"\nkey_env = "B_KEY"\nsecret_env = "B_SECRET"\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("XEST_CONFIG", str(config))
    monkeypatch.setenv("A_KEY", sim.demo_credentials()[0])
    monkeypatch.setenv("A_SECRET", "alice-secret-value")
    monkeypatch.setenv("B_KEY", "bob-key")
    monkeypatch.setenv("B_SECRET", "bob-secret-value")
    url = ["--url", sim.url]
    code, out, err = run(
        [
            "order",
            "tradex",
            "BTC/USD",
            "buy",
            "0.01",
            "--limit",
            "40000",
            "--account",
            "bob",
            "-y",
            *url,
        ],
    )
    assert code == 0, err
    (bobs,) = [o for o in sim.orders.values() if o["owner"] == "bob-key"]
    code, out, err = run(["order-status", "tradex", bobs["id"], "--account", "alice", *url])
    assert code == 6 and "no such order" in err
    code, out, err = run(["order-status", "tradex", bobs["id"], "--account", "bob", *url])
    assert code == 0 and bobs["id"] in out
    for secret in ("alice-secret-value", "bob-secret-value", "bob-key"):
        assert secret not in out + err
