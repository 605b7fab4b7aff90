"""Kraken spot REST API connector."""

from __future__ import annotations

from datetime import timedelta

from xest import errors
from xest.connector import Connector
from xest.http import DecayingCounter, Endpoint
from xest.models import ExchangeStatus, ServerTime

SYSTEM_STATUS = Endpoint("SystemStatus", "GET", "/0/public/SystemStatus", ttl=5)
TIME = Endpoint("Time", "GET", "/0/public/Time")


class KrakenConnector(Connector):
    exchange = "kraken"
    default_url = "https://api.kraken.com"
    capabilities = frozenset({"status", "server_time"})
    rate_limits = {"public": DecayingCounter(maximum=15, decay=1.0)}
    time_resolution = timedelta(seconds=1)

    def check_response(self, response):
        data = response.data
        if isinstance(data, dict) and data.get("error"):
            raise errors.ExchangeError("; ".join(data["error"]), exchange=self.exchange)

    def status(self) -> ExchangeStatus:
        result = self.request(SYSTEM_STATUS)["result"]
        return ExchangeStatus(status=result["status"], updated=None, raw=result)

    def server_time(self) -> ServerTime:
        result = self.request(TIME)["result"]
        return ServerTime(time=int(result["unixtime"]), resolution=self.time_resolution, raw=result)
