"""Pages, views and actions through Starlette's test client, against both simulators."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from web_helpers import ORIGIN, accept_hits, trading_hits

H = {"Origin": ORIGIN}


def post(client, path, **data):
    return client.post(f"/api/{path}", json=data, headers=H)


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("page", ["exchanges", "account", "quotes", "orders", "market"])
def test_each_page_renders_with_the_accounts_to_pick(client, page):
    answer = client.get(f"/{page}")
    assert answer.status_code == 200
    assert 'data-page="' + page + '"' in answer.text
    if page in ("account", "quotes", "orders"):
        for key in ("kraken:alice", "kraken:bob", "binance:alice", "binance:bob"):
            assert f'value="{key}"' in answer.text


def test_the_index_goes_to_the_exchanges(client):
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/exchanges"


def test_exchanges_view_status_clock_and_history(client):
    data = client.get("/api/state?view=exchanges").json()["data"]
    by_name = {x["name"]: x for x in data["exchanges"]}
    assert set(by_name) == {"binance", "kraken"}
    for x in by_name.values():
        assert x["status"] == "online"
        assert x["clock"]["error"] is not None and x["clock"]["error"] < 1.5
        assert x["checked"] is not None
        assert x["history"][0]["new"] == "online"
        assert x["accounts"] == ["alice", "bob"]


def test_a_status_change_shows_in_the_history(client, hub):
    sim = hub.exchange("binance").simulator
    sim.set_status(1, "system_maintenance")
    try:
        wait_for(lambda: _status(client, "binance") == "maintenance")
        history = _exchange(client, "binance")["history"]
        assert (history[0]["old"], history[0]["new"]) == ("online", "maintenance")
    finally:
        sim.set_status(0)
    wait_for(lambda: _status(client, "binance") == "online")


def _exchange(client, name):
    data = client.get("/api/state?view=exchanges").json()["data"]
    return next(x for x in data["exchanges"] if x["name"] == name)


def _status(client, name):
    return _exchange(client, name)["status"]


def balances(client, account):
    data = client.get(f"/api/state?view=account&account={account}").json()["data"]
    return {b["asset"]: b for b in data["balances"]}


def test_two_accounts_show_their_own_balances(client):
    alice, bob = balances(client, "kraken:alice"), balances(client, "kraken:bob")
    assert alice["USD"]["total"] == "100000" and bob["USD"]["total"] == "2500"
    assert alice != bob
    assert balances(client, "binance:alice") != balances(client, "binance:bob")


@pytest.mark.parametrize(
    "view,query",
    [
        ("nope", ""),
        ("account", "&account=kraken:mallory"),
        ("market", "&exchange=kraken&symbol=NOPE/USD"),
        ("market", "&exchange=nowhere&symbol=BTC/USD"),
    ],
)
def test_a_malformed_view_request_is_a_message(client, view, query):
    answer = client.get(f"/api/state?view={view}{query}")
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert client.get(f"/events?view={view}{query}").status_code == 400


def test_market_view_ticker_and_book(client, hub):
    data = client.get("/api/state?view=market&exchange=binance&symbol=BTC/USDT").json()["data"]
    assert data["ticker"]["bid"] and data["ticker"]["ask"]
    assert data["book"]["bids"] and data["book"]["asks"]
    assert hub.watches.running() == []  # released once answered


BAD = [
    ({"amount": ""}, "amount", "enter the amount"),
    ({"amount": "abc"}, "amount", "plain positive number"),
    ({"amount": "-1"}, "amount", "plain positive number"),
    ({"amount": "1e400"}, "amount", "plain positive number"),
    ({"amount": "0"}, "amount", "greater than zero"),
    ({"symbol": "NOPE/USD"}, "symbol", "unknown symbol"),
    ({"symbol": ""}, "symbol", "enter a symbol"),
    ({"side": "hold"}, "side", "side must be"),
    ({"account": "kraken:mallory"}, "account", "unknown account"),
    ({"valid_for": "5"}, "valid_for", "valid for"),
]


@pytest.mark.parametrize("change,field,words", BAD)
def test_bad_quote_input_is_a_message_and_sends_nothing(client, hub, change, field, words):
    data = {"account": "kraken:alice", "symbol": "BTC/USD", "side": "buy", "amount": "0.01"}
    before = trading_hits(hub)
    answer = post(client, "quote", **{**data, **change})
    assert answer.status_code == 400
    assert answer.json()["field"] == field
    assert words in answer.json()["error"]
    assert trading_hits(hub) == before


@pytest.mark.parametrize(
    "change,words",
    [
        ({"amount": "abc"}, "plain positive number"),
        ({"amount": "1e400"}, "plain positive number"),
        ({"price": ""}, "enter the price"),
        ({"price": "-5"}, "plain positive number"),
        ({"symbol": "NOPE/USD"}, "unknown symbol"),
        ({"type": "stop"}, "type must be"),
        ({"amount": "0.00000001"}, "below BTC/USD's minimum"),
    ],
)
def test_bad_order_input_is_a_message_and_sends_nothing(client, hub, change, words):
    data = {
        "account": "kraken:alice",
        "symbol": "BTC/USD",
        "side": "buy",
        "type": "limit",
        "amount": "0.01",
        "price": "1000",
    }
    before = trading_hits(hub)
    answer = post(client, "prepare", **{**data, **change})
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["error"]
    assert trading_hits(hub) == before


def test_quote_accept_executed_then_a_second_acceptance_is_refused_sending_nothing(client, hub):
    answer = post(
        client,
        "quote",
        account="kraken:alice",
        symbol="BTC/USD",
        side="buy",
        amount="0.01",
        valid_for="30",
    )
    assert answer.status_code == 200, answer.text
    quote = answer.json()["quote"]
    assert quote["state"] == "open" and quote["price"]
    accepted = post(client, "accept", account="kraken:alice", quote=quote["id"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["quote"]["state"] == "executed"
    assert accepted.json()["quote"]["order"]["id"]
    sent = accept_hits(hub)
    again = post(client, "accept", account="kraken:alice", quote=quote["id"])
    assert again.status_code == 409
    assert "already executed" in again.json()["error"]
    assert accept_hits(hub) == sent
    view = client.get("/api/state?view=quotes&account=kraken:alice").json()["data"]
    assert view["quotes"][0]["id"] == quote["id"] and view["quotes"][0]["state"] == "executed"


def test_binance_convert_quote_executes_once(client, hub):
    answer = post(
        client, "quote", account="binance:bob", symbol="BTC/USDT", side="buy", amount="0.001"
    )
    assert answer.status_code == 200, answer.text
    quote_id = answer.json()["quote"]["id"]
    assert post(client, "accept", account="binance:bob", quote=quote_id).status_code == 200
    sent = accept_hits(hub)
    assert post(client, "accept", account="binance:bob", quote=quote_id).status_code == 409
    assert accept_hits(hub) == sent


def test_an_expired_quote_is_refused_sending_nothing(client, hub):
    entry = hub.account("kraken:bob")
    live = entry.agent.quote("BTC/USD", "buy", "0.001", valid_for=timedelta(seconds=1))
    entry.remember_quote(live)
    wait_for(lambda: live.seconds_left() < -0.2, timeout=5)
    sent = accept_hits(hub)
    answer = post(client, "accept", account="kraken:bob", quote=live.id)
    assert answer.status_code == 409
    assert "expired" in answer.json()["error"]
    assert accept_hits(hub) == sent


def test_an_unknown_quote_is_refused(client):
    answer = post(client, "accept", account="kraken:alice", quote="no-such-quote")
    assert answer.status_code == 400 and "no quote" in answer.json()["error"]


def test_an_order_is_rounded_for_confirmation_then_sent_once(client, hub):
    before = trading_hits(hub)
    prepared = post(
        client,
        "prepare",
        account="kraken:bob",
        symbol="BTC/USD",
        side="buy",
        type="limit",
        amount="0.0012345678",
        price="1000.04",
    )
    assert prepared.status_code == 200, prepared.text
    body = prepared.json()
    assert body["order"]["price"] == "1000" and body["order"]["amount"] == "0.00123456"
    assert any("price" in change for change in body["rounded"])
    assert trading_hits(hub) == before  # preparing sends nothing
    placed = post(client, "confirm", draft=body["draft"])
    assert placed.status_code == 200, placed.text
    order = placed.json()["order"]
    assert order["status"] in ("pending", "open")
    assert trading_hits(hub) == before + 1
    wait_for(lambda: order_status(client, "kraken:bob", order["id"]) == "open")
    again = post(client, "confirm", draft=body["draft"])
    assert again.status_code == 400 and "already sent" in again.json()["error"]
    # ... and it is cancelled from the page.
    cancelled = post(client, "cancel", account="kraken:bob", order=order["id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["order"]["status"] == "cancelled"
    twice = post(client, "cancel", account="kraken:bob", order=order["id"])
    assert twice.status_code == 400 and "already cancelled" in twice.json()["error"]


def order_status(client, account, order_id):
    view = client.get(f"/api/state?view=orders&account={account}").json()["data"]
    return next(o["status"] for o in view["orders"] if o["id"] == order_id)


def test_a_market_order_is_seen_filled(client):
    prepared = post(
        client,
        "prepare",
        account="binance:alice",
        symbol="BTC/USDT",
        side="buy",
        type="market",
        amount="0.001",
    ).json()
    placed = post(client, "confirm", draft=prepared["draft"])
    assert placed.status_code == 200, placed.text
    order_id = placed.json()["order"]["id"]

    wait_for(lambda: order_status(client, "binance:alice", order_id) == "filled")


def test_insufficient_funds_is_said_in_words(client):
    prepared = post(
        client,
        "prepare",
        account="kraken:bob",
        symbol="BTC/USD",
        side="buy",
        type="limit",
        amount="50",
        price="30000",
    ).json()
    answer = post(client, "confirm", draft=prepared["draft"])
    assert answer.status_code == 400
    assert "insufficient funds" in answer.json()["error"].lower()
    assert "Traceback" not in answer.text
