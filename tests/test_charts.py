"""Charts and the HTML report: what is drawn is derived from the plan, Vietnamese text has its
glyphs, PNG files are PNGs, the HTML report needs nothing outside itself."""

from __future__ import annotations

import base64
import io
import re
import struct
import subprocess
import sys
import warnings
from collections import defaultdict
from decimal import Decimal
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.text import Text

import reallocate
from reallocate import charts
from reallocate.errors import OptimizationError
from reallocate.html import plan_html, write_html
from reallocate.labels import amount_text, label, percent_text
from reallocate.plan import Plan
from reallocate.scenario import Scenario

# every warning is an error here: a missing glyph is a UserWarning from the Agg renderer
pytestmark = pytest.mark.filterwarnings("error")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return reallocate.solve(reallocate.datasets.quang_nam_2023())


@pytest.fixture(scope="module")
def infeasible() -> Plan:
    plan = reallocate.solve(reallocate.datasets.quang_nam_2023(rules={"target_rate": 1.0}))
    assert plan.status == "infeasible"
    return plan


@pytest.fixture(scope="module")
def no_transfers() -> Plan:
    # pools of one line each: nothing can move
    plan = reallocate.solve(reallocate.datasets.quang_nam_2023(rules={"pool_by": ["locality", "program", "fund"]}))
    assert plan.found and plan.transfers.empty
    return plan


@pytest.fixture(scope="module")
def html_en(plan: Plan) -> str:
    return plan_html(plan, "en")


@pytest.fixture(scope="module")
def html_vi(plan: Plan) -> str:
    return plan_html(plan, "vi")


def texts(fig: Figure, *, draw: bool = False) -> list[str]:
    """Every text of the figure (``draw``: after drawing it, with the tick labels it made then)."""
    if draw:
        fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if isinstance(t, Text) and t.get_text()]


def bars(fig: Figure) -> list[BarContainer]:
    return [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]


