"""The connector contract: declared capabilities, NotSupported for the rest."""

from __future__ import annotations

import pytest

from xest import errors, registry
from xest.connector import OPERATIONS, Connector
from xest.credentials import Credentials
from xest.models import ExchangeStatus


class Partial(Connector):
    exchange = "partial"
    capabilities = frozenset({"status"})

    def status(self):
        return ExchangeStatus(status="online")

    # Defined but not declared: it must still raise NotSupported.
    def ticker(self, symbol):
        return "should never be returned"


def test_declared_operation_runs():
    assert Partial(transport=None).status().is_online


ARGS = {
    "ticker": ["BTC/USD"],
    "order_book": ["BTC/USD"],
    "candles": ["BTC/USD"],
    "trades": ["BTC/USD"],
    "place_order": ["BTC/USD", "buy", "limit", "1", "100"],
    "quote": ["BTC/USD", "buy", "1"],
    "accept_quote": [None],
}


def test_undeclared_operations_raise_not_supported_naming_exchange_and_operation():
    connector = Partial(transport=None)
    for name in OPERATIONS:
        if name == "status":
            continue
        with pytest.raises(errors.NotSupported) as info:
            getattr(connector, name)(*ARGS.get(name, ()))
        assert "partial" in str(info.value)
        assert name in str(info.value)


def test_a_subclass_that_drops_a_capability_does_not_inherit_it():
    class Narrower(Partial):
        exchange = "narrower"
        capabilities = frozenset()

    with pytest.raises(errors.NotSupported, match="narrower"):
        Narrower(transport=None).status()
    assert Partial(transport=None).status().is_online


def test_unknown_capability_is_refused_at_class_definition():
    with pytest.raises(ValueError):

        class Wrong(Connector):
            exchange = "wrong"
            capabilities = frozenset({"teleport"})


def test_declared_but_unimplemented_is_a_registration_problem():
    class Liar(Connector):
        exchange = "liar"
        capabilities = frozenset({"status", "balances"})

        def status(self):
            return ExchangeStatus(status="online")

    assert "balances" in registry._problem(Liar)
    assert registry._problem(Partial) is None


def test_credentials_never_show_their_secret():
    creds = Credentials("my-api-key-123", "c2VjcmV0LXNlY3JldA==", account="alice")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "my-api-key-123" not in text
        assert "c2VjcmV0LXNlY3JldA==" not in text
        assert "alice" in text
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(creds)


def test_unknown_exchange_is_a_clear_plugin_error():
    with pytest.raises(errors.PluginError, match="no connector for 'nowhere'"):
        registry.connector_class("nowhere")


def test_error_messages_name_the_exchange():
    err = errors.RateLimited("slow down", exchange="binance", retry_after=3)
    assert str(err) == "binance: slow down"
    assert err.retry_after == 3
    assert isinstance(err, errors.NetworkError) and isinstance(err, errors.XestError)
    assert issubclass(errors.QuoteExpired, errors.InvalidQuote)
    assert issubclass(errors.OrderNotFound, errors.InvalidOrder)
    assert issubclass(errors.OnMaintenance, errors.ExchangeUnavailable)
