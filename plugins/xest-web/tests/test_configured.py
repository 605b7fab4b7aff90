"""Without --sim: the configured accounts, never their secrets (a simulator stands in for the
real exchange through XEST_<EXCHANGE>_URL)."""

from __future__ import annotations

import os

from starlette.testclient import TestClient


def test_configured_accounts_are_shown_by_name_only(isolated_xest, monkeypatch):
    from xest_web.app import create_app
    from xest_web.hub import Hub

    from xest import registry

    sim = registry.simulator_factory("kraken")().start()
    try:
        (alice_key, alice_secret), (bob_key, bob_secret) = (
            sim.demo_accounts()["alice"],
            sim.demo_accounts()["bob"],
        )
        config = isolated_xest / "config.toml"
        config.write_text(
            "[accounts.carol]\n"
            f'exchange = "kraken"\nkey = "{alice_key}"\nsecret = "{alice_secret}"\n'
            "[accounts.dave]\n"
            'exchange = "kraken"\nkey_env = "DAVE_KEY"\nsecret_env = "DAVE_SECRET"\n'
            "[accounts.erin]\n"
            'exchange = "kraken"\nkey_env = "ERIN_KEY"\nsecret_env = "ERIN_SECRET"\n'
        )
        os.chmod(config, 0o600)
        monkeypatch.setenv("XEST_KRAKEN_URL", sim.url)
        monkeypatch.setenv("DAVE_KEY", bob_key)
        monkeypatch.setenv("DAVE_SECRET", bob_secret)
        hub = Hub.configured(["kraken"])
        try:
            assert sorted(hub.accounts) == ["kraken:carol", "kraken:dave"]
            # erin's secret is not set: said in words, without any secret
            assert len(hub.problems) == 1 and "erin" in hub.problems[0]
            assert "ERIN_SECRET" in hub.problems[0] or "ERIN_KEY" in hub.problems[0]
            hub.start(wait=True)
            with TestClient(create_app(hub, token="t" * 40), base_url="http://127.0.0.1") as c:
                c.cookies.set("xest_web_token", "t" * 40)
                carol = c.get("/api/state?view=account&account=kraken:carol").json()["data"]
                dave = c.get("/api/state?view=account&account=kraken:dave").json()["data"]
                assert {b["asset"]: b["total"] for b in carol["balances"]}["USD"] == "100000"
                assert {b["asset"]: b["total"] for b in dave["balances"]}["USD"] == "2500"
                blob = "".join(
                    c.get(path).text
                    for path in (
                        "/account?account=kraken:carol",
                        "/exchanges",
                        "/api/state?view=exchanges",
                        "/api/state?view=orders&account=kraken:dave",
                    )
                )
                for secret in (alice_secret, bob_secret, alice_key, bob_key):
                    assert secret not in blob
        finally:
            hub.close()
    finally:
        sim.stop()
