"""The HTML report as a reader sees it, in a real browser: Debian's chromium, driven by Playwright
(``.ci/run`` installs chromium when it is missing). At 1280 px every table fits without scrolling
and the explanation column is wide enough to read; printed on A4 (landscape, as the report's own
``@page`` asks) nothing is wider than the page."""

from __future__ import annotations

from pathlib import Path

import pytest

import reallocate
from reallocate import Plan, solve
from reallocate.datasets import quang_nam_2023
from reallocate.html import plan_html

#: the printable width of A4 landscape with the report's 12 mm margins, in CSS pixels (96 per inch)
A4_LANDSCAPE_PX = round((297 - 2 * 12) / 25.4 * 96)

MEASURE = """() => {
  const out = {doc: document.documentElement.scrollWidth, view: window.innerWidth, tables: [], why: []};
  for (const box of document.querySelectorAll('.scroll')) {
    const t = box.querySelector('table');
    out.tables.push({need: t.scrollWidth, have: box.clientWidth, id: t.rows[0].innerText.slice(0, 40)});
  }
  for (const td of document.querySelectorAll('td.why')) {
    const reason = td.querySelector('.reason');
    const lh = parseFloat(getComputedStyle(reason).lineHeight);
    out.why.push({width: td.clientWidth, clipped: td.scrollWidth > td.clientWidth + 1,
                  reasonLines: Math.round(reason.getBoundingClientRect().height / lh)});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    return {"optimal": solve(quang_nam_2023()), "infeasible": solve(quang_nam_2023(rules={"target_rate": 1.0}))}


def _open(browser: object, html: str, tmp_path: Path, width: int, height: int = 900) -> object:
    path = tmp_path / "plan.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.goto(path.as_uri())
    return page


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("which", ["optimal", "infeasible"])
def test_the_report_reads_at_1280_px(
    browser: object, plans: dict[str, Plan], lang: str, which: str, tmp_path: Path
) -> None:
    page = _open(browser, plan_html(plans[which], lang), tmp_path, 1280)
    m = page.evaluate(MEASURE)  # type: ignore[attr-defined]
    assert m["doc"] <= m["view"], m["doc"]
    wide = [t for t in m["tables"] if t["need"] > t["have"]]
    assert not wide, wide  # no table needs a scroll bar to show its last column
    if which == "optimal":
        assert len(m["why"]) == len(plans[which].scenario.table.allocated)
        assert min(w["width"] for w in m["why"]) >= 280  # a sentence, not a word per row
        assert not any(w["clipped"] for w in m["why"])
        assert max(w["reasonLines"] for w in m["why"]) <= 2
    page.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_report_prints_on_a4(browser: object, plans: dict[str, Plan], lang: str, tmp_path: Path) -> None:
    page = _open(browser, plan_html(plans["optimal"], lang), tmp_path, A4_LANDSCAPE_PX, 1400)
    page.emulate_media(media="print")  # type: ignore[attr-defined]
    m = page.evaluate(MEASURE)  # type: ignore[attr-defined]
    assert m["doc"] <= A4_LANDSCAPE_PX, m["doc"]
    assert not [t for t in m["tables"] if t["need"] > t["have"]]
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]
    assert pdf.startswith(b"%PDF")
    # every page is A4 landscape: 842 x 595 points
    boxes = {tuple(round(float(v)) for v in box.split()) for box in _media_boxes(pdf)}
    assert boxes == {(0, 0, 842, 595)}, boxes


def _media_boxes(pdf: bytes) -> list[str]:
    import re

    return [m.decode() for m in re.findall(rb"/MediaBox\s*\[\s*([0-9.\s]+?)\s*\]", pdf)]


def test_shadow_price_notes_come_with_the_shadow_prices() -> None:
    line = {"program": "ct1", "fund": "dt"}
    sc = reallocate.Scenario.from_dict(
        {
            "name": "min_transfer",
            "lines": [
                {"locality": "xa-a", **line, "allocated": 100, "capacity": 10},
                {"locality": "xa-b", **line, "allocated": 0, "capacity": 30},
                {"locality": "xa-c", **line, "allocated": 0, "capacity": 30},
            ],
            "rules": {"min_transfer": 5},
        }
    )
    plan = solve(sc)
    assert plan.explain is not None and not plan.explain.ranked.empty
    assert plan.explain is not None and any("shadow prices" in n for n in plan.explain.notes)
    for lang in ("en", "vi"):
        html = plan_html(plan, lang)
        assert reallocate.labels.phrase("html", "saves_note", lang) in html
        ranked = plan.explain.ranked.head(10)
        names = plan.scenario.locality_labels()
        assert all(names[x] in html for x in ranked["locality"])
