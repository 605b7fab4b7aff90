"""The one hook through which xest finds the Example connector with its kit: simulator,
error and recorded cases for the conformance suite. Imports stay inside the hook and the
factories so `xest plugins list` is quick."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


def simulator(**options):
    from xest_example.simulator import ExampleSimulator

    return ExampleSimulator(**options)


def error_cases():
    from xest_example.cases import ERROR_CASES

    return ERROR_CASES


def recorded_cases():
    from xest_example.cases import RECORDED_CASES

    return RECORDED_CASES


@hookimpl
def xest_connectors():
    from xest.testing import ConnectorKit
    from xest_example.connector import ExampleConnector

    return ConnectorKit(
        ExampleConnector,
        simulator=simulator,
        error_cases=error_cases,
        recorded_cases=recorded_cases,
    )
