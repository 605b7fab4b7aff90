"""The facade's trading methods go through the account agent and its registry."""

from __future__ import annotations

from decimal import Decimal

import pytest

import xest
from xest import errors
from xest.agents.account import AccountAgent
from xest.models import OrderStatus, QuoteState


def test_client_trades_through_its_account(tx):
    with xest.open("tradex", sim=True) as client:
        assert isinstance(client.account, AccountAgent) and client.account is client.account
        order = client.place_order("BTC/USD", "buy", "limit", "0.5", "40000")
        assert client.order(order.id) is order and order.client_id
        client.simulator.fill(order.id, "0.5")
        assert order.wait(timeout=5, poll=0.01).status is OrderStatus.FILLED
        with pytest.raises(errors.InvalidOrder, match="already filled"):
            client.cancel_order(order.id)
        quote = client.quote("BTC/USD", "sell", "0.2")
        assert client.accept_quote(quote).amount == Decimal("0.2")
        assert quote.state is QuoteState.EXECUTED
        with pytest.raises(errors.QuoteAlreadyExecuted):
            client.accept_quote(quote.id)
        client.account.start()
    assert not client.account.running  # closing the client stopped its agents


def test_trading_without_credentials_says_what_to_do(tx, sim):
    with xest.open("tradex", url=sim.url) as client:
        assert client.account is None
        with pytest.raises(errors.AuthenticationError, match="needs an account"):
            client.place_order("BTC/USD", "buy", "market", "1")
        with pytest.raises(errors.AuthenticationError):
            client.quote("BTC/USD", "buy", "1")
