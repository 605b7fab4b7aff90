"""The hooks through which xest finds the Example connector, its simulator and the payloads the
conformance suite checks it with. Imports stay inside the hooks so `xest plugins list` is quick."""

from xest import hookimpl

# The versions of xest's plugin API this plugin is written for (see xest.hookspecs.PLUGIN_API).
XEST_PLUGIN_API = 1


@hookimpl
def xest_register_connectors(register):
    from xest_example.connector import ExampleConnector

    register(ExampleConnector)


@hookimpl
def xest_simulators(register):
    from xest_example.simulator import ExampleSimulator

    register("example", ExampleSimulator)


@hookimpl
def xest_error_payloads(register):
    from xest_example.cases import ERROR_CASES

    for case in ERROR_CASES:
        register("example", case)


@hookimpl
def xest_recorded_payloads(register):
    from xest_example.cases import RECORDED_CASES

    for case in RECORDED_CASES:
        register("example", case)
