"""Kraken connector for xest."""

from xest_kraken.connector import KrakenConnector

__all__ = ["KrakenConnector"]
