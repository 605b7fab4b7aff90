"""Testing support: the simulator base (:mod:`xest.testing.server`) and the conformance suite.

Kept light: importing ``xest.testing`` imports neither pytest nor the HTTP stack.
"""
