"""Plans as JSON (placeholder during the move to columnar output)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._json import dumps

if TYPE_CHECKING:
    from ..plan import Plan


def plan_json_text(plan: Plan, *, indent: int | None = 2, compact: bool = False) -> str:
    from ..plan import records

    precision = plan.scenario.precision
    payload = plan._payload(records(plan.lines), records(plan.transfers))
    del precision, compact
    return dumps(payload, indent=indent)
