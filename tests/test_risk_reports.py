"""The risk of lapse in the reports and on the command line: every figure checked against the
forecast's own draws by a plain computation here (not the code's), in both languages."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import openpyxl
import pytest

import reallocate
from reallocate import Plan, Scenario, solve
from reallocate.cli import main
from reallocate.datasets import quang_nam_2023, quang_nam_history
from reallocate.html import plan_html
from reallocate.io import write_csv, write_excel
from reallocate.labels import amount_text, percent_text
from reallocate.plan_schema import plan_schema
from reallocate.report import text_report
from reallocate.uncertainty import CapacityForecast, Quantile, Risk

SAMPLES, SEED, TARGET = 2000, 7, 0.9


@pytest.fixture(scope="module")
def case() -> dict[str, Any]:
    sc = quang_nam_2023()
    fc = reallocate.forecast(quang_nam_history(), as_of="2023-09", scenario=sc)
    plans = {name: solve(sc, capacity=fc, objective=name) for name in ("expected", "quantile", "cvar")}
    plan = plans["expected"]
    # the VSS by its definition: the plan for the expectation against the plan on the medians
    median = solve(sc, capacity=fc, objective=Quantile(0.5))
    draws = fc.sample(SAMPLES, seed=SEED)[:, fc.positions(sc)]
    vss = _absorbed(plan, draws).mean() - _absorbed(median, draws).mean()
    risk = plan.risk(fc, samples=SAMPLES, seed=SEED, target=TARGET, vss=Decimal(repr(float(vss))))
    return {"scenario": sc, "forecast": fc, "plans": plans, "plan": plan, "risk": risk, "draws": draws, "vss": vss}


def _final(plan: Plan) -> np.ndarray:
    """Each line's holding in whole units, from the plan's public table."""
    p = plan.scenario.precision
    return np.array([int(v / p) for v in plan.exact_lines()["final"]], dtype=np.int64)


def _absorbed(plan: Plan, draws: np.ndarray) -> np.ndarray:
    """Each draw's absorbed total (units): a plain loop over the draws."""
    final = _final(plan)
    return np.array([sum(min(int(f), int(c)) for f, c in zip(final, row, strict=True)) for row in draws])


def _expected(case: dict[str, Any]) -> dict[str, Any]:
    plan, draws = case["plan"], case["draws"]
    absorbed = _absorbed(plan, draws)
    allocated = int(sum(int(v) for v in plan.exact_lines()["allocated"]))
    rate = absorbed / allocated
    lapse = allocated - absorbed
    final = _final(plan)
    line_lapse = np.maximum(final[None, :] - draws, 0).mean(axis=0)
    worst = int(np.argmax(line_lapse))
    return {
        "rate": [rate.mean(), *np.quantile(rate, [0.1, 0.5, 0.9])],
        "lapse": [lapse.mean(), *np.quantile(lapse, [0.1, 0.5, 0.9])],
        "below": float(np.mean(rate < TARGET)),
        "worst": worst,
        "worst_lapse": line_lapse[worst],
    }


def _worst_name(case: dict[str, Any], i: int, lang: str) -> str:
    sc = case["scenario"]
    loc, program, fund, _ = sc.lines.keys()[i]
    fund_text = reallocate.labels.label(fund, lang)
    return f"{sc.locality_labels()[loc]} ({program} / {fund_text})"


