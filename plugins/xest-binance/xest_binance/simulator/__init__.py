"""A simulator of Binance's spot REST API (and convert quotes) on 127.0.0.1."""

from xest_binance.simulator.server import BinanceSimulator

__all__ = ["BinanceSimulator"]
