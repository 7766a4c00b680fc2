"""The words of a scenario besides its lines: localities, rules, targets, limits, transfer costs.

These are small pydantic models (the envelope of a scenario); the lines themselves are validated
column by column in :mod:`reallocate.lines`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .text import IdText, NameText

__all__ = [
    "AMOUNT_FIELDS",
    "GOAL_ORDER",
    "LINE_FLAGS",
    "LINE_KEYS",
    "Amount",
    "Goal",
    "Limit",
    "Locality",
    "Number",
    "PoolAttribute",
    "Rate",
    "Rules",
    "Share",
    "Target",
    "TransferCost",
]

#: The attributes that identify a line, in order. ``pool_by`` may name any of them.
LINE_KEYS: tuple[str, ...] = ("locality", "program", "fund", "component")
AMOUNT_FIELDS: tuple[str, ...] = ("allocated", "disbursed", "capacity", "floor", "ceiling")
#: A line's flags: at most one of them is true.
LINE_FLAGS: tuple[str, ...] = ("frozen", "give_only", "receive_only")


def float_amount(value: float) -> Decimal:
    """A binary float read as a money amount: the decimal it shows with 15 significant digits, as
    Excel keeps numbers (``0.1 + 0.2`` is 0.3). JSON numbers and text are read digit for digit."""
    return Decimal(format(value, ".15g"))


def _float_amount(value: Any) -> Any:
    if type(value) is float and value == value and abs(value) != float("inf"):
        return float_amount(value)
    return value


Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), BeforeValidator(_float_amount)]
"""A money amount: a finite decimal >= 0, given as a JSON number or string (a float computed in
Python is read with 15 significant digits)."""


def _not_bool(value: Any) -> Any:
    # JSON true/false are not numbers; pydantic would read them as 1.0 / 0.0
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "Input should be a number, not a boolean")
    return value


# constraints before the validator, so the JSON Schema says minimum / maximum
Number = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_not_bool)]
"""A finite number >= 0 (weights, costs)."""

Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), BeforeValidator(_not_bool)]
"""A fraction in [0, 1] (disbursement rates, shares)."""

PoolAttribute = Literal["locality", "program", "fund", "component"]
Share = Literal["proportional", "priority"]
Goal = Literal["move_costs", "fair_shares", "transfer_costs"]
#: the default order of the goals after "absorb the most": approval tiers are law, fairness is
#: policy, transfer costs are preference
GOAL_ORDER: tuple[Goal, ...] = ("move_costs", "fair_shares", "transfer_costs")

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Limit(BaseModel):
    """A limit on what a locality may lose or gain in one review: an ``amount``, or a ``share`` of
    the locality's total allocation (e.g. ``{"share": 0.3}``: at most 30%). Exactly one of them."""

    model_config = _STRICT

    amount: Amount | None = None
    share: Rate | None = None

    @model_validator(mode="after")
    def _one(self) -> Limit:
        if (self.amount is None) == (self.share is None):
            raise ValueError("give exactly one of 'amount' or 'share'")
        return self


class Locality(BaseModel):
    """A unit that holds allocation lines (district, commune, province...)."""

    model_config = _STRICT

    id: IdText = Field(min_length=1, pattern=r"\S", description="Identifier used by lines and transfer costs.")
    name: NameText | None = Field(default=None, description="Display name, e.g. 'Nam Trà My'.")
    weight: Number = Field(
        default=1.0,
        description="Priority weight: with 'priority' rules, higher weight receives first and gives last.",
    )
    tags: dict[NameText, NameText | int | float | bool] = Field(
        default_factory=dict, description="Free attributes, e.g. {'mountainous': true}."
    )
    max_loss: Limit | None = Field(default=None, description="Overrides rules.max_loss for this locality.")
    max_gain: Limit | None = Field(default=None, description="Overrides rules.max_gain for this locality.")

    @property
    def label(self) -> str:
        """The name when there is one, else the id."""
        return self.name or self.id


class Target(BaseModel):
    """A disbursement-rate target for the lines matching every attribute given (e.g. a program)."""

    model_config = _STRICT

    rate: Rate = Field(
        description="Expected disbursement (absorbable / what the matching lines hold after the moves) must reach this."
    )
    locality: IdText | None = None
    program: IdText | None = None
    fund: IdText | None = None
    component: IdText | None = None

    @property
    def selector(self) -> dict[str, str]:
        return {k: v for k in LINE_KEYS if (v := getattr(self, k)) is not None}

    def label(self) -> str:
        sel = self.selector
        return "all lines" if not sel else ", ".join(f"{k} {v}" for k, v in sel.items())


class Rules(BaseModel):
    """How money may move and how it is shared."""

    model_config = _STRICT

    pool_by: tuple[PoolAttribute, ...] = Field(
        default=("program", "fund"),
        description="Money moves only between lines equal on these attributes.",
    )
    recipients: Share = Field(
        default="proportional",
        description="When room exceeds surplus: 'proportional' (same share of room) or 'priority' "
        "(highest locality weight first).",
    )
    donors: Share = Field(
        default="proportional",
        description="When surplus exceeds room: 'proportional' (same share of surplus) or 'priority' "
        "(lowest locality weight gives first).",
    )
    min_transfer: Amount = Field(default=Decimal(0), description="Every transfer is 0 or at least this amount.")
    move_costs: dict[PoolAttribute, Number] = Field(
        default_factory=dict,
        description="Cost per unit moved for each attribute a move changes, e.g. {'program': 5, 'locality': 1}: "
        "the approval a move needs (see rules.order: by default they rank right after absorbing the most "
        "and before fair shares, so a move that needs a higher approval is made only when nothing needing "
        "a lower one can absorb that money).",
    )
    max_loss: Limit | None = Field(default=None, description="Most any locality may lose (net, over all its lines).")
    max_gain: Limit | None = Field(default=None, description="Most any locality may gain (net, over all its lines).")
    max_transfers_per_line: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        default=None, description="Each line takes part in at most this many transfers."
    )
    target_rate: Rate | None = Field(
        default=None, description="Expected disbursement of all lines must reach this rate (e.g. 1.0 for 100%)."
    )
    targets: tuple[Target, ...] = Field(
        default=(), description="Rates that the lines matching each selector must reach, e.g. per program."
    )
    order: tuple[Goal, ...] = Field(
        default=GOAL_ORDER,
        description="The order of the goals after absorbing the most money, each named once: 'move_costs' "
        "(approval tiers), 'fair_shares', 'transfer_costs'. Each goal is pursued only among the plans that are "
        "best for every goal before it; the fewest transfers and a fixed tie-break always come last.",
    )

    @field_validator("order")
    @classmethod
    def _every_goal_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(value) != sorted(GOAL_ORDER):
            missing = [g for g in GOAL_ORDER if g not in value]
            twice = sorted({g for g in value if value.count(g) > 1})
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"named twice: {', '.join(twice)}"] if twice else []
            )
            raise ValueError(
                "name each of move_costs, fair_shares, transfer_costs exactly once (" + "; ".join(parts) + ")"
            )
        return value


class TransferCost(BaseModel):
    """Cost per unit moved from one locality to another (default 0 for pairs not listed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_: IdText = Field(alias="from", min_length=1, pattern=r"\S")
    to: IdText = Field(min_length=1, pattern=r"\S")
    cost: Number = Field(description="Cost per unit moved (in the scenario unit).")