# ------------------------------------------------------------------------------- text and HTML
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_text_report_shows_the_risk_of_the_forecast_draws(case: dict[str, Any], lang: str) -> None:
    want = _expected(case)
    text = text_report(case["plan"], lang, risk=case["risk"])
    # before the headline (measured against the planning capacities): what the forecast expects
    before = text[: text.index(case["plan"].headline_in(lang))]
    mean, p10, _, p90 = (percent_text(v, lang) for v in want["rate"])
    assert all(x in before for x in (mean, f"P10 {p10}", f"P90 {p90}")), before
    section = text[text.index("Risk of lapse" if lang == "en" else "Rủi ro vốn bị hủy") :]
    rate_row = next(line for line in section.splitlines() if line.startswith(("Disbursement rate", "Tỷ lệ giải ngân")))
    assert rate_row.split()[-4:] == [percent_text(v, lang) for v in want["rate"]]
    lapse_row = next(line for line in section.splitlines() if line.startswith(("Lapse (", "Vốn bị hủy (")))
    assert lapse_row.split()[-4:] == [amount_text(Decimal(round(v)), lang) for v in want["lapse"]]
    assert percent_text(want["below"], lang) in section and "90%" in section
    assert amount_text(Decimal(round(case["vss"])), lang) in section
    # the line carrying most expected lapse heads the table, with its amount
    rows = section.splitlines()
    head = next(k for k, x in enumerate(rows) if x.startswith(("Lines carrying", "Các dòng vốn mang")))
    first = rows[head + 3]
    assert first.startswith(_worst_name(case, want["worst"], lang)), first
    assert amount_text(Decimal(round(want["worst_lapse"])), lang) in first


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_every_report_of_a_forecast_plan_says_its_capacities_are_planning_capacities(
    case: dict[str, Any], lang: str, tmp_path: Path
) -> None:
    words = {
        "en": ("planning capacities", "under the objective '{}'"),
        "vi": ("dùng để lập phương án", "theo mục tiêu '{}'"),
    }
    plain = solve(case["scenario"])
    for name, plan in case["plans"].items():
        marks = [words[lang][0], words[lang][1].format(name)]
        html = plan_html(plan, lang)
        book = openpyxl.load_workbook(write_excel(plan, tmp_path / f"{name}.xlsx", lang))
        summary = " ".join(str(r[1].value) for r in book["summary"].iter_rows(min_row=2))
        csv_summary = (write_csv(plan, tmp_path / f"{name}-csv", lang) / "summary.csv").read_text(encoding="utf-8-sig")
        for doc in (text_report(plan, lang), unescape(html), summary, csv_summary):
            assert all(m in doc for m in marks), (name, lang)
        assert "Planning capacity" in html if lang == "en" else "Khả năng giải ngân để lập phương án" in html
        risk_sheet = {r[0].value: r[1].value for r in book["risk"].iter_rows(min_row=2)}
        assert any(f"{name}" in str(v) for v in risk_sheet.values())
    # a plan made on known capacities says nothing of the kind
    for doc in (text_report(plain, lang), plan_html(plain, lang)):
        assert words[lang][0] not in doc
    assert "risk" not in openpyxl.load_workbook(write_excel(plain, tmp_path / "plain.xlsx", lang)).sheetnames


