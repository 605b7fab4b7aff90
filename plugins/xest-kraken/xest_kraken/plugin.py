"""The hooks through which xest finds the Kraken connector, its simulator, and the material
the conformance suite checks it with."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


@hookimpl
def xest_register_connectors(register):
    from xest_kraken.connector import KrakenConnector

    register(KrakenConnector)


@hookimpl
def xest_simulators(register):
    def factory(**options):
        from xest_kraken.simulator import KrakenSimulator

        return KrakenSimulator(**options)

    register("kraken", factory)


@hookimpl
def xest_error_payloads(register):
    from xest_kraken.conformance import error_cases

    for case in error_cases():
        register("kraken", case)


@hookimpl
def xest_recorded_payloads(register):
    from xest_kraken.conformance import recorded_cases

    for case in recorded_cases():
        register("kraken", case)


@hookimpl
def xest_conformance_options(register):
    from xest_kraken.conformance import CONFORMANCE_OPTIONS

    register("kraken", dict(CONFORMANCE_OPTIONS))
