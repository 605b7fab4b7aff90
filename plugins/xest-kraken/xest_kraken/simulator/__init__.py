"""A simulator of Kraken's spot REST API (see :class:`KrakenSimulator`)."""

from xest_kraken.simulator.server import KrakenSimulator

__all__ = ["KrakenSimulator"]
