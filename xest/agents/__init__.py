"""Agents keep a local picture of an exchange (:class:`ExchangeAgent`) and of an account, polling
in the background, remembering what they saw, and telling subscribers what changed."""

from xest.agents.base import Agent, Event, Listener, Observation, Subscription, TaskState
from xest.agents.exchange import ExchangeAgent, ExchangeState

__all__ = [
    "Agent",
    "Event",
    "ExchangeAgent",
    "ExchangeState",
    "Listener",
    "Observation",
    "Subscription",
    "TaskState",
]
