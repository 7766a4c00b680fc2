"""One catalogue of everything a planner reads, in English and Vietnamese.

Two kinds of check: every entry of the catalogue (labels, phrases, reasons, template help,
message sentences) has a Vietnamese text with the same fields; and every reason, diagnosis,
validation error and command-line error that real inputs produce, rendered in Vietnamese, holds no
English word of the catalogue (words that are also in the Vietnamese side, such as rule names,
and words of the scenario's own data are allowed).
"""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import reallocate
from reallocate import Scenario, ScenarioError, solve
from reallocate.cli import main
from reallocate.datasets import quang_nam_2023, quang_nam_history
from reallocate.html import plan_html
from reallocate.io import read_scenario, write_excel, write_template
from reallocate.io.layout import _HELP
from reallocate.labels import _LABELS, _PHRASES, REASON_TEXTS
from reallocate.messages import SENTENCES, translate, untranslated
from reallocate.report import text_report

_FIELD = re.compile(r"\{(\w+)(?::\w)?\}")
_WORD = re.compile(r"[A-Za-z][A-Za-z_']+")  # rule names such as set_flag are one word


def _pairs() -> list[tuple[str, str, str]]:
    out = [(f"label {k}", en, vi) for k, (en, vi) in _LABELS.items()]
    out += [(f"phrase {a}.{k}", en, vi) for a, d in _PHRASES.items() for k, (en, vi) in d.items()]
    out += [(f"reason {k}", en, vi) for k, (en, vi) in REASON_TEXTS.items()]
    out += [(f"help {k}", en, vi) for k, (en, vi) in _HELP.items()]
    out += [(f"sentence {en!r}", en, vi) for en, vi in SENTENCES]
    return out


def _letters(text: str) -> str:
    return "".join(c for c in _FIELD.sub("", text) if c.isalpha())


@pytest.mark.parametrize("key, en, vi", _pairs(), ids=lambda v: str(v)[:40])
def test_every_entry_has_vietnamese_with_the_same_fields(key: str, en: str, vi: str) -> None:
    assert vi.strip(), f"{key}: no Vietnamese"
    assert sorted(_FIELD.findall(en)) == sorted(_FIELD.findall(vi)), key
    if _letters(en):
        # a translation, not the English again (names of rules and columns may stay as they are)
        assert _words(vi) - _words(en) or vi != en, f"{key}: the Vietnamese is the English"


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(_FIELD.sub(" ", text))}


def _english_words() -> set[str]:
    """Words of the English side of the catalogue that the Vietnamese side never uses."""
    en_words: set[str] = set()
    vi_words: set[str] = set()
    for _, en, vi in _pairs():
        en_words |= _words(en)
        vi_words |= _words(vi)
    # letters and units of measure that both languages write the same way
    return {w for w in en_words - vi_words if len(w) > 2} - {"mib", "utf", "csv", "json", "xlsx"}


ENGLISH = _english_words()


def _field_names(schema: Any) -> set[str]:
    """Every property name of a JSON Schema: the input's own field names (paths use them)."""
    out: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name in value:
                    out |= _words(name.replace("_", " "))
            out |= _field_names(value)
    elif isinstance(schema, list):
        for value in schema:
            out |= _field_names(value)
    return out


#: field names, as paths such as ``lines[3].allocated`` name them
FIELDS = _field_names(Scenario.model_json_schema(by_alias=True))


def _english_in(text: str, data_words: set[str]) -> set[str]:
    return (_words(text) & ENGLISH) - data_words


def test_the_check_would_see_english() -> None:
    # the word list holds the catalogue's English, so an untranslated sentence is caught
    assert {"surplus", "room", "received", "lapse", "allocation", "required"} <= ENGLISH
    assert {"received", "room"} <= _english_in("received 5 of its room 10", set())


# ------------------------------------------------------------------------------- the inputs
def _line(loc: str, program: str, fund: str, allocated: int, capacity: int, **extra: Any) -> dict[str, Any]:
    return {"locality": loc, "program": program, "fund": fund, "allocated": allocated, "capacity": capacity, **extra}


