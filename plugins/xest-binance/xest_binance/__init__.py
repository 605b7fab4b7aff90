"""Binance connector for xest."""

from xest_binance.connector import BinanceConnector

__all__ = ["BinanceConnector"]
