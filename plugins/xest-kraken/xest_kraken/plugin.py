"""The hooks through which xest finds the Kraken connector and its simulator."""

from xest import hookimpl


@hookimpl
def xest_register_connectors(register):
    from xest_kraken.connector import KrakenConnector

    register(KrakenConnector)
