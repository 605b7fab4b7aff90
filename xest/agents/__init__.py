"""Agents keep a local picture of an exchange (:class:`ExchangeAgent`: status, clock, markets)
and of an account (:class:`AccountAgent`: balances, orders, quotes), polling in the background,
remembering what they saw, and telling subscribers what changed."""

import importlib
from typing import Any

from xest.agents.base import Agent, Event, Listener, Observation, Subscription, TaskState
from xest.agents.exchange import ExchangeAgent, ExchangeState

# The account side pulls in the trading machinery, which plain reads do not need: loaded on
# first use of one of these names.
_LAZY = {
    "AccountAgent": "xest.agents.account",
    "BalanceSnapshot": "xest.agents.account",
    "LiveQuote": "xest.agents.quote",
    "MarketAgent": "xest.agents.market",
    "OrderEvents": "xest.agents.live",
    "TrackedOrder": "xest.agents.live",
}

__all__ = [
    "AccountAgent",
    "Agent",
    "BalanceSnapshot",
    "Event",
    "ExchangeAgent",
    "ExchangeState",
    "Listener",
    "LiveQuote",
    "MarketAgent",
    "Observation",
    "OrderEvents",
    "Subscription",
    "TaskState",
    "TrackedOrder",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'xest.agents' has no attribute {name!r}")
