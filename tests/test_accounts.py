"""Named accounts: the config file's location, its accounts, env-var secrets, the environment's
default account, resolution errors, the permissions warning, and secrets kept out of sight."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import pytest

from xest import accounts, errors

CONFIG = """
[accounts.alice]
exchange = "kraken"
key_env = "ALICE_KEY"
secret_env = "ALICE_SECRET"

[accounts.bob]
exchange = "Binance"
key = "bob-inline-key"
secret = "bob-inline-secret"
default = true
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "xest" / "config.toml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    os.chmod(path, 0o600)
    monkeypatch.setenv("XEST_CONFIG", str(path))
    return path


def test_config_path_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("XEST_CONFIG", str(tmp_path / "explicit.toml"))
    assert accounts.config_path() == tmp_path / "explicit.toml"
    monkeypatch.delenv("XEST_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert accounts.config_path() == tmp_path / "xdg" / "xest" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert accounts.config_path() == tmp_path / "home" / ".config" / "xest" / "config.toml"


def test_missing_file_is_an_empty_config(monkeypatch, tmp_path):
    monkeypatch.setenv("XEST_CONFIG", str(tmp_path / "nope.toml"))
    config = accounts.load_config()
    assert not config.exists and config.accounts == {}
    assert accounts.resolve("kraken", None) is None


def test_accounts_from_the_file(config, monkeypatch):
    monkeypatch.setenv("ALICE_KEY", "alice-key")
    monkeypatch.setenv("ALICE_SECRET", "alice-secret")
    alice = accounts.resolve("kraken", "alice")
    assert (alice.name, alice.exchange, alice.source) == ("alice", "kraken", str(config))
    creds = alice.credentials()
    assert (creds.key, creds.secret, creds.account) == ("alice-key", "alice-secret", "alice")
    bob = accounts.resolve("binance", "bob")
    assert bob.exchange == "binance"  # normalised
    assert bob.credentials().secret == "bob-inline-secret"
    assert [a.name for a in accounts.accounts("kraken")] == ["alice"]


def test_default_account_resolution(config, monkeypatch):
    assert accounts.resolve("binance", None).name == "bob"  # default = true
    assert accounts.resolve("kraken", None) is None  # alice is not a default
    monkeypatch.setenv("XEST_BINANCE_KEY", "env-key")
    monkeypatch.setenv("XEST_BINANCE_SECRET", "env-secret")
    env = accounts.resolve("binance", None)  # the environment wins
    assert (env.name, env.source) == ("default", "environment")
    assert env.credentials().key == "env-key"
    assert accounts.resolve("binance", "default").source == "environment"


def test_env_default_with_half_the_pair_says_which_is_missing(monkeypatch):
    monkeypatch.setenv("XEST_KRAKEN_KEY", "only-the-key")
    account = accounts.resolve("kraken", None)
    with pytest.raises(errors.ConfigError, match=r"\$XEST_KRAKEN_SECRET"):
        account.credentials()


def test_resolution_errors_say_what_to_do(config, monkeypatch):
    with pytest.raises(errors.ConfigError) as unknown:
        accounts.resolve("kraken", "carol")
    message = str(unknown.value)
    assert "no account named 'carol'" in message and "alice" in message
    assert str(config) in message and "[accounts.carol]" in message
    with pytest.raises(errors.ConfigError, match="binance account, not kraken"):
        accounts.resolve("kraken", "bob")
    with pytest.raises(errors.ConfigError, match=r"\$ALICE_KEY, which is not set"):
        accounts.resolve("kraken", "alice").credentials()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accounts = 3", "must be a table"),
        ("[accounts.x]\nkey_env = 'K'", "needs exchange"),
        ("[accounts.x]\nexchange = 'kraken'\npassword = 'p'", r"unknown field\(s\) password"),
        ("[accounts.x]\nexchange = 'kraken'\nkey = 'a'\nkey_env = 'B'", "not both"),
        ("[accounts.x]\nexchange = 'kraken'\nkey = 5", "key must be a string"),
        ("[accounts\nexchange", "not valid TOML"),
    ],
)
def test_broken_config_files(config, text, expected):
    config.write_text(text)
    with pytest.raises(errors.ConfigError, match=expected):
        accounts.load_config()