def _scenario(lines: list[dict[str, Any]], **rules: Any) -> Scenario:
    return Scenario.from_dict({"name": "thử", "unit": "million VND", "precision": 1, "lines": lines, "rules": rules})


#: small scenarios that between them give every reason a line can have
REASON_CASES: list[Scenario] = [
    _scenario(
        [
            # pool ct1/dt: more room than surplus
            _line("xa-a", "ct1", "dt", 100, 40),  # gave_all_surplus
            _line("xa-b", "ct1", "dt", 10, 100),  # received_share
            # pool ct2/dt: more surplus than room
            _line("xa-a", "ct2", "dt", 100, 20),  # kept_surplus
            _line("xa-b", "ct2", "dt", 10, 30),  # received_all_room
            _line("xa-c", "ct3", "dt", 50, 10),  # no_room_in_pool
            _line("xa-c", "ct4", "dt", 10, 50),  # no_surplus_in_pool
            _line("xa-c", "ct5", "dt", 50, 10, floor=50),  # held_by_floor
            _line("xa-d", "ct5", "dt", 50, 90, ceiling=50),  # held_by_ceiling
            _line("xa-e", "ct5", "dt", 50, 10, frozen=True),  # frozen
            _line("xa-f", "ct5", "dt", 50, 90, give_only=True),  # give_only
            _line("xa-g", "ct5", "dt", 50, 10, receive_only=True),  # receive_only
            _line("xa-h", "ct5", "dt", 50, 50),  # balanced
            # pool ct6/dt: the rest of the room is on a give_only line
            _line("xa-a", "ct6", "dt", 50, 10),  # held_by_flags
            _line("xa-b", "ct6", "dt", 10, 15),
            _line("xa-c", "ct6", "dt", 10, 90, give_only=True),
        ]
    ),
    _scenario(
        [_line("xa-a", "ct1", "dt", 100, 0), _line("xa-b", "ct1", "dt", 0, 100), _line("xa-c", "ct1", "dt", 0, 100)],
        max_loss={"amount": 30},  # held_by_locality_limit
    ),
    _scenario(
        [
            _line("xa-a", "ct1", "dt", 100, 0),
            _line("xa-b", "ct1", "dt", 100, 0),
            _line("xa-c", "ct1", "dt", 0, 300),
            _line("xa-c", "ct2", "dt", 0, 300),
            _line("xa-a", "ct2", "dt", 100, 0),
        ],
        max_gain={"amount": 120},  # held_by_rules (a limit elsewhere)
    ),
    _scenario(
        [_line("xa-a", "ct1", "dt", 100, 97), _line("xa-b", "ct1", "dt", 0, 100)],
        min_transfer=5,  # held_by_min_transfer
    ),
    _scenario(
        [
            _line("xa-a", "ct1", "dt", 100, 0),
            _line("xa-b", "ct1", "dt", 0, 30),
            _line("xa-c", "ct1", "dt", 0, 30),
            _line("xa-d", "ct1", "dt", 0, 30),
        ],
        max_transfers_per_line=1,  # held_by_max_transfers
    ),
    _scenario(
        [_line("xa-a", "ct1", "dt", 10, 0), _line("xa-b", "ct1", "dt", 0, 10), _line("xa-c", "ct2", "dt", 0, 10)],
        pool_by=["fund"],
        move_costs={"program": 5},  # held_by_approval
    ),
]

#: infeasible scenarios whose diagnoses name targets, limits, pools and transfer rules
DIAGNOSIS_CASES: list[Scenario] = [
    quang_nam_2023(rules={"target_rate": 1.0}),
    _scenario(
        [
            _line("xa-a", "ct1", "dt", 100, 60),
            _line("xa-b", "ct1", "dt", 100, 70),
            _line("xa-c", "ct1", "dt", 40, 70),
            _line("xa-d", "ct1", "dt", 40, 60),
        ],
        min_transfer=5,
        target_rate=0.95,
    ),
    _scenario(
        [_line("xa-a", "ct1", "dt", 100, 0), _line("xa-b", "ct1", "dt", 0, 100)],
        max_loss={"amount": 10},
        targets=[{"program": "ct1", "rate": 0.9}],
    ),
    _scenario(
        [_line("xa-a", "ct1", "dt", 100, 0), _line("xa-b", "ct1", "dt", 0, 40), _line("xa-c", "ct1", "dt", 0, 60)],
        max_transfers_per_line=1,
        target_rate=0.9,
    ),
]


