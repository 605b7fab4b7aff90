"""Agents keep a local picture of an exchange (:class:`ExchangeAgent`) and of an account, polling
in the background, remembering what they saw, and telling subscribers what changed."""

from xest.agents.account import AccountAgent, BalanceSnapshot
from xest.agents.base import Agent, Event, Listener, Observation, Subscription, TaskState
from xest.agents.exchange import ExchangeAgent, ExchangeState
from xest.agents.live import OrderEvents, TrackedOrder
from xest.agents.quote import LiveQuote

__all__ = [
    "AccountAgent",
    "Agent",
    "BalanceSnapshot",
    "Event",
    "ExchangeAgent",
    "ExchangeState",
    "Listener",
    "LiveQuote",
    "Observation",
    "OrderEvents",
    "Subscription",
    "TaskState",
    "TrackedOrder",
]
