"""The hooks through which xest finds the Binance connector and its simulator."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


@hookimpl
def xest_register_connectors(register):
    from xest_binance.connector import BinanceConnector

    register(BinanceConnector)


@hookimpl
def xest_simulators(register):
    from xest_binance.simulator import BinanceSimulator

    register("binance", BinanceSimulator)


@hookimpl
def xest_error_payloads(register):
    from xest_binance.conformance import error_cases

    for case in error_cases():
        register("binance", case)


@hookimpl
def xest_recorded_payloads(register):
    from xest_binance.conformance import recorded_cases

    for case in recorded_cases():
        register("binance", case)


@hookimpl
def xest_conformance_options(register):
    from xest_binance.conformance import CONFORMANCE_OPTIONS

    register("binance", dict(CONFORMANCE_OPTIONS))