def _data_words(sc: Scenario) -> set[str]:
    t = sc.table
    words = set()
    for key in ("locality", "program", "fund", "component"):
        for value in t.lines.categories(key):
            words |= _words(str(value))
    for loc in sc.localities or ():
        words |= _words(loc.name or "")
    return words | _words(sc.name) | _words(sc.unit)


def test_the_reason_cases_give_every_reason() -> None:
    seen = set()
    for sc in REASON_CASES:
        plan = solve(sc)
        assert plan.found, plan.message
        seen |= set(plan.explain.lines["reason"]) if plan.explain is not None else set()
    assert seen == set(REASON_TEXTS), set(REASON_TEXTS) ^ seen


@pytest.mark.parametrize("k", range(len(REASON_CASES)))
def test_every_reason_and_report_reads_in_vietnamese(k: int) -> None:
    sc = REASON_CASES[k]
    plan = solve(sc)
    assert plan.explain is not None
    data = _data_words(sc)
    for text in plan.explain.lines["text"]:
        vi = translate(text, "vi")
        assert not untranslated(text), text
        assert not _english_in(vi, data), (text, vi)
    for doc in (text_report(plan, "vi"), _html_text(plan_html(plan, "vi"))):
        assert not _english_in(doc, data | _REPORT_IDS), sorted(_english_in(doc, data | _REPORT_IDS))


#: words a Vietnamese report shows as they are: the solver's name and the library's
_REPORT_IDS = {"highs", "reallocate", "html"}


def _html_text(html: str) -> str:
    body = re.sub(r"<style>.*?</style>|<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", html, flags=re.S)
    return body


@pytest.mark.parametrize("objective", ["expected", "quantile", "cvar"])
def test_the_risk_of_lapse_reads_in_vietnamese(objective: str, tmp_path: Path) -> None:
    sc = quang_nam_2023()
    forecast = reallocate.forecast(quang_nam_history(), as_of="2023-09", scenario=sc)
    plan = solve(sc, capacity=forecast, objective=objective)
    risk = plan.risk(forecast, samples=200, seed=0, target=0.9, vss=Decimal("1234.5"))
    data = _data_words(sc) | _REPORT_IDS
    book = openpyxl.load_workbook(write_excel(plan, tmp_path / "plan.xlsx", lang="vi", risk=risk))
    cells = [str(c.value) for name in ("summary", "risk", "risk_lines") for row in book[name].iter_rows() for c in row]
    cells += [str(c.value) for c in book["lines"][1]]
    page = _html_text(html.unescape(plan_html(plan, "vi", risk=risk)))  # 'expected' is written &#x27;expected&#x27;
    for doc in (text_report(plan, "vi", risk=risk), page, " ".join(cells)):
        assert "VSS" in doc
        assert not _english_in(doc, data), sorted(_english_in(doc, data))


@pytest.mark.parametrize("k", range(len(DIAGNOSIS_CASES)))
def test_every_diagnosis_reads_in_vietnamese(k: int) -> None:
    sc = DIAGNOSIS_CASES[k]
    plan = solve(sc)
    assert plan.status == "infeasible" and plan.explain is not None and plan.explain.diagnosis
    data = _data_words(sc) | {"lines"}  # rules.targets[0] and "lines" in paths are names of the input
    texts = [plan.message, *(d["text"] for d in plan.explain.diagnosis["targets"])]
    texts += list(plan.explain.diagnosis["conflict"])
    assert plan.explain.diagnosis["conflict"], "each case names its conflicting rules"
    for text in texts:
        assert not untranslated(text), (text, untranslated(text))
        assert not _english_in(translate(text, "vi"), data), (text, translate(text, "vi"))
    for doc in (text_report(plan, "vi"), _html_text(plan_html(plan, "vi"))):
        assert not _english_in(doc, data | _REPORT_IDS), sorted(_english_in(doc, data | _REPORT_IDS))


