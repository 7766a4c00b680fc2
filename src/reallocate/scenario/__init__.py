"""Scenario: the typed input of a reallocation, and its exact integer view.

The JSON form of ``Scenario`` is a public contract (see README). Amounts are decimals in the
scenario's ``unit``; every amount must be an exact multiple of ``precision``. The envelope (name,
unit, precision, localities, rules, transfer costs) is validated by pydantic; the lines, which may
number a million, are validated column by column (:mod:`reallocate.lines`) and kept as arrays
counted in whole units of ``precision``. ``scenario.table`` (:class:`LineTable`) holds what the
optimiser needs per line, derived once.
"""

from ..lines import Line, Lines
from ..rules import (
    AMOUNT_FIELDS,
    LINE_FLAGS,
    LINE_KEYS,
    Amount,
    Limit,
    Locality,
    Number,
    PoolAttribute,
    Rate,
    Rules,
    Share,
    Target,
    TransferCost,
)
from .model import Scenario, load
from .table import LineTable

__all__ = [
    "AMOUNT_FIELDS",
    "LINE_FLAGS",
    "LINE_KEYS",
    "Amount",
    "Limit",
    "Line",
    "LineTable",
    "Lines",
    "Locality",
    "Number",
    "PoolAttribute",
    "Rate",
    "Rules",
    "Scenario",
    "Share",
    "Target",
    "TransferCost",
    "load",
]
