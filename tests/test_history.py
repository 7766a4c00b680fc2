"""The disbursement history: the shipped synthetic file, its 2023 calibration, the readers, and
every kind of invalid input refused at its path."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reallocate
from reallocate import ScenarioError
from reallocate.datasets import make_history, quang_nam_2023, quang_nam_history, sources
from reallocate.messages import translate, untranslated
from reallocate.uncertainty import History, load_history

SHIPPED = Path(make_history.__file__).parent / "data" / "quang-nam-history" / "history.csv"


def test_the_shipped_history_is_what_the_script_makes() -> None:
    assert SHIPPED.read_text("utf-8") == make_history.generate().csv_text()
    assert make_history.main(["--check"]) == 0


def test_2023_is_calibrated_to_the_bundled_dataset_line_by_line() -> None:
    rows = list(csv.DictReader(SHIPPED.read_text("utf-8").splitlines()))
    at = {(r["locality"], r["program"], r["fund"], r["budget_year"], r["year"], r["month"]): r for r in rows}
    scenario = quang_nam_2023()
    assert len(scenario.lines) == 92
    for line in scenario.lines:
        k = (line.locality, line.program, line.fund)
        october = at[(*k, "2023", "2023", "10")]
        deadline = at[(*k, "2023", "2024", "1")]
        assert Decimal(october["disbursed"]) == line.disbursed
        assert Decimal(deadline["disbursed"]) == min(line.allocated, line.capacity)
        assert Decimal(deadline["allocated"]) == line.allocated
    # 5 budget years, 13 reports each (January to the next January), for every line
    assert len(rows) == 92 * 5 * 13
    assert {r["budget_year"] for r in rows} == {"2019", "2020", "2021", "2022", "2023"}


def test_the_national_shape_is_the_published_one() -> None:
    share = make_history.BASE_SHARE
    assert share[3] == pytest.approx(0.147 / 0.931) and share[6] == pytest.approx(0.413 / 0.931)
    assert share[11] == pytest.approx((0.931 - 0.026) / 0.931) and share[12] == 1.0
    assert bool(np.all(np.diff(share) > 0))


def test_the_dataset_loads_and_says_what_is_real() -> None:
    h = quang_nam_history()
    assert len(h.keys) == 92 and h.n_rows == 5980 and h.budget_years == [2019, 2020, 2021, 2022, 2023]
    note = sources("history")
    assert "synthetic" in note and "14.7%" in note and "assumed" in note.lower()


def _frame() -> pd.DataFrame:
    return quang_nam_history().to_frame().head(130)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx", ".parquet"])
def test_every_format_reads_the_same_history(tmp_path: Path, suffix: str) -> None:
    frame = _frame()
    path = tmp_path / f"h{suffix}"
    if suffix == ".csv":
        path.write_text(History.from_frame(frame).csv_text(), encoding="utf-8")
    elif suffix == ".json":
        rows = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.items()} for r in frame.to_dict("records")]
        path.write_text(json.dumps({"unit": "million VND", "precision": "1", "rows": rows}), encoding="utf-8")
    elif suffix == ".xlsx":
        frame.assign(disbursed=frame.disbursed.astype(int), allocated=frame.allocated.astype(int)).to_excel(
            path, sheet_name="history", index=False
        )
    else:
        frame.assign(disbursed=frame.disbursed.astype(int), allocated=frame.allocated.astype(int)).to_parquet(path)
    got = load_history(path)
    want = History.from_frame(frame)
    assert got.keys == want.keys
    for col in ("line", "budget_year", "year", "month", "disbursed", "allocated"):
        assert (getattr(got, col) == getattr(want, col)).all(), col


def _row(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "locality": "a",
        "program": "ntm",
        "fund": "investment",
        "year": 2023,
        "month": 1,
        "disbursed": "10",
        "allocated": "100",
    }
    row.update(kw)
    return row


def _problems(rows: list[dict[str, object]], **kw: object) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        History.from_rows(rows, **kw)  # type: ignore[arg-type]
    assert info.value.title == "invalid history"
    return info.value.messages


@pytest.mark.parametrize(
    "rows, path, words",
    [
        ([_row(month=13)], "rows[0].month", "less than or equal to 12"),
        ([_row(month=0)], "rows[0].month", "greater than or equal to 1"),
        ([_row(), _row(month=2, disbursed="120")], "rows[1].disbursed", "more disbursed than allocated"),
        ([_row(), _row(month=2, disbursed="-1")], "rows[1].disbursed", "greater than or equal to 0"),
        ([_row(), _row(month=2, disbursed="abc")], "rows[1].disbursed", "decimal"),
        ([_row(), _row(month=2, disbursed="9")], "rows[1].disbursed", "falls below 10"),
        ([_row(), _row()], "rows[1]", "reported twice for 2023-01 (also rows[0])"),
        ([_row(), _row(year=2025, budget_year=2023)], "rows[1].year", "budget year or the next"),
        ([_row(disbursed="1.5")], "rows[0].disbursed", "not a multiple of the precision 1"),
        ([_row(locality="")], "rows[0].locality", "at least 1 character"),
        ([_row(colour="red")], "rows[0].colour", "Extra inputs"),
        ([{k: v for k, v in _row().items() if k != "allocated"}], "rows[0].allocated", "Field required"),
    ],
)
def test_invalid_rows_are_refused_at_their_path(rows: list[dict[str, object]], path: str, words: str) -> None:
    messages = _problems(rows)
    assert any(m.startswith(f"{path}:") and words in m for m in messages), messages


def test_a_decrease_is_found_whatever_the_row_order() -> None:
    rows = [_row(month=3, disbursed="50"), _row(month=1, disbursed="5"), _row(month=2, disbursed="60")]
    messages = _problems(rows)
    assert any(m.startswith("rows[0].disbursed:") and "falls below 60" in m and "rows[2]" in m for m in messages)


def test_every_problem_is_listed_and_reads_in_vietnamese() -> None:
    rows = [_row(), _row(), _row(month=2, disbursed="200"), _row(month=3, disbursed="1.5")]
    with pytest.raises(ScenarioError) as info:
        History.from_rows(rows)
    texts = [str(e["msg"]) for e in info.value.errors]
    with pytest.raises(ScenarioError) as info2:
        History.from_rows([_row(), _row(), _row(month=2, disbursed="200")])
    texts += [str(e["msg"]) for e in info2.value.errors] + [info.value.title]
    for text in texts:
        assert not untranslated(text), text
        assert translate(text, "vi") != text


def test_precision_and_unit_are_kept(tmp_path: Path) -> None:
    h = History.from_rows([_row(disbursed="0.5", allocated="2.25")], precision="0.05", unit="billion VND")
    assert int(h.disbursed[0]) == 10 and int(h.allocated[0]) == 45 and h.unit == "billion VND"
    assert _problems([_row(disbursed="0.51")], precision="0.05")


def test_a_file_that_is_not_a_history_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "h.txt"
    bad.write_text("x", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not a history file"):
        load_history(bad)
    with pytest.raises(FileNotFoundError):
        load_history(tmp_path / "missing.csv")
    assert reallocate.load_history is load_history


def _csv(rows: list[dict[str, object]]) -> str:
    header = list(rows[0])
    return "\n".join([",".join(header), *(",".join(str(r.get(h, "")) for h in header) for r in rows)]) + "\n"


@pytest.mark.parametrize(
    "rows",
    [
        [_row(), _row(month=2, disbursed="5")],  # a decrease: found by the table's checks
        [_row(), _row(month=2, disbursed="-5")],  # a negative amount: the rows' model names it
        [_row(), _row(month=14)],
        [_row(), _row(month=2, disbursed="1e3")],
        [_row(), _row(locality=" a ")],  # ids normalised as the model does: a duplicate
    ],
)
def test_a_csv_file_is_refused_as_its_rows_are(tmp_path: Path, rows: list[dict[str, object]]) -> None:
    path = tmp_path / "h.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    with pytest.raises(ScenarioError) as from_file:
        load_history(path)
    with pytest.raises(ScenarioError) as from_rows:
        History.from_rows(rows)
    # the same problems at the same paths (a CSV cell's value is its text: got '14', not 14)
    assert [m.split(" (got")[0] for m in from_file.value.messages] == [
        m.split(" (got")[0] for m in from_rows.value.messages
    ]


def test_clean_files_are_read_a_column_at_a_time_and_equal_the_rows(tmp_path: Path) -> None:
    from reallocate.uncertainty.history import _fast_columns

    h = quang_nam_history()
    frame = pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)
    assert _fast_columns(frame, Decimal(1)) is not None
    assert (
        _fast_columns(frame.assign(disbursed=frame.disbursed.str.replace("0", "0.0", regex=False)), Decimal(1)) is None
    )
    slow = History.from_rows(frame.to_dict("records"))
    for got in (load_history(SHIPPED), History.from_frame(frame)):
        assert got.keys == slow.keys == h.keys
        for col in ("line", "budget_year", "year", "month", "disbursed", "allocated"):
            assert (getattr(got, col) == getattr(slow, col)).all(), col


def test_row_problems_and_table_problems_are_reported_together() -> None:
    rows = [_row(), _row(), _row(month=2, disbursed="5"), _row(month=13), _row(month=3, disbursed="0.5")]
    assert _problems(rows) == [
        "rows[1]: line a/ntm/investment is reported twice for 2023-01 (also rows[0])",
        "rows[2].disbursed: cumulative disbursement falls below 10 reported for an earlier month (rows[1]) (got 5)",
        "rows[3].month: Input should be less than or equal to 12 (got 13)",
        "rows[4].disbursed: not a multiple of the precision 1 (got 0.5)",
    ]
    assert _problems([]) == ["rows: the history has no rows"]