# ------------------------------------------------------------------------------- errors
BAD_SCENARIOS: list[dict[str, Any]] = [
    {"name": "x", "lines": []},
    {"lines": [{"locality": "a", "program": "p", "fund": "f", "allocated": "abc", "capacity": -5}]},
    {
        "name": "x",
        "precision": "0.01",
        "lines": [
            {"locality": "a", "program": "p", "fund": "f", "allocated": "10.005", "capacity": 5, "floor": 20},
            {"locality": "a", "program": "p", "fund": "f", "allocated": 10, "capacity": 5},
            {"locality": "b", "program": "p", "fund": "f", "allocated": 10, "capacity": 5, "disbursed": 8},
            {"locality": "c", "program": "p", "fund": "f", "allocated": 10, "capacity": 20, "ceiling": 5},
            {
                "locality": "d",
                "program": "p",
                "fund": "f",
                "allocated": 10,
                "capacity": 5,
                "frozen": True,
                "give_only": True,
            },
            {"locality": "e", "program": "p", "fund": "f", "allocated": True, "capacity": 1e400, "colour": "red"},
            {"locality": "f\u0007", "program": "p" * 300, "fund": "f", "allocated": 1, "capacity": 1},
            {"locality": "g", "program": "p", "fund": "f", "allocated": 10**30, "capacity": 5},
        ],
        "localities": [{"id": "a"}, {"id": "a"}, {"id": "zz", "weight": -1}],
        "transfer_costs": [{"from": "a", "to": "nowhere", "cost": 1}, {"from": "a", "to": "nowhere", "cost": 2}],
        "rules": {
            "pool_by": ["program", "program"],
            "recipients": "fair",
            "min_transfer": "0.005",
            "move_costs": {"program": 5},
            "max_loss": {"amount": 5, "share": 0.5},
            "max_gain": {"share": 1.5},
            "target_rate": 2,
            "targets": [{"program": "nope", "rate": 0.5}, {"program": "nope", "rate": 0.6}],
            "order": ["fair_shares", "fair_shares"],
            "colour": 1,
        },
    },
    {"name": "x", "lines": "not a list"},
    {
        "name": 5,
        "unit": None,
        "lines": [{"locality": "", "program": "p", "fund": "f", "allocated": "9.900", "capacity": 1}],
    },
]


def _problems_of(call: Any) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        call()
    return [str(e.get("msg", "")) for e in caught.value.errors] + [caught.value.title]


def _error_texts(tmp_path: Path) -> list[str]:
    out: list[str] = []
    for data in BAD_SCENARIOS:
        out += _problems_of(lambda data=data: Scenario.from_dict(data))
    out += _problems_of(lambda: Scenario.from_json(b'{"name": "x", "lines": [1,]}'))
    out += _problems_of(lambda: Scenario.from_json(b"\xff\xfe"))
    out += _problems_of(lambda: quang_nam_2023().with_changes({"kind": "nope"}))
    out += _problems_of(
        lambda: quang_nam_2023().with_changes({"kind": "scale_capacity", "where": {"program": "zz"}, "factor": 2})
    )
    # a workbook with bad cells
    path = write_template(tmp_path / "bad.xlsx", lang="vi")
    wb = openpyxl.load_workbook(path)
    ws = wb["lines"]
    rows = [
        ["xa-a", "ct1", "dt", None, "9,900", "abc", "1.000.000", None, None, "maybe"],
        ["xa-b", "ct1", "dt", None, "=A1", 5, -3, None, None, None],
    ]
    for r, values in enumerate(rows, start=2):
        for c, v in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=v)
    ws.cell(row=1, column=14, value="colour")
    ws.cell(row=2, column=15, value="stray")
    wb["scenario"]["A5"] = "speed"
    wb["scenario"]["B5"] = 1
    wb.save(path)
    out += _problems_of(lambda: read_scenario(path))
    (tmp_path / "s.csv").mkdir()
    (tmp_path / "s.csv" / "lines.csv").write_bytes(b"locality,program,capacty\nx\xe0,a,1\n")  # not UTF-8
    out += _problems_of(lambda: read_scenario(tmp_path / "s.csv"))
    (tmp_path / "nope.txt").write_text("x", encoding="utf-8")
    out += _problems_of(lambda: read_scenario(tmp_path / "nope.txt"))
    return out


