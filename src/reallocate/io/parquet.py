"""Parquet, the format of national files (pyarrow): scenario lines in, plan lines and transfers out.

A scenario folder for national files::

    scenario/
      lines.parquet           required: one row per line, the columns of JSON lines
      scenario.json           optional: everything but the lines (name, unit, precision, rules,
                              localities, transfer_costs), as in a JSON scenario
      localities.parquet      optional: id, name, weight; any other column is a tag
      transfer_costs.parquet  optional: from, to, cost

Amount columns may be integers, exact decimals (``decimal128``), floats (read with 15 significant
digits, as Excel keeps numbers) or text; empty cells of ``floor`` / ``ceiling`` mean "not given".

A plan is written as a folder (``plan/``) or beside a file name (``plan.parquet``)::

    plan/lines.parquet        (or plan.parquet)            one row per scenario line
    plan/transfers.parquet    (or plan.transfers.parquet)  one row per transfer
    plan/plan.json            (or plan.json)               status, summary, stages, explanation
                                                           totals: the JSON plan without its rows

Amounts are int64 when the precision is a whole number, else exact ``decimal128`` with the
precision's decimals; lines carry their reason code. ``pandas.read_parquet`` reads each file as is.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ScenarioError
from ..lines import LINE_FIELDS, LineColumns
from ..rules import LINE_KEYS
from ..transfers import APPROVAL_NAMES, approval_codes, transfer_unit_costs
from .atomic import atomic_file, atomic_folder

if TYPE_CHECKING:
    import pyarrow as pa

    from ..plan import Plan
    from ..scenario import Scenario
    from ..uncertainty.risk import Risk

__all__ = ["read_parquet_scenario", "write_plan_parquet"]

_PLAN_LINE_AMOUNTS = (
    "allocated",
    "disbursed",
    "capacity",
    "surplus",
    "room",
    "final",
    "change",
    "absorbable_before",
    "absorbable_after",
)


def _problem(where: str, msg: str, kind: str) -> ScenarioError:
    return ScenarioError([{"loc": (where,), "msg": msg, "type": kind, "input": None}])


def _column_values(column: pa.ChunkedArray) -> list[Any]:
    """A Parquet column as plain Python values; integers and strings without a detour."""
    import pyarrow as pa

    typ = column.type
    if pa.types.is_dictionary(typ):
        column = column.cast(typ.value_type)
        typ = column.type
    if pa.types.is_integer(typ) and column.null_count == 0:
        return column.to_numpy().tolist()  # type: ignore[no-any-return]
    return column.to_pylist()  # type: ignore[no-any-return]


def _read_table(path: Path, what: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise _problem(what, f"{path.name} is not a readable Parquet file ({exc})", "not_parquet") from None


def read_parquet_scenario(path: str | Path) -> Scenario:
    """Read a scenario folder (see the module docstring), or a lines ``.parquet`` file alone (the
    scenario is then named after the file, with default unit, precision and rules)."""
    from ..scenario import Scenario

    p = Path(path)
    folder = p if p.is_dir() else p.parent
    lines_path = p / "lines.parquet" if p.is_dir() else p
    if not lines_path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(lines_path))
    data: dict[str, Any] = {"name": p.stem if not p.is_dir() else p.name}
    envelope = folder / "scenario.json" if p.is_dir() else None
    if envelope is not None and envelope.exists():
        from .._decode import JSONError, parse_json

        try:
            extra = parse_json(envelope.read_bytes())
        except JSONError as exc:
            raise _problem("scenario.json", f"not valid JSON: {exc}", "json_invalid") from None
        if not isinstance(extra, dict):
            raise _problem("scenario.json", "scenario.json must hold a JSON object", "dict_type")
        if "lines" in extra:
            raise _problem("scenario.json", "the lines belong in lines.parquet, not in scenario.json", "lines_twice")
        data.update(extra)
    table = _read_table(lines_path, "lines")
    unknown = [c for c in table.column_names if c not in LINE_FIELDS]
    if unknown:
        raise _problem(
            "lines",
            f"lines.parquet has unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}",
            "extra_column",
        )
    data["lines"] = LineColumns({name: _column_values(table.column(name)) for name in table.column_names})
    for name, fields in (("localities", None), ("transfer_costs", ("from", "to", "cost"))):
        extra_path = folder / f"{name}.parquet" if p.is_dir() else None
        if extra_path is None or not extra_path.exists():
            continue
        if name in data:
            raise _problem(name, f"{name} given twice: in scenario.json and in {name}.parquet", f"{name}_twice")
        rows = _read_table(extra_path, name).to_pylist()
        if name == "localities":
            known = {"id", "name", "weight", "max_loss", "max_gain"}
            out = []
            for row in rows:
                rec = {k: v for k, v in row.items() if k in known and v is not None}
                tags = {k: v for k, v in row.items() if k not in known and v is not None}
                if tags:
                    rec["tags"] = tags
                out.append(rec)
            data[name] = out
        else:
            data[name] = [{k: v for k, v in row.items() if v is not None} for row in rows]
            del fields
    return Scenario.from_dict(data)


def _amount_array(units: np.ndarray, precision: Decimal) -> pa.Array:
    """Amounts in the scenario unit: int64 when exact as such, else exact decimal128."""
    import pyarrow as pa

    if precision == precision.to_integral_value():
        factor = int(precision)
        top = int(np.abs(units).max(initial=0))
        if top * factor < 2**63:
            return pa.array(units.astype(np.int64) * factor, type=pa.int64())
    exp = precision.normalize().as_tuple().exponent
    scale = max(0, -int(exp)) if isinstance(exp, int) else 0
    from ..lines import decimals

    return pa.array(decimals(units, precision), type=pa.decimal128(38, scale))


def _keys(plan: Plan, at: np.ndarray, prefix: str) -> dict[str, pa.Array]:
    import pyarrow as pa

    lines = plan.scenario.lines
    out = {}
    for k in LINE_KEYS:
        cats = pa.array(list(lines.categories(k)), type=pa.string())
        codes = pa.array(lines.codes(k)[at].astype(np.int32))
        out[prefix + k] = pa.DictionaryArray.from_arrays(codes, cats)
    return out


def _tables(plan: Plan, risk: Risk | None = None) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    import pyarrow as pa

    from ..plan_json import plan_json_chunks

    sc = plan.scenario
    p = sc.precision
    n = len(sc.lines)
    found = plan.final_units is not None
    cols: dict[str, Any] = _keys(plan, np.arange(n), "") if found else {}
    if found:
        units = plan.line_units()
        for name in _PLAN_LINE_AMOUNTS:
            cols[name] = _amount_array(units[name], p)
        if plan.explain is not None and plan.explain.reasons.shape[0] == n:
            cols["reason"] = pa.array(plan.explain.reasons.tolist(), type=pa.string()).dictionary_encode()
    lines = pa.table(cols)
    src, dst, u = plan.transfer_from, plan.transfer_to, plan.transfer_units
    tcols: dict[str, Any] = {}
    if found:
        tcols.update(_keys(plan, src, "from_"))
        tcols.update(_keys(plan, dst, "to_"))
        tcols["amount"] = _amount_array(u, p)
        cost_index, costs = transfer_unit_costs(sc, src, dst)
        unit_cost = np.array([float(c) for c in costs], dtype=np.float64)[cost_index]
        tcols["unit_cost"] = pa.array(unit_cost, type=pa.float64())
        # cost columns are floats (as in the JSON plan's rates): the product of the amount and the
        # unit cost, rounded once per factor, within an ulp of the exact decimal product
        tcols["cost"] = pa.array(u.astype(np.float64) * float(p) * unit_cost, type=pa.float64())
        names = pa.array(list(APPROVAL_NAMES), type=pa.string())
        tcols["approval"] = pa.DictionaryArray.from_arrays(
            pa.array(approval_codes(sc, src, dst).astype(np.int32)), names
        )
    transfers = pa.table(tcols)
    # everything else of the plan: its JSON without the rows of lines and transfers
    meta = json.loads(b"".join(plan_json_chunks(plan, compact=True, rows=False, risk=risk)))
    del meta["lines"], meta["transfers"]
    if meta.get("explain"):
        del meta["explain"]["lines"]
    meta["layout"] = {"lines": "one row per scenario line", "transfers": "one row per transfer"}
    return lines, transfers, meta


def write_plan_parquet(plan: Plan, path: str | Path, risk: Risk | None = None) -> list[Path]:
    """Write ``plan`` as Parquet: into a folder (``lines.parquet``, ``transfers.parquet``,
    ``plan.json``), or, for a path ending in ``.parquet``, as that file with
    ``<name>.transfers.parquet`` and ``<name>.json`` beside it. Every file is written atomically.
    Returns the files written."""
    import pyarrow.parquet as pq

    lines, transfers, meta = _tables(plan, risk)
    text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    lines = lines.replace_schema_metadata({"reallocate.plan": json.dumps(meta, ensure_ascii=False)})
    target = Path(path)
    if target.suffix.lower() == ".parquet":
        stem = target.with_suffix("")
        out = [target, stem.with_name(stem.name + ".transfers.parquet"), stem.with_name(stem.name + ".json")]
        with atomic_file(out[0]) as tmp:
            pq.write_table(lines, tmp)
        with atomic_file(out[1]) as tmp:
            pq.write_table(transfers, tmp)
        with atomic_file(out[2]) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return out
    with atomic_folder(target, (".parquet", ".json")) as tmp:
        pq.write_table(lines, tmp / "lines.parquet")
        pq.write_table(transfers, tmp / "transfers.parquet")
        (tmp / "plan.json").write_text(text, encoding="utf-8")
    return [target / "lines.parquet", target / "transfers.parquet", target / "plan.json"]
