"""Reading scenarios and writing plans, one module per format.

* ``json`` — scenarios in (exact decimals; a fast path for the lines of national files), plans
  out, streamed to the file without building the whole text;
* ``parquet`` — national files: scenario lines in, plan lines and transfers out (pyarrow);
* ``excel`` — workbooks in and out; ``template`` — an empty, documented workbook to fill in;
* ``csv`` — folders of CSV files in and out;
* ``cells``, ``tables``, ``layout``, ``sheets`` — what the spreadsheet readers and writers share.

Reading (:func:`read_excel`, :func:`read_csv_folder`, :func:`read_scenario`) builds the same
:class:`~reallocate.scenario.Scenario` as the JSON contract, from tables with the same columns:

* ``lines`` (required): locality, program, fund, component, allocated, disbursed, capacity, floor,
  ceiling, frozen, give_only, receive_only;
* ``localities`` (optional): id, name, weight, max_loss, max_gain; any other column is a tag;
* ``transfer_costs`` (optional): from, to, cost;
* ``rules`` (optional): two columns ``rule`` and ``value``, one rule per row (see :data:`RULES`);
* ``scenario`` (optional): two columns ``setting`` and ``value``: name, unit, precision.

Every problem is reported, all at once, at the cell that holds it (``lines!G7: capacity -3 is
negative``; in CSV ``lines.csv:7 capacity: ...``) as a :class:`ScenarioFileError`; nothing is half
read. Amounts are read exactly: text cells digit for digit, number cells as Excel shows them (at
most 15 significant digits, Excel's own precision). See ``docs/excel.md``.

Writing (:func:`write_template`, :func:`write_scenario_excel`, :func:`write_scenario_csv`,
:func:`write_excel`, :func:`write_csv`) labels every header in English or Vietnamese
(``lang="en" | "vi"``) through :mod:`reallocate.labels`.
"""

from __future__ import annotations

from pathlib import Path

from ..scenario import Scenario, load
from .cells import ScenarioFileError, _file_problem
from .csv import read_csv_folder, write_csv, write_scenario_csv
from .excel import read_excel, write_excel, write_scenario_excel
from .json import write_plan_json, write_plan_json_to
from .layout import (
    KNOWN_FUNDS,
    KNOWN_PROGRAMS,
    LINE_COLUMNS,
    LOCALITY_COLUMNS,
    RULES,
    SETTINGS,
    TRANSFER_COST_COLUMNS,
)
from .parquet import read_parquet_scenario, write_plan_parquet
from .template import write_template

__all__ = [
    "KNOWN_FUNDS",
    "KNOWN_PROGRAMS",
    "LINE_COLUMNS",
    "LOCALITY_COLUMNS",
    "RULES",
    "SETTINGS",
    "TRANSFER_COST_COLUMNS",
    "ScenarioFileError",
    "read_csv_folder",
    "read_excel",
    "read_parquet_scenario",
    "read_scenario",
    "write_csv",
    "write_excel",
    "write_plan_json",
    "write_plan_json_to",
    "write_plan_parquet",
    "write_scenario_csv",
    "write_scenario_excel",
    "write_template",
]


def read_scenario(path: str | Path) -> Scenario:
    """Read a scenario from what ``path`` holds: a JSON file, an Excel workbook (.xlsx, .xlsm), a
    Parquet file of lines, or a folder with ``lines.parquet`` or ``lines.csv`` (a path to the
    folder's ``lines.csv`` also works)."""
    p = Path(path)
    if p.is_dir():
        if (p / "lines.parquet").exists():
            return read_parquet_scenario(p)
        return read_csv_folder(p)
    suffix = p.suffix.lower()
    if suffix == ".json":
        return load(p)
    if suffix in (".xlsx", ".xlsm"):
        return read_excel(p)
    if suffix == ".parquet":
        return read_parquet_scenario(p)
    if suffix == ".csv" and p.name.lower() == "lines.csv":
        return read_csv_folder(p.parent)
    if not p.exists():
        raise FileNotFoundError(2, "No such file or directory", str(p))
    hint = " (save old .xls workbooks as .xlsx)" if suffix == ".xls" else ""
    raise ScenarioFileError(
        [_file_problem(p.name, f"not a scenario file; expected .json, .xlsx, .parquet or a folder{hint}")],
        p.name,
    )