def test_every_error_reads_in_vietnamese(tmp_path: Path) -> None:
    texts = _error_texts(tmp_path)
    assert len(texts) > 45
    data = {"colour", "speed", "stray", "nope", "nowhere", "fair", "red", "maybe", "abc", "capacty", "lines", "not"}
    data |= FIELDS
    missed = {t: untranslated(t) for t in texts if untranslated(t)}
    assert not missed, missed
    for text in texts:
        vi = translate(text, "vi")
        assert not _english_in(vi, data), (text, vi)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_command_line_errors_read_in_vietnamese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD_SCENARIOS[2]), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"name": "x", "lines": [_line("xa-a", "ct1", "dt", 1, 1)]}), encoding="utf-8")
    (tmp_path / "taken.txt").write_text("x", encoding="utf-8")
    runs = [
        ["validate", str(bad), "--lang", "vi"],
        ["solve", str(bad), "--lang", "vi", "--format", "json"],
        ["solve", str(good), "--lang", "vi", "--out", str(good)],
        ["solve", str(good), "--lang", "vi", "--out", str(tmp_path / "taken.txt")],
        ["solve", str(good), "--lang", "vi", "--format", "html"],
        ["solve", str(tmp_path / "missing.json"), "--lang", "vi"],
        ["solve", "--lang", "vi"],
        ["solve", str(good), "--lang", "vi", "--format", "pdf"],
        ["solve", str(good), "--lang", "vi", "--time-limit", "soon"],
        ["compare", str(good), "--lang", "vi"],
    ]
    data = {
        "json",
        "html",
        "pdf",
        "soon",
        "missing",
        "taken",
        "txt",
        "bad",
        "good",
        "format",
        "time",
        "limit",
        "lang",
        "out",
        "force",
        "file",
        "usage",
        "solve",
        "validate",
        "compare",
        "text",
        "excel",
        "csv",
        "parquet",
        "highs",
        "cbc",
        "explain",
        "compact",
        "charts",
        "changes",
        "solver",
        "names",
        "top",
        "dir",
        "path",
        "lines",
        "not",
        "colour",
        "nope",
        "nowhere",
        "fair",
        "red",
        "abc",
        "tmp",
        "pytest",
        "root",
        "of",
        "reallocate",
        "vi",
        "en",
        # the options of a plan for a capacity forecast, as the usage line names them
        "history",
        "forecast",
        "method",
        "ratio",
        "logistic",
        "objective",
        "expected",
        "quantile",
        "cvar",
        "risk",
        "samples",
        "seed",
        "target",
        "rate",
    } | FIELDS
    for args in runs:
        code, out, err = _run(args, capsys)
        assert code == 2, (args, code, err)
        assert err.strip(), args
        words = _english_in(err, data | _words(str(tmp_path)))
        assert not words, (args, err, words)
    # the JSON error document carries the Vietnamese messages too
    code, out, err = _run(["solve", str(bad), "--lang", "vi", "--format", "json"], capsys)
    doc = json.loads(out)
    assert doc["status"] == "invalid" and doc["title"] == "kịch bản không hợp lệ"
    assert any(p["message"].startswith("mã địa phương 'a' bị trùng") for p in doc["problems"])


def test_english_stays_english(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD_SCENARIOS[2]), encoding="utf-8")
    code, _, err = _run(["validate", str(bad)], capsys)
    assert code == 2 and "invalid scenario" in err and "duplicate locality id 'a'" in err


