"""xest-example: a connector for Example, a small fictional exchange, with its simulator.

The worked example of CONTRIBUTING.md: a complete third-party connector that passes
``xest conformance example``.
"""

from xest_example.connector import ExampleConnector

__all__ = ["ExampleConnector"]
