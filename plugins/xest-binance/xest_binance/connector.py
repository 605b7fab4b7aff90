"""Binance spot REST API connector."""

from __future__ import annotations

from datetime import UTC, datetime

from xest import errors
from xest.connector import Connector
from xest.http import Endpoint, WeightWindow
from xest.models import ExchangeStatus, ServerTime, Status

SYSTEM_STATUS = Endpoint("system/status", "GET", "/sapi/v1/system/status", ttl=5)
TIME = Endpoint("time", "GET", "/api/v3/time")


class BinanceConnector(Connector):
    exchange = "binance"
    default_url = "https://api.binance.com"
    capabilities = frozenset({"status", "server_time"})
    rate_limits = {"public": WeightWindow(limit=6000, window=60, header="X-MBX-USED-WEIGHT-1M")}

    def check_response(self, response):
        data = response.data
        if response.status >= 400 and isinstance(data, dict) and "code" in data:
            raise errors.ExchangeError(f"{data['code']} {data.get('msg')}", exchange=self.exchange)

    def status(self) -> ExchangeStatus:
        data = self.request(SYSTEM_STATUS)
        status = Status.ONLINE if data["status"] == 0 else Status.MAINTENANCE
        return ExchangeStatus(status=status, message=data.get("msg", ""), raw=data)

    def server_time(self) -> ServerTime:
        data = self.request(TIME)
        ms = int(data["serverTime"])
        return ServerTime(time=datetime.fromtimestamp(ms / 1000, UTC), raw=data)