def test_the_vietnamese_template_and_workbook_say_trieu_dong(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", lang="vi"))
    assert wb["scenario"]["B3"].value == "triệu đồng"
    plan = solve(REASON_CASES[0])
    book = openpyxl.load_workbook(write_excel(plan, tmp_path / "plan.xlsx", lang="vi"))
    rows = {r[0].value: r[1].value for r in book["summary"].iter_rows(min_row=2)}
    assert rows["Đơn vị"] == "triệu đồng"
    # the summary's figures sit next to their labels, its long sentences wrap in a readable column
    values = [r[1] for r in book["summary"].iter_rows(min_row=2) if r[1].value is not None]
    assert all(c.alignment.horizontal == "left" and c.alignment.wrap_text for c in values)
    assert book["summary"].column_dimensions["B"].width <= 75
    header = [c.value for c in book["lines"][1]]
    reasons = [r[header.index("Lý do")].value for r in book["lines"].iter_rows(min_row=2)]
    texts = [r[header.index("Giải thích")].value for r in book["lines"].iter_rows(min_row=2)]
    assert "giữ lại một phần vốn dư: nhóm đã hết dư địa" in reasons
    # Vietnamese sentences with Vietnamese numbers: 80 given of a surplus of 80
    assert any(t.startswith("đã chuyển đi 20 trong vốn dư 80 (25%)") for t in texts), texts
    data = _data_words(REASON_CASES[0])
    for value in [*reasons, *texts, *rows.values()]:
        if isinstance(value, str):
            assert not _english_in(value, data | _REPORT_IDS), value


def test_amounts_in_sentences_take_the_vietnamese_format() -> None:
    en = "received 1,234,567.5 of its room 2,000,000 (62%): its pool ran out of surplus (a pro-rata share)"
    assert translate(en, "vi") == (
        "đã nhận 1.234.567,5 trong dư địa 2.000.000 (62%): nhóm đã hết vốn dư (chia theo tỷ lệ)"
    )
    assert translate(en, "en") == en
    assert reallocate.messages.translate("something the catalogue never wrote", "vi") == (
        "something the catalogue never wrote"
    )


def test_charts_and_comparisons_write_the_unit_as_a_vietnamese_reader_does() -> None:
    plan = solve(REASON_CASES[0])
    other = solve(REASON_CASES[0].with_changes({"kind": "scale_capacity", "where": {}, "factor": 1.1}))
    text = reallocate.compare(plan, other).text(lang="vi")
    assert "triệu đồng" in text and "million VND" not in text
    fig = plan.plot("absorbable", lang="vi")
    labels = [ax.get_xlabel() for ax in fig.axes]
    assert any("triệu đồng" in x for x in labels) and not any("million VND" in x for x in labels)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_one_headline_wording_everywhere(lang: str) -> None:
    plan = solve(REASON_CASES[0])
    headline = plan.headline_in(lang)
    assert headline in text_report(plan, lang)
    html = plan_html(plan, lang)
    assert (headline[:1].upper() + headline[1:]) in html
    if lang == "vi":
        assert "vốn có nguy cơ hủy" in headline and "vốn hủy " not in headline


@pytest.mark.parametrize(
    "en, vi",
    [
        (  # a list of what blocks a lapse: no item takes the rest of the list
            "max_loss of D1, max_gain of D2 and D3, frozen",
            "mức giảm tối đa (max_loss) của D1, mức tăng tối đa (max_gain) của D2 và D3, bị khóa (frozen)",
        ),
        ("max_loss of D1, min_transfer", "mức giảm tối đa (max_loss) của D1, mức điều chuyển tối thiểu (min_transfer)"),
        (  # a free field never takes the next part of a message
            "time limit reached in stage 'share'; the best plan found is kept (not proven optimal)",
            "hết thời gian trong bước 'share'; giữ phương án tốt nhất đã tìm được (chưa chứng minh tối ưu)",
        ),
        (
            "stage 'count': solver crashed; fewest transfers not searched (5,000 candidate pairs > 150)",
            "bước 'count': bộ giải gặp sự cố; chưa tìm số lần điều chuyển ít nhất (5.000 cặp ứng viên > 150)",
        ),
    ],
)
def test_a_field_never_swallows_the_next_part(en: str, vi: str) -> None:
    assert translate(en, "vi") == vi
