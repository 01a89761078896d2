"""Which actors restart together when one fails."""

from __future__ import annotations


def restart_set(strategy: str, failed: str, start_order: list[str]) -> list[str]:
    """Names to restart, in start order.

    - ``one_for_one``: only the failed actor.
    - ``rest_for_one``: the failed actor and every actor started after it
      (its dependents along the graph, since start order follows dependencies).
    - ``one_for_all``: every actor.
    """
    if strategy == "one_for_one":
        return [failed]
    if strategy == "rest_for_one":
        return start_order[start_order.index(failed) :]
    if strategy == "one_for_all":
        return list(start_order)
    raise ValueError(f"unknown strategy {strategy!r}")
