"""Spreadsheets in and out (reallocate.files): round trips, cell-named errors, the template, plan
workbooks and CSV files.

Expectations come from the inputs: a round trip must give back the scenario it started from, an
error must name the cell the test itself spoiled (its column found from the header order), and a
written plan must add up to the plan's own summary, re-read with openpyxl or pandas.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

import reallocate
from reallocate import io as files
from reallocate.io import (
    LINE_COLUMNS,
    RULES,
    ScenarioFileError,
    read_csv_folder,
    read_excel,
    read_scenario,
    write_csv,
    write_excel,
    write_scenario_csv,
    write_scenario_excel,
    write_template,
)
from reallocate.labels import label

# A scenario that uses every input: Vietnamese names and components, decimal amounts (precision
# 0.01), floors, ceilings, the three flags, locality limits as share and amount, tags of every
# type (a text tag that looks like a number: "007"), every rule, two targets, transfer costs.
RICH: dict[str, Any] = {
    "name": "Thử nghiệm — Quảng Nam",
    "unit": "triệu đồng",
    "precision": "0.01",
    "localities": [
        {
            "id": "nam-tra-my",
            "name": "Nam Trà My",
            "weight": 0.52,
            "tags": {"mountainous": True, "poverty_rate_pct": 52, "region": "Tây", "code": "007"},
            "max_loss": {"share": 0.125},
        },
        {
            "id": "tay-giang",
            "name": "Tây Giang",
            "weight": 0.41,
            "tags": {"mountainous": True, "ratio": 0.75},
            "max_gain": {"amount": "1500.25"},
        },
        {"id": "hoi-an", "name": "Hội An", "weight": 0.02, "tags": {"mountainous": False, "Vùng miền": "Duyên hải"}},
    ],
    "lines": [
        {
            "locality": "nam-tra-my",
            "program": "ntm",
            "fund": "investment",
            "allocated": "14936.25",
            "disbursed": "3797.5",
            "capacity": "9336.75",
            "floor": "5000",
            "ceiling": "20000.1",
        },
        {
            "locality": "nam-tra-my",
            "program": "gnbv",
            "fund": "recurrent",
            "component": "Hợp phần 1",
            "allocated": "1200",
            "disbursed": "100",
            "capacity": "300",
            "give_only": True,
        },
        {
            "locality": "tay-giang",
            "program": "ntm",
            "fund": "investment",
            "allocated": "17295",
            "disbursed": "6114",
            "capacity": "17929.99",
        },
        {
            "locality": "tay-giang",
            "program": "gnbv",
            "fund": "recurrent",
            "component": "Hợp phần 1",
            "allocated": "800",
            "capacity": "1500",
            "receive_only": True,
        },
        {
            "locality": "hoi-an",
            "program": "ntm",
            "fund": "investment",
            "allocated": "5000",
            "disbursed": "1000",
            "capacity": "9000",
            "ceiling": "7000",
        },
        {
            "locality": "hoi-an",
            "program": "gnbv",
            "fund": "recurrent",
            "allocated": "300",
            "disbursed": "300",
            "capacity": "300",
            "frozen": True,
        },
        {"locality": "hoi-an", "program": "dtts", "fund": "investment", "allocated": "100", "capacity": "150"},
    ],
    "rules": {
        "pool_by": ["fund"],
        "recipients": "priority",
        "donors": "proportional",
        "min_transfer": "10",
        "move_costs": {"program": 5, "locality": 0.5},
        "order": ["fair_shares", "move_costs", "transfer_costs"],
        "max_loss": {"share": 0.3},
        "max_gain": {"amount": "2000.5"},
        "max_transfers_per_line": 3,
        "target_rate": 0.5,
        "targets": [{"program": "ntm", "rate": 0.6}, {"program": "gnbv", "fund": "recurrent", "rate": 0.25}],
    },
    "transfer_costs": [
        {"from": "nam-tra-my", "to": "tay-giang", "cost": 0.5},
        {"from": "nam-tra-my", "to": "hoi-an", "cost": 1.25},
    ],
}

# Amounts beyond Excel's 15 significant digits (in đồng): they must survive digit for digit.
BIG: dict[str, Any] = {
    "name": "big",
    "unit": "VND",
    "lines": [
        {"locality": "a", "program": "p", "fund": "f", "allocated": "123456789012345678", "capacity": "1"},
        {"locality": "b", "program": "p", "fund": "f", "allocated": "1", "capacity": "987654321098765432"},
    ],
}


def col(name: str) -> str:
    """Excel column letter of a lines column in the template's header order."""
    return get_column_letter(LINE_COLUMNS.index(name) + 1)