def test_the_objectives_parameters_are_in_the_basis(case: dict[str, Any]) -> None:
    quantile = text_report(case["plans"]["quantile"], "en")
    assert "epsilon 0.2" in quantile and "with probability 80%" in quantile
    cvar = text_report(case["plans"]["cvar"], "vi")
    assert "alpha 0,1, omega 0,5, seed 0" in cvar and "10% số năm xấu nhất trong 500 năm mô phỏng" in cvar
    assert "5 equally likely values" in text_report(case["plans"]["expected"], "en")


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_html_report_embeds_the_risk_histogram(case: dict[str, Any], lang: str) -> None:
    want = _expected(case)
    html = plan_html(case["plan"], lang, risk=case["risk"])
    assert html.count('<figure id="chart-') == 4
    assert html.index('<a href="#risk">') < html.index("<h2")  # the outlook under the headline links to it
    png = re.search(r'<figure id="chart-risk"><img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert png is not None and base64.b64decode(png.group(1)).startswith(b"\x89PNG")
    section = html[html.index('<h2 id="risk">') :]
    cells = re.findall(r'<td class="num">([^<]*)</td>', section)
    assert cells[:4] == [percent_text(v, lang) for v in want["rate"]]  # mean, P10, P50, P90 in order
    assert _worst_name(case, want["worst"], lang) in section
    assert html.index('<h2 id="risk">') > html.index("chart-lapse")
    assert '<h2 id="risk">' not in plan_html(case["plan"], lang)


def test_a_risk_of_another_plan_is_refused(case: dict[str, Any]) -> None:
    sc = case["scenario"]
    renamed = Scenario.model_validate({**{n: getattr(sc, n) for n in Scenario.model_fields}, "name": "another"})
    other = solve(renamed, capacity=case["forecast"])
    risk = other.risk(case["forecast"], samples=10, seed=0)
    with pytest.raises(ValueError, match="another plan"):
        text_report(case["plan"], "en", risk=risk)
    with pytest.raises(ValueError, match="another plan"):
        plan_html(case["plan"], "en", risk=risk)


# ------------------------------------------------------------------------------- workbook, JSON
def test_the_workbook_has_the_risk_sheets(case: dict[str, Any], tmp_path: Path) -> None:
    want = _expected(case)
    book = openpyxl.load_workbook(write_excel(case["plan"], tmp_path / "p.xlsx", "en", risk=case["risk"]))
    assert book.sheetnames[-2:] == ["risk", "risk_lines"]
    rows = {r[0].value: r[1] for r in book["risk"].iter_rows(min_row=2)}
    for label, value in zip(("mean", "P10", "P50", "P90"), want["rate"], strict=True):
        cell = rows[f"Disbursement rate, {label}"]
        assert cell.value == pytest.approx(value, abs=1e-12) and cell.number_format.endswith("%")
    for label, value in zip(("mean", "P10", "P50", "P90"), want["lapse"], strict=True):
        assert rows[f"Lapse, {label}"].value == round(value)
    assert rows["Probability below the target"].value == pytest.approx(want["below"])
    assert rows["Value of the stochastic solution (VSS)"].value == round(case["vss"])
    assert rows["Simulated years"].value == SAMPLES and rows["Seed"].value == SEED
    lines = list(book["risk_lines"].iter_rows(min_row=2, values_only=True))
    keys = case["scenario"].lines.keys()
    assert lines[0][:3] == keys[want["worst"]][:3] and lines[0][5] == round(want["worst_lapse"])
    lapses = [r[5] for r in lines]
    assert lapses == sorted(lapses, reverse=True) and all(v > 0 for v in lapses)
    assert sum(r[6] for r in lines) == pytest.approx(1.0)


def test_plan_json_carries_the_basis_and_the_risk(case: dict[str, Any], tmp_path: Path) -> None:
    from reallocate.io import write_plan_json

    validator = jsonschema.Draft202012Validator(plan_schema())
    for name, plan in case["plans"].items():
        for kwargs in ({}, {"compact": True}):
            doc = json.loads(plan.to_json(**kwargs))
            validator.validate(doc)
            assert doc["basis"] == plan.basis.as_dict() and doc["basis"]["objective"] == name
    assert json.loads(reallocate.plan.Plan.to_json(case["plan"]))["basis"] == {
        "objective": "expected",
        "forecast": "ratio",
        "as_of": "2023-09",
        "breakpoints": 5,
    }
    plain = json.loads(solve(case["scenario"]).to_json())
    validator.validate(plain)
    assert "basis" not in plain and "risk" not in plain
    path = write_plan_json(case["plan"], tmp_path / "p.json", risk=case["risk"])
    doc = json.loads(path.read_text(encoding="utf-8"))
    validator.validate(doc)
    want = _expected(case)
    assert doc["risk"]["rate_p10"] == pytest.approx(want["rate"][1])
    assert doc["risk"]["lapse_p90"] == round(want["lapse"][3])
    assert doc["risk"]["probability_below_target"] == pytest.approx(want["below"])
    assert doc["risk"]["top_lines"][0]["locality"] == case["scenario"].lines.keys()[want["worst"]][0]
    # the schema refuses what it does not know
    doc["basis"]["colour"] = 1
    assert not validator.is_valid(doc)


# ------------------------------------------------------------------------------- command line
def _files(tmp_path: Path, **rules: Any) -> tuple[Path, Path]:
    scenario = tmp_path / "s.json"
    scenario.write_text(quang_nam_2023(rules=rules or None).to_json(), encoding="utf-8")
    history = tmp_path / "h.csv"
    history.write_text(quang_nam_history().csv_text(), encoding="utf-8")
    return scenario, history


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_solve_with_a_history_reports_the_risk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario, history = _files(tmp_path)
    base = ["solve", str(scenario), "--history", str(history), "--as-of", "2023-09", "--risk-samples", "500"]
    code, out, err = _run([*base, "--objective", "quantile", "--seed", "3", "--target", "0.85"], capsys)
    assert code == 0, err
    # the same figures by the library, on the same draws
    sc = quang_nam_2023()
    fc = reallocate.forecast(quang_nam_history(), as_of="2023-09", scenario=sc)
    plan = solve(sc, capacity=fc, objective="quantile")
    assert out == text_report(plan, "en", risk=_risk_of(plan, fc, 500, 3, 0.85))
    assert "target of 85%" in out and "epsilon 0.2" in out and "(VSS)" in out
    code, out, err = _run([*base, "--format", "json", "--forecast-method", "logistic"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["basis"] == {
        "objective": "expected",
        "forecast": "logistic",
        "as_of": "2023-09",
        "breakpoints": 5,
    }
    assert doc["risk"]["samples"] == 500 and doc["risk"]["seed"] == 0 and doc["risk"]["target"] == 0.9
    for suffix in ("html", "xlsx"):
        out_path = tmp_path / f"p.{suffix}"
        code, _, err = _run([*base, "--lang", "vi", "--out", str(out_path)], capsys)
        assert code == 0 and out_path.exists(), err
        code, _, err = _run([*base, "--lang", "vi", "--out", str(out_path)], capsys)
        assert code == 2 and "--force" in err
    assert 'id="chart-risk"' in (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "risk_lines" in openpyxl.load_workbook(tmp_path / "p.xlsx").sheetnames
    # the history is an input: never written over
    code, _, err = _run([*base, "--out", str(history), "--force", "--format", "text"], capsys)
    assert code == 2 and "is an input of this run" in err


def _risk_of(plan: Plan, fc: CapacityForecast, samples: int, seed: int, target: float) -> Risk:
    from reallocate.uncertainty import value_of_stochastic_solution

    vss = value_of_stochastic_solution(plan.scenario, fc, samples=samples, seed=seed).vss
    return plan.risk(fc, samples=samples, seed=seed, target=target, vss=vss)


@pytest.mark.parametrize(
    "extra, en, vi",
    [
        (["--objective", "cvar"], "--objective needs --history", "--objective cần có --history"),
        (["--seed", "4"], "--seed needs --history", "--seed cần có --history"),
        (["--history", "{h}"], "--history needs --as-of", "--history cần có --as-of"),
        (
            ["--history", "{h}", "--as-of", "2023-09", "--target", "1.5"],
            "argument --target: must be a rate from 0 to 1 (0.9 is 90%): '1.5'",
            "đối số --target: phải là tỷ lệ từ 0 đến 1 (0.9 là 90%): '1.5'",
        ),
        (
            ["--history", "{h}", "--as-of", "2023-09", "--risk-samples", "0"],
            "argument --risk-samples: must be a whole number from 1 to 1,000,000: '0'",
            "đối số --risk-samples: phải là số nguyên từ 1 đến 1.000.000: '0'",
        ),
        (
            ["--history", "{h}", "--as-of", "2023-09", "--seed", "x"],
            "argument --seed: not a whole number: 'x'",
            "đối số --seed: không phải số nguyên: 'x'",
        ),
        (
            ["--history", "{h}", "--as-of", "2023-13"],
            "as_of: the month must be 1 to 12 (got '2023-13')",
            "as_of: tháng phải từ 1 đến 12 (nhận được '2023-13')",
        ),
        (
            ["--history", "{h}", "--as-of", "2023-09", "--objective", "median"],
            "argument --objective: invalid choice: 'median'",
            "đối số --objective: lựa chọn không hợp lệ 'median'",
        ),
    ],
)
def test_bad_forecast_options_are_named_in_both_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], en: str, vi: str
) -> None:
    scenario, history = _files(tmp_path)
    args = ["solve", str(scenario), *(a.format(h=history) for a in extra)]
    for lang, text in (("en", en), ("vi", vi)):
        code, out, err = _run([*args, "--lang", lang], capsys)
        assert code == 2 and text in err and "Traceback" not in err, (lang, err)
        assert not out


def test_rules_that_need_the_quantile_objective(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario, history = _files(tmp_path, max_loss={"share": 0.5})
    base = ["solve", str(scenario), "--history", str(history), "--as-of", "2023-09", "--risk-samples", "200"]
    code, _, err = _run([*base, "--lang", "vi"], capsys)
    assert code == 2 and "không áp dụng được với mục tiêu 'expected'" in err and "max_loss" in err
    # the quantile objective keeps every rule; there is then no expected plan to weigh the VSS on
    code, out, err = _run([*base, "--objective", "quantile"], capsys)
    assert code == 0 and "the VSS is not computed" in err
    assert "Risk of lapse" in out and "(VSS)" not in out


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_risk_section_reads_at_1280_px(browser: Any, case: dict[str, Any], lang: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.html"
    path.write_text(plan_html(case["plan"], lang, risk=case["risk"]), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(path.as_uri())
    m = page.evaluate(
        """() => {
        const fig = document.querySelector('#chart-risk img');
        return {doc: document.documentElement.scrollWidth, view: window.innerWidth,
                img: fig.naturalWidth, shown: fig.getBoundingClientRect().width,
                tables: [...document.querySelectorAll('#risk ~ .scroll table')].map(
                    t => [t.scrollWidth, t.parentElement.clientWidth])};
    }"""
    )
    assert m["doc"] <= m["view"] and m["img"] > 0 and m["shown"] > 0
    assert m["tables"] and all(need <= have for need, have in m["tables"]), m["tables"]


def test_a_cvar_plan_too_large_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import reallocate.uncertainty.planning as planning

    monkeypatch.setattr(planning, "CVAR_MAX_CELLS", 1000)  # 500 draws x the moving lines are more
    scenario, history = _files(tmp_path)
    args = ["solve", str(scenario), "--history", str(history), "--as-of", "2023-09", "--objective", "cvar"]
    code, out, err = _run([*args, "--lang", "vi"], capsys)
    assert code == 2 and not out and "Traceback" not in err
    assert "bài toán LP của CVaR sẽ có" in err and "tối đa 1.000: hãy dùng ít mẫu hơn" in err, err
    code, _, err = _run(args, capsys)
    assert code == 2 and "columns (samples x moving lines); at most 1,000: use fewer samples" in err


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_html_headline_is_what_the_forecast_expects(case: dict[str, Any], lang: str) -> None:
    import re

    from reallocate.html import plan_html

    page = plan_html(case["plan"], lang, risk=case["risk"])
    first = re.search(r'<p class="headline">(.*?)</p>', page, re.S)
    assert first is not None
    mean = float(_absorbed(case["plan"], case["draws"]).mean()) / float(_final(case["plan"]).sum())
    assert percent_text(mean, lang) in first.group(1)
    # the figures against planning capacities still show, and say what they are measured against
    against = {"en": "against the planning capacities", "vi": "so với khả năng giải ngân dùng để lập phương án"}
    assert against[lang] in case["plan"].headline_in(lang)
    assert against[lang] not in first.group(1) and case["plan"].headline_in(lang).split(" (")[0][1:] in page
