"""Agents keep a local picture of an exchange (:class:`ExchangeAgent`: status, clock, markets)
and of an account (:class:`AccountAgent`: balances, orders, quotes), polling in the background,
remembering what they saw, and telling subscribers what changed."""

from typing import Any

from xest.agents.base import Agent, Event, Listener, Observation, Subscription, TaskState
from xest.agents.exchange import ExchangeAgent, ExchangeState

__all__ = [
    "AccountAgent",
    "Agent",
    "Event",
    "ExchangeAgent",
    "ExchangeState",
    "Listener",
    "Observation",
    "Subscription",
    "TaskState",
]


def __getattr__(name: str) -> Any:
    # Lazy: the account agent pulls in the trading machinery, which plain reads do not need.
    if name == "AccountAgent":
        from xest.agents.account import AccountAgent

        return AccountAgent
    raise AttributeError(f"module 'xest.agents' has no attribute {name!r}")
