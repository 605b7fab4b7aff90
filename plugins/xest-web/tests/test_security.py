"""Every refusal of the guard: token, host (DNS rebinding), origin, method, body type; and
nothing secret in what is served."""

from __future__ import annotations

import json

import pytest
from web_helpers import ORIGIN, TOKEN, trading_hits

QUOTE = {"account": "kraken:alice", "symbol": "BTC/USD", "side": "buy", "amount": "0.01"}


@pytest.mark.parametrize(
    "path",
    [
        "/exchanges",
        "/account",
        "/events?view=exchanges",
        "/api/state?view=exchanges",
        "/static/app.js",
    ],
)
def test_every_get_without_the_token_is_refused(anonymous, path):
    answer = anonymous.get(path)
    assert answer.status_code == 403
    assert "token" in answer.json()["error"]


def test_a_wrong_token_is_refused(anonymous):
    assert anonymous.get("/exchanges?token=not-the-token").status_code == 403
    anonymous.cookies.set("xest_web_token", "not-the-token")
    assert anonymous.get("/exchanges").status_code == 403


def test_the_token_in_the_url_becomes_a_cookie_and_leaves_the_address_bar(anonymous):
    answer = anonymous.get(f"/account?account=kraken:bob&token={TOKEN}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account?account=kraken%3Abob"
    cookie = answer.headers["set-cookie"]
    assert f"xest_web_token={TOKEN}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert anonymous.get("/account?account=kraken:bob").status_code == 200


def test_other_host_names_are_refused_dns_rebinding(client):
    answer = client.get("/exchanges", headers={"Host": "attacker.example:8750"})
    assert answer.status_code == 403
    assert "DNS rebinding" in answer.json()["error"]
    assert client.get("/exchanges", headers={"Host": "localhost:8750"}).status_code == 200


def test_a_post_without_the_token_is_refused_and_sends_nothing(anonymous, hub):
    before = trading_hits(hub)
    answer = anonymous.post("/api/quote", json=QUOTE, headers={"Origin": ORIGIN})
    assert answer.status_code == 403
    assert trading_hits(hub) == before


def test_a_post_from_another_origin_is_refused(client, hub):
    before = trading_hits(hub)
    answer = client.post("/api/quote", json=QUOTE, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403
    assert "cross-origin" in answer.json()["error"]
    assert trading_hits(hub) == before


def test_a_post_without_origin_or_referer_is_refused(client):
    assert client.post("/api/quote", json=QUOTE).status_code == 403


def test_a_referer_of_this_origin_stands_in_for_a_missing_origin(client):
    answer = client.post(
        "/api/quote", json={**QUOTE, "amount": ""}, headers={"Referer": f"{ORIGIN}/quotes"}
    )
    assert answer.status_code == 400  # past the guard; refused by the form check


def test_a_form_post_is_refused_only_json_changes_state(client, hub):
    before = trading_hits(hub)
    answer = client.post("/api/quote", data=QUOTE, headers={"Origin": ORIGIN})
    assert answer.status_code == 415
    assert trading_hits(hub) == before


def test_state_changes_are_post_only(client):
    assert client.get("/api/quote").status_code == 405
    assert client.put("/api/quote", json=QUOTE, headers={"Origin": ORIGIN}).status_code == 405
    assert client.delete("/api/cancel", headers={"Origin": ORIGIN}).status_code == 405


def test_every_answer_forbids_framing_sniffing_and_foreign_scripts(client):
    answer = client.get("/exchanges")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert '<script src="/static/app.js"' in answer.text
    assert "http" not in answer.text.split("<body", 1)[1].replace(ORIGIN, "")  # no CDN


def test_no_secret_reaches_a_page_or_a_state(client, hub):
    secrets_ = []
    for entry in hub.exchanges.values():
        for _key, secret in entry.simulator.demo_accounts().values():
            secrets_.append(secret)
    assert secrets_
    bodies = [
        client.get(f"/{p}?account=kraken:alice").text
        for p in ("exchanges", "account", "quotes", "orders", "market")
    ]
    for view in ("account", "quotes", "orders"):
        for account in hub.accounts:
            bodies.append(client.get(f"/api/state?view={view}&account={account}").text)
    bodies.append(client.get("/api/state?view=exchanges").text)
    blob = "\n".join(bodies)
    for secret in secrets_:
        assert secret not in blob
    assert TOKEN not in blob  # not even the token is echoed into a page


def test_a_json_body_that_is_not_an_object_is_refused(client):
    answer = client.post(
        "/api/quote",
        content=json.dumps([1, 2]),
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
