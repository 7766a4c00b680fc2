"""From tables of cells to a scenario: every problem of every table reported at once, at its cell."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ScenarioError, format_location
from ..scenario import LINE_KEYS, Scenario
from .cells import (
    _blank,
    _Cell,
    _CellError,
    _decimal,
    _flag,
    _header_name,
    _ignored,
    _integer,
    _limit,
    _nfc,
    _number,
    _Places,
    _Problems,
    _rate,
    _Row,
    _show,
    _Table,
    _tag,
    _text,
)
from .layout import (
    _LINE_AMOUNTS,
    _MOVE_COSTS,
    _REFERENCE,
    _TABLES,
    _TARGET_KEYS,
    FLAGS,
    LINE_COLUMNS,
    LINE_REQUIRED,
    LOCALITY_COLUMNS,
    RULES,
    SETTINGS,
    TRANSFER_COST_COLUMNS,
)
from .sheets import _percent_text


# ------------------------------------------------------------------------------------ builder
class _Builder:
    """Turns tables into the scenario's JSON shape, remembering where every value came from."""

    def __init__(self, places: _Places, problems: _Problems, default_name: str, typed: bool) -> None:
        self.places = places
        self.problems = problems
        self.default_name = default_name
        self.typed = typed  # cells carry types (Excel), or text only (CSV)
        self.record_rows: dict[str, list[int]] = {}
        self.rule_rows: dict[str, int] = {}
        self.target_rows: list[int] = []
        self.setting_rows: dict[str, int] = {}

    # --------------------------------------------------------------------------- structure
    def check_columns(self, table: _Table, known: Sequence[str], required: Sequence[str], *, tags: bool) -> bool:
        ok = True
        names = [c for c in table.columns if not c.startswith("\x00")]
        missing = [c for c in required if c not in table.columns]
        if missing:
            ok = False
            self.problems.add(
                table.name,
                None,
                None,
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"(the header, row {table.header_row}, has: {', '.join(names) or 'nothing'})",
                loc=(table.name,),
                kind="missing_column",
            )
        if not tags:
            for col in names:
                if col not in known and not _ignored(col):
                    ok = False
                    self.problems.add(
                        table.name,
                        table.header_row,
                        col,
                        f"unknown column {col!r}; the columns are {', '.join(known)}",
                        kind="unknown_column",
                    )
        return ok

    def _read(
        self, table: str, k: int, row: _Row, col: str, convert: Callable[[_Cell, str], Any], what: str | None = None
    ) -> Any:
        cell = row.cells.get(col)
        if cell is None:
            return None
        try:
            return convert(cell, what or col)
        except _CellError as bad:
            loc = (table, k, col) if table != "localities" or col in LOCALITY_COLUMNS else (table, k, "tags", col)
            self.problems.add(table, row.number, col, str(bad), loc=loc, value=cell.value)
            return None

    # ------------------------------------------------------------------------------ tables
    def lines(self, table: _Table) -> list[dict[str, Any]]:
        converters: dict[str, Callable[[_Cell, str], Any]] = {
            **{k: _text for k in LINE_KEYS},
            **{k: _decimal for k in _LINE_AMOUNTS},
            **{k: _flag for k in FLAGS},
        }
        out = []
        self.record_rows["lines"] = []
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col in LINE_COLUMNS:
                value = self._read("lines", k, row, col, converters[col])
                if value is not None:
                    rec[col] = value
            out.append(rec)
            self.record_rows["lines"].append(row.number)
        return out

    def localities(self, table: _Table) -> list[dict[str, Any]]:
        out = []
        self.record_rows["localities"] = []
        tag_columns = [c for c in table.columns if c not in LOCALITY_COLUMNS and not c.startswith("\x00")]
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col, convert in (("id", _text), ("name", _text), ("weight", _number)):
                value = self._read("localities", k, row, col, convert)
                if value is not None:
                    rec[col] = value
            for col in ("max_loss", "max_gain"):
                value = self._read("localities", k, row, col, _limit)
                if value is not None and None not in value.values():
                    rec[col] = value
            tags = {}
            for col in tag_columns:
                if _ignored(col):
                    continue
                value = self._read("localities", k, row, col, lambda c, w: _tag(c, w, self.typed))
                if value is not None:
                    tags[col] = value
            if tags:
                rec["tags"] = tags
            out.append(rec)
            self.record_rows["localities"].append(row.number)
        return out

    def transfer_costs(self, table: _Table) -> list[dict[str, Any]]:
        out = []
        self.record_rows["transfer_costs"] = []
        for k, row in enumerate(table.rows):
            rec: dict[str, Any] = {}
            for col, convert in (("from", _text), ("to", _text), ("cost", _number)):
                value = self._read("transfer_costs", k, row, col, convert)
                if value is not None:
                    rec[col] = value
            out.append(rec)
            self.record_rows["transfer_costs"].append(row.number)
        return out

    def _pairs(self, table: _Table, key_col: str, known: Sequence[str]) -> list[tuple[str, _Row, _Cell]]:
        """(name, row, value cell) of a two-column table; unknown and repeated names are problems."""
        out = []
        first: dict[str, int] = {}
        for row in table.rows:
            name_cell = row.cells.get(key_col)
            value = row.cells.get("value", _Cell(None))
            name = _header_name(name_cell.value) if name_cell is not None and not _blank(name_cell.value) else ""
            if not name:
                if not _blank(value.value):
                    self.problems.add(
                        table.name, row.number, key_col, f"a value without a {key_col} name", kind="no_name"
                    )
                continue
            if name not in known:
                self.problems.add(
                    table.name,
                    row.number,
                    key_col,
                    f"unknown {key_col} {name!r}; the {key_col}s are {', '.join(known)}",
                    kind=f"unknown_{key_col}",
                    value=name,
                )
                continue
            if name != "target" and name in first:
                self.problems.add(
                    table.name,
                    row.number,
                    key_col,
                    f"{name} is given twice (also {self.places.place(table.name, first[name], key_col)})",
                    kind=f"duplicate_{key_col}",
                    value=name,
                )
                continue
            first.setdefault(name, row.number)
            out.append((name, row, value))
        return out

    def rules(self, table: _Table) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        targets: list[dict[str, Any]] = []
        move_costs: dict[str, Any] = {}
        for name, row, cell in self._pairs(table, "rule", RULES):
            if _blank(cell.value):
                continue
            self.rule_rows[name] = row.number
            where: tuple[Any, ...] = ("rules", name)
            try:
                if name == "pool_by":
                    text = _text(cell, name) or ""
                    parts = [p.strip().lower() for p in re.split(r"[,;]", text) if p.strip()]
                    rules["pool_by"] = [] if parts == ["none"] else parts
                elif name == "order":
                    text = _text(cell, name) or ""
                    rules["order"] = [p.strip().lower() for p in re.split(r"[,;]", text) if p.strip()]
                elif name in ("recipients", "donors"):
                    rules[name] = (_text(cell, name) or "").lower()
                elif name == "min_transfer":
                    rules[name] = _decimal(cell, name)
                elif name in _MOVE_COSTS:
                    attr = name.split(".", 1)[1]
                    where = ("rules", "move_costs", attr)
                    move_costs[attr] = _number(cell, name)
                elif name in ("max_loss", "max_gain"):
                    rules[name] = _limit(cell, name)
                elif name == "max_transfers_per_line":
                    rules[name] = _integer(cell, name)
                elif name == "target_rate":
                    rules[name] = _rate(cell, name)
                else:  # target
                    where = ("rules", "targets", len(targets))
                    targets.append(self._target(cell))
                    self.target_rows.append(row.number)
            except _CellError as bad:
                if name == "target":
                    where = ("rules", "target", row.number)  # not a position: the target is left out
                self.problems.add("rules", row.number, "value", str(bad), loc=where, value=cell.value, what=name)
        if move_costs:
            rules["move_costs"] = move_costs
        if targets:
            rules["targets"] = targets
        return rules

    def _target(self, cell: _Cell) -> dict[str, Any]:
        """``program=ntm; fund=investment; rate=100%`` -> ``{"program": "ntm", ..., "rate": 1.0}``."""
        v = cell.value
        if not isinstance(v, str):
            raise _CellError(f"target {_show(v)}: write it as text, e.g. program=ntm; rate=100%")
        out: dict[str, Any] = {}
        for part in (p.strip() for p in v.split(";")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = _header_name(key)
            if not sep or key not in _TARGET_KEYS:
                raise _CellError(
                    f"target {_nfc(v)!r}: {part!r} should be key=value with key one of {', '.join(_TARGET_KEYS)} "
                    "(e.g. program=ntm; rate=100%)"
                )
            if key in out:
                raise _CellError(f"target {_nfc(v)!r} gives {key} twice")
            out[key] = _rate(_Cell(value.strip()), "target rate") if key == "rate" else _nfc(value)
        if out.get("rate") is None:
            raise _CellError(f"target {_nfc(v)!r} has no rate (e.g. program=ntm; rate=100%)")
        return out

    def settings(self, table: _Table) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, row, cell in self._pairs(table, "setting", SETTINGS):
            if _blank(cell.value):
                continue
            self.setting_rows[name] = row.number
            try:
                out[name] = _decimal(cell, name) if name == "precision" else _text(cell, name)
            except _CellError as bad:
                self.problems.add("scenario", row.number, "value", str(bad), loc=(name,), value=cell.value, what=name)
        return out

    # ------------------------------------------------------------------------ validation
    def locate(self, loc: tuple[Any, ...]) -> tuple[str | None, int | None, str | None, str]:
        """(table, row, column, what) of a pydantic location."""
        if not loc:
            return None, None, None, "scenario"
        head = loc[0]
        if head in SETTINGS:
            return "scenario", self.setting_rows.get(head), "value", head
        if head in ("lines", "localities", "transfer_costs"):
            rows = self.record_rows.get(head, [])
            if len(loc) < 2 or not isinstance(loc[1], int) or loc[1] >= len(rows):
                return head, None, None, head
            row = rows[loc[1]]
            if len(loc) < 3:
                return head, row, None, head
            col = str(loc[3]) if loc[2] == "tags" and len(loc) > 3 else str(loc[2])
            return head, row, col, col
        if head == "rules" and len(loc) > 1:
            name = str(loc[1])
            if name == "targets":
                t = loc[2] if len(loc) > 2 and isinstance(loc[2], int) else None
                trow = self.target_rows[t] if t is not None and t < len(self.target_rows) else None
                what = "target rate" if loc[-1] == "rate" else "target"
                return "rules", trow, "value", what
            if name == "move_costs" and len(loc) > 2:
                name = f"move_costs.{loc[2]}"
            return "rules", self.rule_rows.get(name), "value", name
        return (head if head in _TABLES else None), None, None, format_location(loc)

    def references(self, msg: str) -> str:
        """``lines[3]`` -> ``lines!A5`` (the row), ``rules.targets[1]`` -> the target's cell."""

        def repl(m: re.Match[str]) -> str:
            if m.group(3) is not None:
                table, row, col, what = self.locate(("rules", "targets", int(m.group(3))))
            else:
                table, row, col, what = self.locate((m.group(1), int(m.group(2))))
            return self.places.place(table, row, col, what) if row is not None else m.group(0)

        return _REFERENCE.sub(repl, msg)

    def validate(self, data: dict[str, Any]) -> Scenario | None:
        try:
            return Scenario.from_dict(data)
        except ScenarioError as exc:
            for err in exc.errors:
                loc = tuple(err.get("loc", ()))
                if any(loc[: len(r)] == r for r in self.problems.reported):
                    continue  # the reader already said what is wrong with this cell
                table, row, col, what = self.locate(loc)
                msg = self.references(_message(err, what, table))
                self.problems.add(table, row, col, msg, kind=str(err.get("type", "invalid")), what=what)
                self.problems.items[-1]["loc"] = loc
                self.problems.items[-1]["input"] = err.get("input")
            return None


def _message(err: dict[str, Any], what: str, table: str | None) -> str:
    """A pydantic problem in the words of a spreadsheet user."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    value = err.get("input")
    shown = _show(value)
    loc = tuple(err.get("loc", ()))
    if loc and loc[-1] == "share" and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = _percent_text(float(value))  # it was given as a percent
    if kind == "missing":
        return f"{what} is required (the cell is empty)"
    if kind == "too_short" and table == "lines":
        return "at least one line is required: the sheet has no rows below its header"
    if kind == "greater_than_equal":
        return f"{what} {shown} is negative" if ctx.get("ge") == 0 else f"{what} {shown} is below {ctx.get('ge')}"
    if kind == "greater_than":
        return f"{what} {shown} must be above {ctx.get('gt')}"
    if kind == "less_than_equal":
        if loc and loc[-1] == "share":
            return f"{what} {shown} is above 100%"
        if ctx.get("le") == 1:
            return f"{what} {shown} is above 100%: write a rate as a percent (95%) or a fraction (0.95)"
        return f"{what} {shown} is above {ctx.get('le')}"
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return f"{what} is blank"
    if kind == "literal_error":
        return f"{what} {shown} should be {ctx.get('expected', 'one of the allowed values')}"
    if kind in ("decimal_parsing", "float_parsing", "int_parsing", "decimal_type", "float_type"):
        return f"{what} {shown} is not a number"
    if kind in ("int_type", "int_from_float"):
        return f"{what} {shown} is not a whole number"
    if kind == "finite_number":
        return f"{what} is not a finite number"
    return str(err.get("msg", "invalid"))


def _build(tables: dict[str, _Table], places: _Places, problems: _Problems, default_name: str, typed: bool) -> Scenario:
    b = _Builder(places, problems, default_name, typed)
    lines_t = tables.get("lines")
    if lines_t is None:
        problems.add(
            None,
            None,
            None,
            "no lines table: add a sheet (or lines.csv) with one row per allocation line",
            loc=("lines",),
            kind="missing_table",
        )
    ok = True
    if lines_t is not None:
        ok &= b.check_columns(lines_t, LINE_COLUMNS, LINE_REQUIRED, tags=False)
    locs_t = tables.get("localities")
    if locs_t is not None and locs_t.rows:
        ok &= b.check_columns(locs_t, LOCALITY_COLUMNS, ("id",), tags=True)
    tc_t = tables.get("transfer_costs")
    if tc_t is not None and tc_t.rows:
        ok &= b.check_columns(tc_t, TRANSFER_COST_COLUMNS, TRANSFER_COST_COLUMNS, tags=False)
    rules_t = tables.get("rules")
    if rules_t is not None and rules_t.rows:
        ok &= b.check_columns(rules_t, ("rule", "value"), ("rule", "value"), tags=False)
    set_t = tables.get("scenario")
    if set_t is not None and set_t.rows:
        ok &= b.check_columns(set_t, ("setting", "value"), ("setting", "value"), tags=False)
    if not ok or lines_t is None:
        problems.raise_if_any()

    assert lines_t is not None
    data: dict[str, Any] = {"name": default_name}
    if set_t is not None and set_t.rows:
        data.update(b.settings(set_t))
    data["lines"] = b.lines(lines_t)
    if locs_t is not None and locs_t.rows:  # an empty sheet means "no localities table"
        data["localities"] = b.localities(locs_t)
    if tc_t is not None and tc_t.rows:
        data["transfer_costs"] = b.transfer_costs(tc_t)
    if rules_t is not None and rules_t.rows:
        data["rules"] = b.rules(rules_t)
    scenario = b.validate(data)
    problems.raise_if_any()
    assert scenario is not None
    return scenario


# ------------------------------------------------------------------------------------ readers