@pytest.fixture(scope="module")
def qn() -> reallocate.Scenario:
    return reallocate.datasets.quang_nam_2023()


@pytest.fixture(scope="module")
def rich() -> reallocate.Scenario:
    return reallocate.Scenario.from_dict(RICH)


@pytest.fixture(scope="module")
def qn_plan(qn: reallocate.Scenario) -> reallocate.Plan:
    return reallocate.solve(qn)


@pytest.fixture(scope="module")
def rich_plan(rich: reallocate.Scenario) -> reallocate.Plan:
    plan = reallocate.solve(rich)
    assert plan.found and len(plan.transfers) > 0
    return plan


def fill(ws: Any, rows: list[list[Any]], start: int = 2) -> None:
    for i, row in enumerate(rows, start=start):
        for j, value in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=value)


def problems(exc: pytest.ExceptionInfo[ScenarioFileError]) -> list[str]:
    return exc.value.messages


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_excel_round_trip_bundled(tmp_path: Path, qn: reallocate.Scenario, lang: str) -> None:
    path = write_scenario_excel(qn, tmp_path / "qn.xlsx", lang=lang)
    back = read_excel(path)
    assert back == qn
    assert back.locality_labels()["nam-tra-my"] == "Nam Trà My"
    assert len(back.lines) == 92


def test_excel_round_trip_every_input(tmp_path: Path, rich: reallocate.Scenario) -> None:
    back = read_excel(write_scenario_excel(rich, tmp_path / "rich.xlsx"))
    assert back == rich
    # spot checks, so a broken __eq__ could not hide a difference
    assert back.precision == Decimal("0.01")
    assert back.lines[0].allocated == Decimal("14936.25") and back.lines[0].ceiling == Decimal("20000.1")
    assert [ln.frozen for ln in back.lines] == [ln.get("frozen", False) for ln in RICH["lines"]]
    assert back.rules.targets[1].selector == {"program": "gnbv", "fund": "recurrent"}
    assert back.rules.order == ("fair_shares", "move_costs", "transfer_costs")
    assert back.rules.max_loss is not None and back.rules.max_loss.share == 0.3
    assert back.localities is not None and back.localities[0].tags["code"] == "007"


def test_csv_round_trip(tmp_path: Path, qn: reallocate.Scenario, rich: reallocate.Scenario) -> None:
    assert read_csv_folder(write_scenario_csv(qn, tmp_path / "qn")) == qn
    folder = write_scenario_csv(rich, tmp_path / "rich")
    assert read_csv_folder(folder) == rich
    assert read_scenario(folder / "lines.csv") == rich
    for f in folder.glob("*.csv"):
        assert f.read_bytes().startswith(b"\xef\xbb\xbf"), f.name


def test_amounts_beyond_15_digits_are_exact(tmp_path: Path) -> None:
    big = reallocate.Scenario.from_dict(BIG)
    path = write_scenario_excel(big, tmp_path / "big.xlsx")
    ws = openpyxl.load_workbook(path)["lines"]
    assert ws[f"{col('allocated')}2"].value == "123456789012345678"  # text: Excel would keep 15 digits
    assert read_excel(path) == big
    assert read_csv_folder(write_scenario_csv(big, tmp_path / "big")) == big


