"""The conformance suite every xest connector must pass.

Run it with ``xest conformance NAME`` or ``pytest --xest-connector NAME``. Its checks live in
the ``check_*.py`` modules here (named so a plain ``pytest`` never collects them):

- ``check_contract``: every declared operation against the connector's own simulator, returning
  the right models with their invariants; undeclared ones raise NotSupported.
- ``check_faults``: HTTP errors, rate limits, timeouts, resets, truncated and HTML bodies
  injected between connector and simulator; order placement never retried.
- ``check_errors``: the exchange's own error payloads (the kit's ``error_cases``) map to
  the right xest errors.
- ``check_recorded``: recorded real answers (the kit's ``recorded_cases``): the request sent
  is the one expected, the result parses to the expected values, and each case compares
  something real.
- ``check_state``: invariants against the simulator's own state (its inspection API) and
  the placement foundation other checks depend on.
- ``check_signing``: signed requests accepted by the simulator base's verification (a
  foundation), and the simulator's honesty (a forged signature and a replayed nonce refused).
- ``check_extra``: the plugin's own checks (``ConnectorKit.checks``).
- ``check_secrets``: key and secret never appear in logs, errors, reprs or the cache.
- ``check_live``: read-only checks against the real exchange, only with ``--xest-live``.
"""
