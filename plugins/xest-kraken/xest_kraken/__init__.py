"""Kraken connector for xest, with a simulator of Kraken's spot REST API.

Loaded lazily: registering the plugin (``xest plugins list``) imports neither the connector
nor the simulator.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KrakenConnector", "KrakenSimulator"]


def __getattr__(name: str) -> Any:
    if name == "KrakenConnector":
        from xest_kraken.connector import KrakenConnector

        return KrakenConnector
    if name == "KrakenSimulator":
        from xest_kraken.simulator import KrakenSimulator

        return KrakenSimulator
    raise AttributeError(f"module 'xest_kraken' has no attribute {name!r}")
