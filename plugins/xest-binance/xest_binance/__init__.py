"""Binance connector for xest, with a simulator of Binance's spot REST API.

Loaded lazily: registering the plugin (``xest plugins list``, ``xest.open("kraken")``) imports
neither the connector nor the simulator.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BinanceConnector"]


def __getattr__(name: str) -> Any:
    if name == "BinanceConnector":
        from xest_binance.connector import BinanceConnector

        return BinanceConnector
    raise AttributeError(f"module 'xest_binance' has no attribute {name!r}")
