"""The hooks through which xest finds the Kraken connector, its simulator, and the material
the conformance suite checks it with."""

from xest import hookimpl


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