def test_two_defaults_for_one_exchange(config):
    config.write_text(CONFIG + '\n[accounts.carl]\nexchange = "binance"\ndefault = true\n')
    with pytest.raises(errors.ConfigError, match="bob, carl"):
        accounts.resolve("binance", None)


def test_group_readable_config_warns_once(config, caplog):
    os.chmod(config, 0o644)
    with caplog.at_level(logging.WARNING, logger="xest.config"):
        accounts.load_config()
        accounts.load_config()
    [record] = [r for r in caplog.records if r.name == "xest.config"]
    assert "chmod 600" in record.getMessage() and str(config) in record.getMessage()
    assert "\n" not in record.getMessage()


def test_private_config_does_not_warn(config, caplog):
    with caplog.at_level(logging.WARNING, logger="xest.config"):
        accounts.load_config()
    assert not [r for r in caplog.records if r.name == "xest.config"]


def test_secrets_stay_hidden(config):
    bob = accounts.resolve("binance", "bob")
    for text in (repr(bob), str(bob), repr(bob.credentials())):
        assert "bob-inline" not in text
    with pytest.raises(TypeError):
        pickle.dumps(bob)


def test_facade_uses_the_named_account(config, monkeypatch):
    import xest

    monkeypatch.setenv("ALICE_KEY", "alice-key")
    monkeypatch.setenv("ALICE_SECRET", "alice-secret")
    with xest.open("kraken", "alice", url="http://127.0.0.1:9") as client:
        assert client.connector.credentials.account == "alice"
    with xest.open("kraken", url="http://127.0.0.1:9") as client:
        assert client.connector.credentials is None
    with pytest.raises(errors.ConfigError, match="carol"):
        xest.open("kraken", "carol", url="http://127.0.0.1:9")


def test_facade_sim_without_account_uses_demo_credentials(monkeypatch):
    import xest
    from xest import registry

    if "kraken" not in registry.simulators():
        pytest.skip("the kraken plugin registers no simulator")
    monkeypatch.setenv("XEST_KRAKEN_KEY", "real-key-not-for-the-sim")
    monkeypatch.setenv("XEST_KRAKEN_SECRET", "real-secret-not-for-the-sim")
    with xest.open("kraken", sim=True) as client:
        assert client.connector.credentials.account == "alice"  # the first demo account


def test_unknown_account_with_sim_stops_the_simulator(monkeypatch):
    import threading

    import xest
    from xest import registry

    if "kraken" not in registry.simulators():
        pytest.skip("the kraken plugin registers no simulator")
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(errors.ConfigError):
        xest.open("kraken", "nobody", sim=True)
    leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    for t in leaked:
        t.join(2)
    assert not [t for t in leaked if t.is_alive()]


def test_home_config_is_found_without_env(monkeypatch, tmp_path):
    monkeypatch.delenv("XEST_CONFIG")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    path = Path(tmp_path) / ".config" / "xest" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[accounts.zoe]\nexchange = "kraken"\nkey = "k"\nsecret = "s"\n')
    os.chmod(path, 0o600)
    assert accounts.resolve("kraken", "zoe").source == str(path)


def test_a_config_account_named_default_does_not_hide_another_exchanges_env(config, monkeypatch):
    config.write_text('[accounts.default]\nexchange = "binance"\nkey = "k"\nsecret = "s"\n')
    monkeypatch.setenv("XEST_KRAKEN_KEY", "env-key")
    monkeypatch.setenv("XEST_KRAKEN_SECRET", "env-secret")
    assert accounts.resolve("kraken", "default").source == "environment"
    assert accounts.resolve("binance", "default").source == str(config)
    listed = accounts.accounts(exchanges=("binance", "kraken"))
    assert {(a.name, a.exchange) for a in listed} == {("default", "binance"), ("default", "kraken")}
