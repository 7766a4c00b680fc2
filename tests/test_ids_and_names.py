"""Ids and names: one normal form and one refusal rule for every reader (JSON, CSV, Excel, frames).

An id typed two ways (NFC / NFD, a trailing space) is one id; text that could forge or hide a line
of a report (control characters, lone surrogates, bidirectional overrides) or that is too long is
refused with the path of the field, and the CLI exits 2 without touching its output file.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import reallocate
import reallocate.limits
from reallocate import Scenario, ScenarioError, solve
from reallocate.io import ScenarioFileError, read_csv_folder, read_excel, write_scenario_csv, write_scenario_excel


def _scenario(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "ids",
        "unit": "million VND",
        "lines": [
            {"locality": "a", "program": "ntm", "fund": "investment", "allocated": 100, "capacity": 40},
            {"locality": "b", "program": "ntm", "fund": "investment", "allocated": 50, "capacity": 90},
        ],
    }
    data.update(changes)
    return data


NFC = unicodedata.normalize("NFC", "Nam Trà My")
NFD = unicodedata.normalize("NFD", "Nam Trà My")


def test_an_id_typed_in_nfd_or_with_spaces_is_the_same_id() -> None:
    assert NFC != NFD
    data = _scenario()
    data["lines"][0]["locality"] = NFD
    data["lines"][1]["fund"] = " investment "
    data["localities"] = [{"id": NFC + " ", "name": "Nam Trà My"}, {"id": "b"}]
    scenario = Scenario.from_json(json.dumps(data, ensure_ascii=False))
    assert list(scenario.lines.categories("locality")) == [NFC, "b"]
    assert list(scenario.lines.categories("fund")) == ["investment"]
    plan = solve(scenario)
    assert plan.summary is not None and plan.summary.moved == 40  # one pool: the money moves
    assert {t["from_locality"] for t in plan.to_dict()["transfers"]} == {NFC}


def test_the_same_line_typed_two_ways_is_a_duplicate() -> None:
    data = _scenario()
    data["lines"][0]["locality"] = NFC
    data["lines"][1]["locality"] = NFD + " "
    with pytest.raises(ScenarioError) as err:
        Scenario.from_json(json.dumps(data, ensure_ascii=False))
    assert [e["loc"] for e in err.value.errors] == [("lines", 1)]
    assert "duplicate" in err.value.errors[0]["msg"]


BAD_TEXT = {
    "NUL": "a\x00b",
    "ESC": "x\x1b[2J",
    "new line": "Đại Lộc\nexpected disbursement 100%",
    "tab": "a\tb",
    "lone surrogate": "District \ud800",
    "bidirectional override": "abc\u202edcba",
    "line separator": "a\u2028b",
}


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_ids_with_forbidden_characters_are_refused_by_path(kind: str) -> None:
    data = _scenario()
    data["lines"][1]["locality"] = BAD_TEXT[kind]
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    # pydantic itself refuses a lone surrogate in any string ("string_unicode")
    assert [e["loc"] for e in err.value.errors] == [("lines", 1, "locality")]
    assert err.value.errors[0]["type"] in ("id_text", "string_unicode")


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_names_with_forbidden_characters_are_refused_by_path(kind: str) -> None:
    data = _scenario(localities=[{"id": "a", "name": BAD_TEXT[kind]}, {"id": "b"}], transfer_costs=[])
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    assert [e["loc"] for e in err.value.errors] == [("localities", 0, "name")]
    assert err.value.errors[0]["type"] in ("name_text", "string_unicode")
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(_scenario(name=BAD_TEXT[kind]))
    assert [e["loc"] for e in err.value.errors] == [("name",)]


def test_other_ids_follow_the_same_rule() -> None:
    data = _scenario(transfer_costs=[{"from": "a", "to": "b\x07", "cost": 1}])
    data["rules"] = {"targets": [{"program": "ntm\x00", "rate": 0.5}]}
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    assert sorted(e["loc"] for e in err.value.errors) == [
        ("rules", "targets", 0, "program"),
        ("transfer_costs", 0, "to"),
    ]
    ok = _scenario(transfer_costs=[{"from": " a", "to": NFD, "cost": 1}], localities=[{"id": "a"}, {"id": NFC}])
    ok["lines"][1]["locality"] = NFC
    s = Scenario.from_dict(ok)
    assert [(c.from_, c.to) for c in s.transfer_costs or ()] == [("a", NFC)]


def test_lengths_are_bounded_by_the_configurable_limits() -> None:
    limit = reallocate.limits.current().max_id_length
    data = _scenario()
    data["lines"][0]["locality"] = "x" * limit
    Scenario.from_dict(data)  # at the limit: accepted
    data["lines"][0]["locality"] = "x" * (limit + 1)
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data)
    assert err.value.errors[0]["loc"] == ("lines", 0, "locality")
    assert f"at most {limit:,}" in err.value.errors[0]["msg"]
    long_name = "N" * (reallocate.limits.current().max_name_length + 1)
    with pytest.raises(ScenarioError):
        Scenario.from_dict(_scenario(name=long_name))
    with reallocate.limits.override(max_name_length=len(long_name)):
        assert Scenario.from_dict(_scenario(name=long_name)).name == long_name
    with pytest.raises(ScenarioError):
        Scenario.from_dict(_scenario(name=long_name))  # the override ended with its block
    with pytest.raises(ValueError, match="max_lines"):
        reallocate.limits.configure(max_lines=0)


def test_spreadsheets_csv_and_frames_refuse_the_same_text(tmp_path: Path) -> None:
    good = Scenario.from_dict(_scenario())
    write_scenario_csv(good, tmp_path / "csv")
    lines_csv = tmp_path / "csv" / "lines.csv"
    rows = list(csv.reader(lines_csv.read_text(encoding="utf-8-sig").splitlines()))
    col = rows[0].index("locality")
    rows[2][col] = "b\x1b[2J"
    with open(lines_csv, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(ScenarioFileError) as err:
        read_csv_folder(tmp_path / "csv")
    assert "lines.csv" in str(err.value) and "U+001B" in str(err.value)

    import openpyxl

    write_scenario_excel(good, tmp_path / "s.xlsx")
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    sheet = book["lines"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    cell = next(
        c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value == "b"
    )  # the second line's locality
    del header
    cell.value = "b\u202eevil"
    book.save(tmp_path / "s.xlsx")
    with pytest.raises(ScenarioFileError) as err:
        read_excel(tmp_path / "s.xlsx")
    assert "U+202E" in str(err.value)

    frame = pd.DataFrame(_scenario()["lines"])
    frame.loc[1, "locality"] = "b\x00"
    with pytest.raises(ScenarioError) as err:
        Scenario.from_frames(frame)
    assert err.value.errors[0]["loc"][:3] == ("lines", 1, "locality")


def test_cli_refuses_forbidden_text_with_exit_2_and_keeps_the_output(tmp_path: Path) -> None:
    data = _scenario(localities=[{"id": "a", "name": "District \ud800"}, {"id": "b", "name": "x\x1b[2J"}])
    src = tmp_path / "s.json"
    src.write_text(json.dumps(data), encoding="utf-8")  # escapes (\ud800) as JSON writes them
    keep = tmp_path / "keep.txt"
    keep.write_text("keep\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "reallocate", "solve", str(src), "--out", str(keep)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert "localities[0].name" in done.stderr and "localities[1].name" in done.stderr
    assert keep.read_text(encoding="utf-8") == "keep\n"
    assert reallocate.datasets.quang_nam_2023().name  # the bundled data passes the same rule
