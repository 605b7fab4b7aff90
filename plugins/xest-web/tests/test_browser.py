"""The dashboard in a real browser: Debian's Chromium driven by Playwright, clicking through
each scenario a person would. Screenshots of every page land in ``test-output/`` beside
these tests' distribution (printed at the end of the run).

Chromium is the operating system's (``/usr/bin/chromium``; ``.ci/run`` installs it): in CI a
missing browser fails these tests rather than skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from web_helpers import accept_hits, trading_hits

CHROMIUM = os.environ.get("XEST_WEB_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(
    os.environ.get("XEST_WEB_TEST_OUTPUT", Path(__file__).resolve().parents[1] / "test-output")
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 20_000  # ms: an agent poll or two on a loaded machine


@pytest.fixture(scope="module")
def browser(server):
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="xest-web-chromium-")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1200, "height": 820},
        )
        context.set_default_timeout(TIMEOUT)
        try:
            opener = context.new_page()
            opener.goto(server.url)  # the printed URL: the token becomes a cookie
            assert opener.url == f"{server.base}/exchanges"
            opener.close()
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)
    print(f"\nxest-web screenshots: {OUTPUT}")


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def test_the_server_clock_visibly_ticks(page, server):
    page.goto(f"{server.base}/exchanges")
    clock = page.locator('[data-exchange="binance"] .clock')
    page.wait_for_function(
        "() => /UTC/.test(document.querySelector('[data-exchange=binance] .clock')?.textContent)"
    )
    first = clock.text_content()
    page.wait_for_timeout(1200)
    second = clock.text_content()
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d UTC", first) and first != second
    card = page.locator('[data-exchange="kraken"]')
    assert card.locator(".status-text").text_content() == "online"
    assert "±" in card.locator(".offset").text_content()
    assert "unknown → online" in card.locator(".history").text_content()
    shot(page, "exchanges")


def test_two_accounts_show_different_balances(page, server):
    page.goto(f"{server.base}/account?account=kraken:alice")
    usd = page.locator('#balances tr[data-asset="USD"] .total')
    usd.wait_for()
    assert usd.text_content() == "100000"
    page.select_option("#account", "kraken:bob")
    page.wait_for_function(
        "() => document.querySelector('#balances tr[data-asset=USD] .total')?.textContent"
        " === '2500'"
    )
    assert "account=kraken%3Abob" in page.url
    page.select_option("#account", "binance:alice")
    page.locator('#balances tr[data-asset="USDT"]').wait_for()
    shot(page, "account")


def ask_quote(page, symbol: str, amount: str, valid_for: str) -> str:
    page.fill("#quote-form input[name=symbol]", symbol)
    page.fill("#quote-form input[name=amount]", amount)
    page.select_option("#quote-form select[name=valid_for]", valid_for)
    page.click("#quote-form button[type=submit]")
    page.wait_for_function("() => /^quote /.test(document.querySelector('#quote-msg').textContent)")
    text = page.locator("#quote-msg").text_content()
    return text.split()[1].rstrip(":")


def replay_accept(page, account: str, quote_id: str) -> dict:
    return page.evaluate(
        """async ([account, quote]) => {
            const r = await fetch('/api/accept', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({account, quote})});
            return {status: r.status, body: await r.json()};
        }""",
        [account, quote_id],
    )


def test_quote_accept_executed_then_a_second_acceptance_is_refused(page, browser, server, hub):
    page.goto(f"{server.base}/quotes?account=kraken:alice")
    other = browser.new_page()  # a second tab on the same account
    other.goto(f"{server.base}/quotes?account=kraken:alice")
    quote_id = ask_quote(page, "BTC/USD", "0.01", "30")
    card = page.locator(f'[data-quote="{quote_id}"]')
    assert "left (server clock)" in card.locator(".countdown").text_content(timeout=TIMEOUT)
    other.locator(f'[data-quote="{quote_id}"] button.accept').wait_for()
    card.locator("button.accept").click()
    page.wait_for_selector(f'[data-quote="{quote_id}"][data-state="executed"]')
    assert card.locator("button.accept").count() == 0
    assert card.locator(".order .id").text_content()
    # The other tab follows: executed, its accept control gone.
    other.wait_for_selector(f'[data-quote="{quote_id}"][data-state="executed"]')
    assert other.locator(f'[data-quote="{quote_id}"] button.accept').count() == 0
    sent = accept_hits(hub)
    replay = replay_accept(other, "kraken:alice", quote_id)  # a replayed POST
    assert replay["status"] == 409
    assert "already executed" in replay["body"]["error"]
    assert accept_hits(hub) == sent
    other.close()
    shot(page, "quotes")


def test_an_expired_quote_cannot_be_accepted(page, server, hub):
    page.goto(f"{server.base}/quotes?account=binance:bob")
    quote_id = ask_quote(page, "BTC/USDT", "0.001", "10")
    card = page.locator(f'[data-quote="{quote_id}"]')
    card.locator("button.accept").wait_for()
    page.wait_for_function(
        f"() => /expired/.test(document.querySelector('[data-quote=\"{quote_id}\"]').textContent)",
        timeout=25_000,
    )
    assert card.locator("button.accept").count() == 0
    sent = accept_hits(hub)
    replay = replay_accept(page, "binance:bob", quote_id)
    assert replay["status"] == 409
    assert "expired" in replay["body"]["error"]
    assert accept_hits(hub) == sent


def place(page, *, type: str, amount: str, price: str | None = None, symbol: str) -> str:
    page.fill("#order-form input[name=symbol]", symbol)
    page.select_option("#order-form select[name=type]", type)
    page.fill("#order-form input[name=amount]", amount)
    if price is not None:
        page.fill("#order-form input[name=price]", price)
    page.click("#order-form button[type=submit]")
    page.locator("#confirm").wait_for(state="visible")
    text = page.locator("#confirm-text").text_content()
    page.click("#confirm-send")
    page.wait_for_function("() => /placed/.test(document.querySelector('#order-msg').textContent)")
    order_id = page.locator("#order-msg").text_content().split()[1]
    return order_id, text


def test_a_market_order_is_placed_and_seen_filled(page, server):
    page.goto(f"{server.base}/orders?account=binance:alice")
    order_id, text = place(page, type="market", amount="0.0012", symbol="BTC/USDT")
    assert text.startswith("buy 0.0012 BTC/USDT at market")
    page.wait_for_selector(f'#orders tr[data-order="{order_id}"][data-status="filled"]')
    shot(page, "orders")


def test_an_open_order_is_cancelled(page, server):
    page.goto(f"{server.base}/orders?account=kraken:bob")
    order_id, text = place(
        page, type="limit", amount="0.0012345678", price="1000.04", symbol="BTC/USD"
    )
    assert "0.00123456 BTC/USD at 1000" in text  # the order as rounded to the market's steps
    row = f'#orders tr[data-order="{order_id}"]'
    page.wait_for_selector(f'{row}[data-status="open"]')
    page.click(f"{row} button.cancel")
    page.wait_for_selector(f'{row}[data-status="cancelled"]')
    assert page.locator(f"{row} button.cancel").count() == 0


def test_bad_input_is_a_message_and_sends_nothing(page, server, hub):
    page.goto(f"{server.base}/orders?account=kraken:alice")
    before = trading_hits(hub)
    for amount, words in (
        ("", "enter the amount"),
        ("abc", "plain positive number"),
        ("-1", "plain positive number"),
        ("1e400", "plain positive number"),
    ):
        page.fill("#order-form input[name=amount]", amount)
        page.fill("#order-form input[name=price]", "1000")
        page.click("#order-form button[type=submit]")
        page.wait_for_function(
            "w => document.querySelector('#order-msg').textContent.includes(w)", arg=words
        )
        assert page.locator("#confirm").is_hidden()
    page.fill("#order-form input[name=symbol]", "NOPE/USD")
    page.fill("#order-form input[name=amount]", "1")
    page.click("#order-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#order-msg').textContent.includes('unknown symbol')"
    )
    assert trading_hits(hub) == before


def test_the_market_page_shows_ticker_and_book(page, server):
    page.goto(f"{server.base}/market?exchange=kraken&symbol=BTC/USD")
    page.locator("#ticker td.bid").wait_for()
    page.wait_for_function("() => document.querySelectorAll('#bids tbody tr').length >= 5")
    shot(page, "market")


def test_a_post_without_the_token_is_refused(browser, server, hub):
    fresh = browser.request
    body = {"account": "kraken:alice", "symbol": "BTC/USD", "side": "buy", "amount": "0.01"}
    before = trading_hits(hub)
    headers = {"Origin": server.base, "Content-Type": "application/json"}
    anonymous = fresh.post(
        f"{server.base}/api/quote", data=body, headers={**headers, "Cookie": "xest_web_token=wrong"}
    )
    assert anonymous.status == 403
    assert "token" in anonymous.json()["error"]
    assert trading_hits(hub) == before


@pytest.fixture
def other_origin():
    """A page on another origin of this machine (another port: same site, so the SameSite
    cookie still goes along and only the Origin check stands in the way)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>another site</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_a_post_from_another_origin_is_refused(page, server, hub, app, other_origin):
    page.goto(other_origin)
    before = trading_hits(hub)
    refused = dict(app.refused)
    result = page.evaluate(
        """async (base) => {
            const body = JSON.stringify({account: 'kraken:alice', symbol: 'BTC/USD',
                                         side: 'buy', amount: '0.01'});
            let simple = 'failed';
            try {
                const r = await fetch(base + '/api/quote', {method: 'POST', mode: 'no-cors',
                    credentials: 'include', headers: {'Content-Type': 'text/plain'}, body});
                simple = r.type;
            } catch (e) { simple = 'failed'; }
            let preflighted = 'sent';
            try {
                await fetch(base + '/api/quote', {method: 'POST', credentials: 'include',
                    headers: {'Content-Type': 'application/json'}, body});
            } catch (e) { preflighted = 'blocked'; }
            return {simple, preflighted};
        }""",
        server.base,
    )
    assert result == {"simple": "opaque", "preflighted": "blocked"}
    assert app.refused["origin"] == refused.get("origin", 0) + 1  # the simple POST
    # The JSON POST's preflight (OPTIONS, without cookies) is refused too: never sent.
    assert sum(app.refused.values()) == sum(refused.values()) + 2
    assert trading_hits(hub) == before