def by_locality(plan: Plan, column: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for loc, v in zip(plan.lines["locality"], plan.lines[column], strict=True):
        out[loc] += v
    return out


# ------------------------------------------------------------------------------------ charts
def test_absorbable_has_one_bar_pair_per_locality_sorted_by_absorbable_after(plan: Plan) -> None:
    fig = charts.plot(plan, "absorbable")
    before, after = bars(fig)
    after_by = by_locality(plan, "absorbable_after")
    before_by = by_locality(plan, "absorbable_before")
    assert len(before) == len(after) == len(after_by) == 18
    order = sorted(after_by, key=lambda k: -after_by[k])
    names = plan.scenario.locality_labels()
    ax = fig.axes[0]
    # top to bottom: largest absorbable after first
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ticks = sorted(zip(ax.get_yticks(), labels, strict=True), key=lambda p: -p[0])
    assert [t for _, t in ticks] == [names[k] for k in order]
    assert [b.get_width() for b in after] == pytest.approx([float(after_by[k]) for k in order])
    assert [b.get_width() for b in before] == pytest.approx([float(before_by[k]) for k in order])
    drawn = texts(fig)
    assert label("chart_absorbable") in drawn
    assert any(plan.scenario.unit in t for t in drawn)  # the axis names the unit
    gain = after_by[order[0]] - before_by[order[0]]
    assert any(t.endswith(f"(+{amount_text(gain)})") for t in drawn)


def test_flows_heatmap_is_givers_by_receivers_and_adds_up_to_what_moved(plan: Plan) -> None:
    fig = charts.plot(plan, "flows")
    ax = fig.axes[0]
    (image,) = ax.images
    cells = np.ma.filled(image.get_array(), 0.0)
    t = plan.transfers
    assert cells.shape == (t["from_locality"].nunique(), t["to_locality"].nunique())
    assert plan.summary is not None
    assert cells.sum() == pytest.approx(float(plan.summary.moved))
    pairs = t.groupby(["from_locality", "to_locality"]).size()
    assert int((cells > 0).sum()) == len(pairs) == 72
    # every non-empty cell is annotated with its amount
    drawn = texts(fig)
    for v in cells[cells > 0]:
        assert amount_text(round(float(v))) in drawn
    # rows: the largest giver first
    given = t.groupby("from_locality")["amount"].sum()
    names = plan.scenario.locality_labels()
    assert ax.get_yticklabels()[0].get_text() == names[str(given.astype(float).idxmax())]


def test_lapse_has_one_stacked_bar_per_pool_with_lapse(plan: Plan) -> None:
    fig = charts.plot(plan, "lapse")
    no_room, blocked = bars(fig)
    assert plan.explain is not None
    lapse = plan.explain.lapse
    pools = lapse.groupby("pool")["lapse"].sum()
    assert len(no_room) == len(blocked) == int((pools > 0).sum()) == 6
    # stacked: blocked starts where no room ends; together they are what still lapses
    for a, b in zip(no_room, blocked, strict=True):
        assert b.get_x() == pytest.approx(a.get_width())
    total = sum(a.get_width() + b.get_width() for a, b in zip(no_room, blocked, strict=True))
    assert plan.summary is not None
    assert total == pytest.approx(float(plan.summary.lapse_after))
    drawn = texts(fig)
    assert label("no_room") in drawn and label("blocked") in drawn
    assert "dtts / investment" in drawn


@pytest.mark.parametrize("kind", charts.KINDS)
def test_vietnamese_labels_and_no_missing_glyphs(plan: Plan, kind: str) -> None:
    # a font without Vietnamese letters in rcParams must not matter: charts draw in DejaVu Sans
    with matplotlib.rc_context({"font.family": "cmss10"}), warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.plot(plan, kind, "vi")
        fig.savefig(io.BytesIO(), format="png", dpi=40)
        drawn = texts(fig)  # with the tick labels the drawing made
    assert label(f"chart_{kind}", "vi") in drawn
    joined = "\n".join(drawn)
    if kind == "lapse":
        assert "đầu tư phát triển" in joined  # the fund, in Vietnamese
    else:
        assert "Nam Trà My" in joined
    assert re.search(r"\d{1,3}\.\d{3}", joined)  # thousands separated by dots
    families = {t.get_fontfamily()[0] for t in fig.findobj(Text) if isinstance(t, Text)}
    assert families == {charts.FONT}


def test_the_glyph_check_can_fail(plan: Plan) -> None:
    # the same check as above catches a font without the diacritics
    fig = charts.plot(plan, "absorbable", "vi")
    for t in fig.findobj(Text):
        assert isinstance(t, Text)
        t.set_fontfamily("cmss10")
    with pytest.raises(UserWarning, match="missing from font"), warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", dpi=40)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_save_all_writes_three_valid_pngs(plan: Plan, tmp_path: Path) -> None:
    paths = charts.save_all(plan, tmp_path / "charts", "vi")
    assert set(paths) == set(charts.KINDS)
    for kind, path in paths.items():
        assert path == tmp_path / "charts" / f"{kind}.png"
        data = path.read_bytes()
        width, height = png_size(data)
        assert len(data) > 20_000
        assert 1000 <= width <= 3000 and 500 <= height <= 4000
    one = charts.save_png(plan, tmp_path / "lapse.png", "lapse", dpi=72)
    assert png_size(one.read_bytes())[0] < png_size(paths["lapse"].read_bytes())[0]


def test_plan_plot_returns_the_figure(plan: Plan) -> None:
    fig = plan.plot("lapse", lang="vi")
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == label("chart_lapse", "vi")
    assert plan.plot().get_suptitle() == label("chart_absorbable")
    assert fig._repr_png_()[:8] == PNG_SIGNATURE  # type: ignore[attr-defined]  # notebooks show it


def test_a_plan_without_transfers_draws_what_it_can(no_transfers: Plan) -> None:
    flows = charts.plot(no_transfers, "flows")
    assert not flows.axes[0].images
    assert any(t.startswith("No transfers: no pool has both surplus and room") for t in texts(flows))
    absorbable = charts.plot(no_transfers, "absorbable")
    assert [len(c) for c in bars(absorbable)] == [18, 18]
    lapse = charts.plot(no_transfers, "lapse", "vi")
    assert no_transfers.explain is not None
    with_lapse = no_transfers.explain.lapse["pool"].nunique()
    assert with_lapse > charts.MAX_ROWS  # one pool per line: only the largest are drawn, and it says so
    assert [len(c) for c in bars(lapse)] == [charts.MAX_ROWS] * 2
    assert any(f"{charts.MAX_ROWS} mục lớn nhất trong {with_lapse} nhóm" in t for t in texts(lapse))


def test_nothing_lapses_draws_a_message() -> None:
    sc = Scenario.from_dict(
        {
            "name": "t",
            "lines": [
                {"locality": "a", "program": "p", "fund": "f", "allocated": 100, "capacity": 40},
                {"locality": "b", "program": "p", "fund": "f", "allocated": 0, "capacity": 100},
            ],
        }
    )
    plan = reallocate.solve(sc)
    fig = charts.plot(plan, "lapse")
    assert not bars(fig)
    assert any(t.startswith("Nothing lapses") for t in texts(fig))


def test_no_plan_raises_and_writes_nothing(infeasible: Plan, tmp_path: Path) -> None:
    for kind in charts.KINDS:
        with pytest.raises(OptimizationError, match="no plan to chart: the plan is infeasible"):
            charts.plot(infeasible, kind)
    with pytest.raises(OptimizationError):
        charts.save_all(infeasible, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_kind_or_lang(plan: Plan) -> None:
    with pytest.raises(ValueError, match="kind must be one of absorbable, flows, lapse"):
        charts.plot(plan, "pie")
    with pytest.raises(ValueError, match="lang must be one of"):
        charts.plot(plan, "lapse", "fr")


def test_importing_and_plotting_needs_no_display_and_no_pyplot() -> None:
    code = (
        "import sys, reallocate, reallocate.charts, reallocate.html\n"
        "p = reallocate.solve(reallocate.datasets.quang_nam_2023())\n"
        "p.plot('flows').savefig(__import__('io').BytesIO())\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(reallocate.__file__).parents[1]), "MPLBACKEND": "qtagg"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------ HTML
class _Tags(HTMLParser):
    """Checks that every element is closed in order and collects src/href attributes."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.links: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(text: str) -> _Tags:
    tags = _Tags()
    tags.feed(text)
    tags.close()
    assert not tags.errors and not tags.stack, (tags.errors, tags.stack)
    return tags


def data_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_html_is_self_contained_with_the_three_charts(lang: str, html_en: str, html_vi: str) -> None:
    text = html_en if lang == "en" else html_vi
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in text
    assert f'<html lang="{lang}">' in text
    tags = parse(text)
    assert len(tags.links) == 3 and all(link.startswith("data:image/png;base64,") for link in tags.links)
    assert "http://" not in text and "https://" not in text and "url(" not in text and "@import" not in text
    pngs = data_pngs(text)
    assert len(pngs) == 3
    for data in pngs:
        png_size(data)
        assert len(data) > 10_000


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_html_has_the_headline_figures_names_and_tables(plan: Plan, lang: str, html_en: str, html_vi: str) -> None:
    text = html_en if lang == "en" else html_vi
    s = plan.summary
    assert s is not None
    gain = s.absorbable_after - s.absorbable_before
    headline = (
        f"{percent_text(s.rate_before, lang)} → {percent_text(s.rate_after, lang)} (+{amount_text(gain, lang)} "
        f"{'million VND' if lang == 'en' else 'triệu đồng'}); "
    )
    assert headline in text
    # the bundled unit is "million VND": a Vietnamese reader sees it as "triệu đồng", everywhere
    assert ("million VND" in text) == (lang == "en")
    assert f"{amount_text(s.lapse_before, lang)} → {amount_text(s.lapse_after, lang)}" in text
    assert ("57.9%" if lang == "en" else "57,9%") in text
    assert ("143,334" if lang == "en" else "143.334") in text
    for name in ("Nam Trà My", "Bắc Trà My", "Điện Bàn"):
        assert name in text
    for key in ("summary", "transfers", "lines", "lapse_by_pool", "approval", "reason"):
        assert f">{label(key, lang)}" in text
    # one table row per transfer and per line (plus the header rows and totals)
    assert text.count("<tr>") >= len(plan.transfers) + len(plan.lines)
    assert escape(label("people_committee", lang)) in text
    assert ("Gap to 100%: 904,161" if lang == "en" else "Khoảng cách đến 100%: 904.161") in text


def test_html_vietnamese_reasons_use_vietnamese_numbers(html_vi: str) -> None:
    assert "giữ lại một phần vốn dư" in html_vi
    assert "đã chuyển đi 2.318 trong vốn dư 5.600 (41%)" in html_vi
    assert "of its surplus" not in html_vi


def test_html_escapes_every_text() -> None:
    sc = Scenario.from_dict(
        {
            "name": "<script>alert(1)</script> & co",
            "unit": "đồng <b>",
            "localities": [{"id": "a", "name": "A <img src=x onerror=alert(1)>"}, {"id": "b", "name": 'B "quoted"'}],
            "lines": [
                {"locality": "a", "program": "<prog>", "fund": "f&f", "allocated": 100, "capacity": 40},
                {"locality": "b", "program": "<prog>", "fund": "f&f", "allocated": 0, "capacity": 100},
            ],
        }
    )
    text = plan_html(reallocate.solve(sc))
    assert "<script>" not in text and "<img src=x" not in text and "<b>" not in text and "<prog>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "A &lt;img src=x onerror=alert(1)&gt;" in text
    assert "B &quot;quoted&quot;" in text
    assert "&lt;prog&gt; / f&amp;f" in text
    parse(text)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_html_of_an_infeasible_plan_shows_the_diagnosis(infeasible: Plan, lang: str) -> None:
    text = plan_html(infeasible, lang)
    parse(text)
    assert not data_pngs(text)
    assert infeasible.explain is not None and infeasible.explain.diagnosis is not None
    target = infeasible.explain.diagnosis["targets"][0]
    missing = amount_text(target["missing"], lang)
    assert missing == ("904,161" if lang == "en" else "904.161")
    assert f"{missing} {'million VND' if lang == 'en' else 'triệu đồng'}" in text
    assert ("No plan: infeasible" if lang == "en" else "Không có phương án: không khả thi") in text
    assert ("Closest lines" if lang == "en" else "Các dòng vốn gần nhất") in text
    assert ("Nam Trà My (dtts / recurrent)" if lang == "en" else "Nam Trà My (dtts / sự nghiệp)") in text
    conflicts = infeasible.explain.diagnosis["conflict"]
    assert "rules.target_rate: all lines must reach 100%" in conflicts
    if lang == "en":
        for rule in conflicts:
            assert f"<li>{escape(rule)}</li>" in text
    else:
        assert "<li>rules.target_rate: mọi dòng vốn phải đạt 100%</li>" in text
        assert "all lines" not in text and " in all " not in text


def test_html_of_a_plan_without_transfers(no_transfers: Plan, tmp_path: Path) -> None:
    path = write_html(no_transfers, tmp_path / "plan.html", "vi")
    assert path == tmp_path / "plan.html"
    text = path.read_text(encoding="utf-8")  # UTF-8, as the meta tag says
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    parse(text)
    assert len(data_pngs(text)) == 3
    assert "Không có điều chuyển: không nhóm nào vừa có vốn dư vừa có dư địa" in text
