"""The hooks through which xest finds the Binance connector and its simulator."""

from xest import hookimpl


@hookimpl
def xest_register_connectors(register):
    from xest_binance.connector import BinanceConnector

    register(BinanceConnector)


@hookimpl
def xest_simulators(register):
    from xest_binance.simulator import BinanceSimulator

    register("binance", BinanceSimulator)
