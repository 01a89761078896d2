"""``kelly doctor``: a pre-show checklist with figures; non-zero exit on a failure.

One module per check; each returns a :class:`~.result.CheckResult`.
:func:`.run.run_checks` runs them in order against a performance config.
"""
