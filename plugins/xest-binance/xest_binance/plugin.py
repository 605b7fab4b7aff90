"""The one hook through which xest finds the Binance connector with its kit: simulator, error
and recorded cases, and how the conformance suite exercises it. Heavy imports stay lazy."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


def simulator(**options):
    from xest_binance.simulator import BinanceSimulator

    return BinanceSimulator(**options)


def error_cases():
    from xest_binance.conformance import error_cases

    return error_cases()


def recorded_cases():
    from xest_binance.conformance import recorded_cases

    return recorded_cases()


@hookimpl
def xest_connectors():
    from xest.testing import ConnectorKit
    from xest_binance.conformance import CONFORMANCE_OPTIONS
    from xest_binance.connector import BinanceConnector

    return ConnectorKit(
        BinanceConnector,
        simulator=simulator,
        error_cases=error_cases,
        recorded_cases=recorded_cases,
        options=CONFORMANCE_OPTIONS,
    )
