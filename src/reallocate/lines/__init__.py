"""The lines of a scenario, column by column: validated as whole columns, held as arrays.

A national scenario has 10^5-10^6 lines, and one Python object per line costs more than the
solve. So lines from any reader (JSON, Excel, CSV, Parquet, pandas, Python objects) are checked a
whole column at a time (:mod:`.check`) and kept as :class:`Lines` (:mod:`.model`): ids as category
codes, money as int64 whole units of ``precision``, flags as bool arrays. ``Decimal`` appears only
at the edges: ``lines[i]`` (a :class:`Line`), ``Lines.amounts`` and the writers.
"""

from .check import LineColumns, LinesCheck, check_lines, check_relations, duplicates, located
from .model import LINE_FIELDS, MAX_UNITS, Line, Lines, combine_codes, decimals, factorize, fmt, issue, to_decimal

__all__ = [
    "LINE_FIELDS",
    "MAX_UNITS",
    "Line",
    "LineColumns",
    "Lines",
    "LinesCheck",
    "check_lines",
    "check_relations",
    "combine_codes",
    "decimals",
    "duplicates",
    "factorize",
    "fmt",
    "issue",
    "located",
    "to_decimal",
]