def test_number_cells_read_as_excel_shows_them(tmp_path: Path) -> None:
    # Number cells hold doubles: formula noise beyond 15 significant digits is read as Excel shows
    # it; whole numbers below 2**53 stay exact; text cells keep every digit.
    path = tmp_path / "numbers.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "lines"
    fill(ws, [["locality", "program", "fund", "allocated", "capacity"]], start=1)
    fill(
        ws,
        [
            ["a", "p", "f", 0.1 + 0.2, 4199.999999999999],
            ["b", "p", "f", 2**53 - 1, "0.10"],
            ["c", "p", "f", 1234567.5, 10**17],
        ],
    )
    wb.create_sheet("scenario")
    fill(wb["scenario"], [["setting", "value"], ["precision", 0.1]], start=1)
    wb.save(path)
    s = read_excel(path)
    assert s.name == "numbers"  # the file name when the scenario sheet names none
    assert [ln.allocated for ln in s.lines] == [Decimal("0.3"), Decimal(2**53 - 1), Decimal("1234567.5")]
    assert [ln.capacity for ln in s.lines] == [Decimal(4200), Decimal("0.1"), Decimal(10**17)]


# ------------------------------------------------------------------------------ rule syntax
def test_rule_cells(tmp_path: Path) -> None:
    path = write_template(tmp_path / "rules.xlsx")
    wb = openpyxl.load_workbook(path)
    fill(wb["lines"], [["a", "ntm", "investment", None, 100, 0, 50], ["b", "gnbv", "investment", None, 10, 0, 90]])
    rules = wb["rules"]
    row = {rules.cell(row=r, column=1).value: r for r in range(2, rules.max_row + 1)}
    rules[f"B{row['pool_by']}"] = " Fund "
    rules[f"B{row['recipients']}"] = "Priority"
    rules[f"B{row['max_loss']}"] = "30%"
    rules[f"B{row['max_gain']}"] = 0.25
    rules[f"B{row['max_gain']}"].number_format = "0%"  # a number cell shown as a percent is a share
    rules[f"B{row['move_costs.program']}"] = 2
    rules[f"B{row['max_transfers_per_line']}"] = 2
    rules[f"B{row['target_rate']}"] = "40 %"
    rules[f"B{row['target']}"] = "program = ntm ;  rate=100%"
    rules.append(["target", "fund=investment; program=gnbv; rate=0.5"])
    wb.save(path)
    r = read_excel(path).rules
    assert r.pool_by == ("fund",)
    assert r.recipients == "priority"
    assert r.max_loss is not None and r.max_loss.share == pytest.approx(0.3)
    assert r.max_gain is not None and r.max_gain.share == pytest.approx(0.25)
    assert r.move_costs == {"program": 2.0}
    assert r.max_transfers_per_line == 2
    assert r.target_rate == pytest.approx(0.4)
    assert [(t.selector, t.rate) for t in r.targets] == [
        ({"program": "ntm"}, 1.0),
        ({"program": "gnbv", "fund": "investment"}, 0.5),
    ]
    # 'none' is one pool; an amount limit stays an amount
    rules[f"B{row['pool_by']}"] = "none"
    rules[f"B{row['max_loss']}"] = 500
    rules[f"B{row['move_costs.program']}"] = None
    wb.save(path)
    r = read_excel(path).rules
    assert r.pool_by == ()
    assert r.max_loss is not None and r.max_loss.amount == Decimal(500)


