"""The conformance suite every xest connector must pass.

Run it with ``xest conformance NAME`` or ``pytest --xest-connector NAME``. Its checks live in
the ``check_*.py`` modules here (named so a plain ``pytest`` never collects them):

- ``check_contract``: every declared operation against the connector's own simulator, returning
  the right models with their invariants; undeclared ones raise NotSupported.
- ``check_faults``: HTTP errors, rate limits, timeouts, resets, truncated and HTML bodies
  injected between connector and simulator; order placement never retried.
- ``check_errors``: the exchange's own error payloads (``xest_error_payloads`` hook) map to
  the right xest errors.
- ``check_recorded``: recorded real answers (``xest_recorded_payloads`` hook) parse to the
  expected values.
- ``check_secrets``: key and secret never appear in logs, errors, reprs or the cache.
- ``check_live``: read-only checks against the real exchange, only with ``--xest-live``.
"""