# ------------------------------------------------------------------------------ errors
def test_bad_cells_are_named(tmp_path: Path) -> None:
    path = write_template(tmp_path / "bad.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["lines"]
    good = ["a", "ntm", "investment", None, 100, 10, 50]
    fill(
        ws,
        [
            good,  # row 2
            ["b", "ntm", "investment", None, 100, 10, -3],  # row 3: negative capacity
            ["c", "ntm", "investment", None, "1,234", 10, 50, None, None, "maybe"],  # row 4: two bad cells
            good,  # row 5: same key as row 2
            ["d", None, "investment", None, 100, 10, 50],  # row 6: no program
            ["e", "ntm", "investment", None, 100, 20, 10],  # row 7: capacity below disbursed
        ],
    )
    wb["localities"].append(["x", "X", -1])  # row 2: negative weight; line localities not listed
    rules = wb["rules"]
    rules["B3"] = "first"  # recipients
    rules.append(["min_transfers", 5])
    wb.save(path)
    with pytest.raises(ScenarioFileError) as exc:
        read_excel(path)
    got = problems(exc)
    expected = [
        f"lines!{col('capacity')}3: capacity -3 is negative",
        f"lines!{col('allocated')}4: allocated '1,234': write numbers without thousands separators, with '.' for "
        "decimals",
        f"lines!{col('frozen')}4: frozen 'maybe' is not TRUE or FALSE",
        "lines!A5: duplicate line a/ntm/investment: same (locality, program, fund, component) as lines!A2",
        f"lines!{col('program')}6: program is required (the cell is empty)",
        f"lines!{col('capacity')}7: capacity 10 is below disbursed 20",
        "localities!C2: weight -1 is negative",
        "rules!B3: recipients 'first' should be 'proportional' or 'priority'",
    ]
    for e in expected:
        assert e in got, (e, got)
    # cross-table checks run on every line that is valid on its own (rows 2, 5 and 7)
    unlisted = [m for m in got if "is not listed in localities" in m]
    assert sorted(m.split(":")[0] for m in unlisted) == ["lines!A2", "lines!A5", "lines!A7"]
    assert any(m.startswith(f"rules!A{rules.max_row}: unknown rule 'min_transfers'") for m in got)
    assert len(got) == len(expected) + len(unlisted) + 1
    # .errors stay usable: pydantic's loc and the cell
    cap = next(e for e in exc.value.errors if e["cell"] == f"lines!{col('capacity')}3")
    assert cap["loc"] == ("lines", 1, "capacity") and cap["row"] == 3 and cap["column"] == "capacity"
    assert isinstance(exc.value, reallocate.ScenarioError)
    assert str(exc.value).startswith(f"invalid scenario: {len(got)} problems")


def test_bad_csv_rows_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "lines.csv").write_text(
        "locality,program,fund,allocated,capacity,disbursed\n"
        "nam-tra-my,ntm,investment,100,-3,0\n"
        "\n"  # empty lines are skipped, yet counted
        "tay-giang,ntm,investment,abc,5,0\n"
        'tay-giang,ntm,"investment",7,5,9\n',
        encoding="utf-8",
    )
    (folder / "rules.csv").write_text("rule,value\nmax_loss,120%\ntarget,fund=investment;rate=2\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError) as exc:
        read_csv_folder(folder)
    assert problems(exc) == [
        "lines.csv:2 capacity: capacity -3 is negative",
        "lines.csv:4 allocated: allocated 'abc' is not a number",
        "lines.csv:5 capacity: capacity 5 is below disbursed 9",
        "lines.csv:5 disbursed: disbursed 9 exceeds allocated 7",
        "rules.csv:2 max_loss: max_loss 120% is above 100%",
        "rules.csv:3 target rate: target rate 2 is above 100%: write a rate as a percent (95%) or a fraction (0.95)",
    ]


def test_header_problems(tmp_path: Path) -> None:
    folder = tmp_path / "hdr"
    folder.mkdir()
    (folder / "lines.csv").write_text("locality;program;fund;allocated;capacty\na;p;f;1;1\n", encoding="utf-8")
    with pytest.raises(ScenarioFileError) as exc:
        read_csv_folder(folder)
    assert problems(exc)[0].startswith("lines.csv: missing column capacity (the header, row 1, has:")
    assert problems(exc)[1].startswith("lines.csv:1 capacty: unknown column 'capacty'")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Lines"  # sheet names are case-insensitive; headers too
    fill(ws, [["Locality", "Program", "Fund", "Allocated", "Capacity", "fund"], ["a", "p", "f", 1, 1, "g", "x"]], 1)
    wb.save(tmp_path / "dup.xlsx")
    with pytest.raises(ScenarioFileError) as exc:
        read_excel(tmp_path / "dup.xlsx")
    assert problems(exc) == [
        "Lines!F1: column 'fund' appears twice",
        "Lines!G2: a value in column 7, which has no header",
    ]
    (folder / "lines.csv").write_bytes("locality,program,fund,allocated,capacity\nHà,p,f,1,1\n".encode("cp1258"))
    with pytest.raises(ScenarioFileError, match=re.escape("lines.csv:2: not UTF-8 text")):
        read_csv_folder(folder)


def test_untouched_template_says_what_is_missing(tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx")
    with pytest.raises(ScenarioFileError) as exc:
        read_excel(path)
    assert problems(exc) == ["lines: at least one line is required: the sheet has no rows below its header"]


def test_filled_template_reads(tmp_path: Path) -> None:
    path = write_template(tmp_path / "filled.xlsx", lang="vi")
    wb = openpyxl.load_workbook(path)
    fill(
        wb["lines"],
        [
            ["nam-tra-my", "ntm", "investment", "Hợp phần 1", 14936, 3797, 9336, None, 20000, None, True],
            ["tay-giang", "ntm", "investment", None, 17295.5, 6114, "17929.5", 7000, None, "FALSE"],
        ],
    )
    fill(wb["localities"], [["nam-tra-my", "Nam Trà My", 0.52], ["tay-giang", "Tây Giang", 0.41]])
    wb["localities"]["F1"] = "mountainous"
    wb["localities"]["F2"] = True
    wb["scenario"]["B2"] = "Quảng Nam 2024"
    wb["scenario"]["B4"] = 0.5
    wb.save(path)
    expected = reallocate.Scenario.from_dict(
        {
            "name": "Quảng Nam 2024",
            "unit": "triệu đồng",  # what the Vietnamese template fills in
            "precision": "0.5",
            "localities": [
                {"id": "nam-tra-my", "name": "Nam Trà My", "weight": 0.52, "tags": {"mountainous": True}},
                {"id": "tay-giang", "name": "Tây Giang", "weight": 0.41},
            ],
            "lines": [
                {
                    "locality": "nam-tra-my",
                    "program": "ntm",
                    "fund": "investment",
                    "component": "Hợp phần 1",
                    "allocated": 14936,
                    "disbursed": 3797,
                    "capacity": 9336,
                    "ceiling": 20000,
                    "give_only": True,
                },
                {
                    "locality": "tay-giang",
                    "program": "ntm",
                    "fund": "investment",
                    "allocated": "17295.5",
                    "disbursed": 6114,
                    "capacity": "17929.5",
                    "floor": 7000,
                },
            ],
        }
    )
    assert read_excel(path) == expected


def test_template_has_notes_dropdowns_and_formats(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["lines"]
    assert [c.value for c in ws[1]] == list(LINE_COLUMNS)
    assert all(c.comment is not None and c.comment.text for c in ws[1])
    assert ws.freeze_panes == "A2"
    lists = {str(dv.sqref).split(":")[0]: (dv.formula1, dv.errorStyle) for dv in ws.data_validations.dataValidation}
    assert lists[f"{col('fund')}2"] == ('"investment,recurrent"', "warning")  # other funds allowed, with a warning
    assert lists[f"{col('program')}2"] == ('"ntm,gnbv,dtts"', "information")  # free text allowed
    for flag in ("frozen", "give_only", "receive_only"):
        assert lists[f"{col(flag)}2"] == ('"TRUE,FALSE"', "stop")
    for amount in ("allocated", "disbursed", "capacity", "floor", "ceiling"):
        assert ws.column_dimensions[col(amount)].number_format == "#,##0"
        assert ws.column_dimensions[col(amount)].width >= 12
    rules = wb["rules"]
    names = [rules.cell(row=r, column=1).value for r in range(2, rules.max_row + 1)]
    assert names == list(RULES)
    values = dict(zip(names, (rules.cell(row=r, column=2).value for r in range(2, rules.max_row + 1)), strict=True))
    assert values["pool_by"] == "program, fund" and values["recipients"] == values["donors"] == "proportional"
    assert values["min_transfer"] == 0
    share_dv = [dv for dv in rules.data_validations.dataValidation if dv.formula1 == '"proportional,priority"']
    assert sorted(str(dv.sqref) for dv in share_dv) == ["B3", "B4"]
    # Vietnamese notes
    vi = openpyxl.load_workbook(write_template(tmp_path / "vi.xlsx", lang="vi"))["lines"]
    allocated = vi[f"{col('allocated')}1"]
    assert allocated.value == "allocated"  # headers stay the column names that are read
    assert allocated.comment.text.startswith(label("allocated", "vi"))
    assert "Bắt buộc" in allocated.comment.text


# ------------------------------------------------------------------------------ plan output
def _summary(ws: Any) -> dict[str, Any]:
    return {r[0].value: r[1] for r in ws.iter_rows(min_row=2)}


def _column(ws: Any, header: str) -> list[Any]:
    heads = [c.value for c in ws[1]]
    j = heads.index(header) + 1
    return [ws.cell(row=r, column=j).value for r in range(2, ws.max_row + 1)]


def _dec(values: list[Any]) -> Decimal:
    return sum((Decimal(repr(v)) if isinstance(v, float) else Decimal(v) for v in values), Decimal(0))


@pytest.mark.parametrize("which", ["qn_plan", "rich_plan"])
def test_plan_workbook_matches_plan(tmp_path: Path, which: str, request: pytest.FixtureRequest) -> None:
    plan: reallocate.Plan = request.getfixturevalue(which)
    s = plan.summary
    assert s is not None
    wb = openpyxl.load_workbook(write_excel(plan, tmp_path / "plan.xlsx"))
    assert wb.sheetnames[:4] == ["summary", "lines", "transfers", "lapse"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all((ws.column_dimensions[get_column_letter(j)].width or 0) >= 8 for j in range(1, ws.max_column + 1))
    summary = _summary(wb["summary"])
    assert summary[label("allocated")].value == s.allocated
    assert _dec([summary[label("lapse_after")].value]) == s.lapse_after
    rate = summary[label("rate_after")]
    assert rate.value == s.rate_after and rate.number_format.endswith("%")
    lines = wb["lines"]
    assert len(_column(lines, label("locality"))) == len(plan.scenario.lines)
    assert _dec(_column(lines, label("allocated"))) == s.allocated
    assert _dec(_column(lines, label("final"))) == s.allocated  # money is conserved
    assert _dec(_column(lines, label("absorbable_after"))) == s.absorbable_after
    assert _dec(_column(lines, label("change"))) == 0
    assert _dec([v for v in _column(lines, label("change")) if v > 0]) == s.moved
    assert _column(lines, label("name"))[0] == plan.scenario.locality_labels()[plan.scenario.lines[0].locality]
    assert plan.explain is not None
    assert _column(lines, label("text")) == plan.explain.lines["text"].tolist()
    transfers = wb["transfers"]
    assert _dec(_column(transfers, label("amount"))) == s.moved
    assert _dec(_column(transfers, label("cost"))) == s.transfer_cost
    assert set(_column(transfers, label("approval"))) <= {label(a) for a in ("people_committee", "people_council")}
    lapse = wb["lapse"]
    assert _dec(_column(lapse, label("lapse_after"))) == s.lapse_after
    assert _dec(_column(lapse, label("lapse_before"))) == s.lapse_before
    assert _dec(_column(lapse, label("moved"))) == s.moved
    assert _dec(_column(lapse, label("allocated"))) == s.allocated
    assert _dec(_column(lapse, label("no_room"))) + _dec(_column(lapse, label("blocked"))) == s.lapse_after
    assert len(_column(lapse, label("pool"))) == len(plan.scenario.table.pool_keys)
    # number formats follow the precision
    decimals = "0" * max(0, -plan.scenario.precision.as_tuple().exponent)  # type: ignore[operator]
    fmt = "#,##0" + ("." + decimals if decimals else "")
    assert lines.cell(row=2, column=[c.value for c in lines[1]].index(label("allocated")) + 1).number_format == fmt


def test_plan_csv_matches_plan(tmp_path: Path, rich_plan: reallocate.Plan) -> None:
    s = rich_plan.summary
    assert s is not None
    folder = write_csv(rich_plan, tmp_path / "plan")
    for name in ("summary", "lines", "transfers", "lapse"):
        assert (folder / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf"), name

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")

    summary = dict(zip(read("summary")[files.layout._label("key", "en")], read("summary")["Value"], strict=True))
    assert Decimal(summary["transfer_cost"]) == s.transfer_cost
    assert Decimal(summary["absorbable_after"]) == s.absorbable_after
    assert float(summary["rate_after"]) == s.rate_after
    lines = read("lines")
    assert sum(map(Decimal, lines[label("final")])) == s.allocated
    assert sum(map(Decimal, lines[label("absorbable_after")])) == s.absorbable_after
    assert list(lines[label("name")]) == [rich_plan.scenario.locality_labels()[x] for x in lines[label("locality")]]
    transfers = read("transfers")
    assert sum(map(Decimal, transfers[label("amount")])) == s.moved
    assert sum(map(Decimal, transfers[label("cost")])) == s.transfer_cost
    assert sum(map(Decimal, read("lapse")[label("lapse_after")])) == s.lapse_after


def test_vietnamese_headers(tmp_path: Path, qn_plan: reallocate.Plan) -> None:
    wb = openpyxl.load_workbook(write_excel(qn_plan, tmp_path / "vi.xlsx", lang="vi"))
    keys = ["locality", "name", "program", "fund", "component", "allocated", "disbursed", "capacity"]
    assert [c.value for c in wb["lines"][1]][: len(keys)] == [label(k, "vi") for k in keys]
    assert "Vốn giao" in [c.value for c in wb["lapse"][1]]
    summary = _summary(wb["summary"])
    assert summary[label("status", "vi")].value == label("optimal", "vi")
    head = (write_csv(qn_plan, tmp_path / "vi", lang="vi") / "lines.csv").read_text(encoding="utf-8-sig")
    assert head.splitlines()[0].split(",")[:3] == [label("locality", "vi"), label("name", "vi"), "Chương trình"]
    assert "Nam Trà My" in head


def test_infeasible_plan_is_writable(tmp_path: Path) -> None:
    plan = reallocate.solve(reallocate.datasets.quang_nam_2023(rules={"target_rate": 1.0}))
    assert not plan.found and plan.explain is not None and plan.explain.diagnosis
    wb = openpyxl.load_workbook(write_excel(plan, tmp_path / "none.xlsx", lang="vi"))
    rows = [(r[0].value, r[1].value) for r in wb["summary"].iter_rows(min_row=2)]
    assert (label("status", "vi"), label("infeasible", "vi")) in rows
    message = dict(rows)[_label_en_vi("message")]
    assert message.startswith("không có phương án nào thỏa mãn các quy tắc; mục tiêu tất cả các dòng (100%) còn thiếu")
    assert "904.161 triệu đồng" in message and "million VND" not in message
    diagnosis = [v for k, v in rows if k == "Chẩn đoán"]
    assert len(diagnosis) == len(plan.explain.diagnosis["targets"]) == 1
    assert diagnosis[0].startswith("mục tiêu tất cả các dòng (100%) còn thiếu 904.161 triệu đồng")
    assert wb["lines"].max_row == 1 and wb["transfers"].max_row == 1
    summary = pd.read_csv(write_csv(plan, tmp_path / "none") / "summary.csv", dtype=str, encoding="utf-8-sig")
    assert summary.set_index("Key").loc["status", "Value"] == "infeasible"


def _label_en_vi(key: str) -> str:
    return files.layout._label(key, "vi")


def test_big_amount_plan_is_exact(tmp_path: Path) -> None:
    plan = reallocate.solve(reallocate.Scenario.from_dict(BIG))
    s = plan.summary
    assert s is not None and s.moved == Decimal("123456789012345677")
    wb = openpyxl.load_workbook(write_excel(plan, tmp_path / "big.xlsx"))
    finals = _column(wb["lines"], label("final"))
    assert finals == [1, "123456789012345678"]  # text: exact beyond Excel's 15 digits
    assert _dec(finals) == s.allocated
    assert _dec(_column(wb["transfers"], label("amount"))) == s.moved
    assert any("15 significant digits" in str(r[1].value) for r in wb["summary"].iter_rows(min_row=2))
    lines = pd.read_csv(write_csv(plan, tmp_path / "big") / "lines.csv", dtype=str, encoding="utf-8-sig")
    assert list(lines[label("final")]) == ["1", "123456789012345678"]


# ------------------------------------------------------------------------------ dispatch
def test_read_scenario_dispatch(tmp_path: Path, rich: reallocate.Scenario) -> None:
    (tmp_path / "s.json").write_text(rich.to_json(), encoding="utf-8")
    assert read_scenario(tmp_path / "s.json") == rich
    assert read_scenario(write_scenario_excel(rich, tmp_path / "s.xlsx")) == rich
    assert read_scenario(write_scenario_csv(rich, tmp_path / "csv")) == rich
    (tmp_path / "s.xls").write_bytes(b"old")
    with pytest.raises(reallocate.ScenarioError, match=re.escape("save old .xls workbooks as .xlsx")):
        read_scenario(tmp_path / "s.xls")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(ScenarioFileError, match=re.escape("not an Excel .xlsx workbook")):
        read_excel(tmp_path / "broken.xlsx")
    with pytest.raises(FileNotFoundError):
        read_scenario(tmp_path / "missing.xlsx")


def test_csv_with_and_without_bom_and_semicolons(tmp_path: Path) -> None:
    rows = "Locality{d}program{d}FUND{d} allocated {d}capacity\nHội An{d}ntm{d}investment{d}10.5{d}3\n"
    expected = reallocate.Scenario.from_dict(
        {
            "name": "x",
            "precision": "0.5",
            "lines": [
                {"locality": "Hội An", "program": "ntm", "fund": "investment", "allocated": "10.5", "capacity": 3}
            ],
        }
    )
    for i, (bom, d) in enumerate([("", ","), ("\ufeff", ","), ("\ufeff", ";")]):
        folder = tmp_path / f"v{i}" / "x"
        folder.mkdir(parents=True)
        (folder / "lines.csv").write_text(bom + rows.format(d=d), encoding="utf-8")
        (folder / "scenario.csv").write_text(f"setting{d}value\nprecision{d}0.5\n", encoding="utf-8")
        assert read_csv_folder(folder) == expected


def test_json_and_excel_agree(tmp_path: Path, qn: reallocate.Scenario) -> None:
    # the same scenario, from two contracts, solves to the same plan
    path = write_scenario_excel(qn, tmp_path / "qn.xlsx")
    a = reallocate.solve(read_excel(path))
    b = reallocate.solve(reallocate.Scenario.from_json(json.dumps(json.loads(qn.to_json()))))
    assert a.summary == b.summary
