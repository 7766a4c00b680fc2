"""The planner's page in a real browser (Debian's chromium, driven by Playwright) against a real
service: upload the template filled with the demo data, solve, read the headline, switch to
Vietnamese, download the workbook and read it back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

import reallocate
from reallocate.datasets import quang_nam_2023
from reallocate.io import write_scenario_excel
from test_service import _server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _server(tmp_path_factory.mktemp("page") / "jobs.sqlite3") as (url, _):
        yield url


def test_upload_solve_read_switch_and_download(service: str, browser: object, tmp_path: Path) -> None:
    workbook = write_scenario_excel(quang_nam_2023(), tmp_path / "quang-nam.xlsx")
    expected = json.loads(reallocate.solve(quang_nam_2023()).to_json())["summary"]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(service + "/")
    assert page.locator("h1").inner_text() == "Reallocate capital between localities"
    page.set_input_files("#file", str(workbook))
    page.click("#solve")
    page.wait_for_selector("#plan:not([hidden])", timeout=60_000)
    frame = page.frame_locator("#plan")
    headline = frame.locator(".headline").inner_text()
    rates = [float(x) for x in re.findall(r"([0-9.]+)%", headline)[:2]]
    assert rates == [round(expected["rate_before"] * 100, 1), round(expected["rate_after"] * 100, 1)]
    assert f"+{expected['absorbable_after'] - expected['absorbable_before']:,}" in headline
    # Vietnamese: the page's own words and the plan's
    page.select_option("#lang", "vi")
    page.wait_for_function("document.getElementById('plan').srcdoc.includes('<html lang=\"vi\">')")
    assert page.locator("#solve").inner_text() == "Giải"
    assert "triệu đồng" in frame.locator(".headline").inner_text()
    # the workbook download is the plan
    with page.expect_download() as info:
        page.click("#get-excel")
    path = tmp_path / "plan.xlsx"
    info.value.save_as(path)
    book = openpyxl.load_workbook(path)
    summary = {r[0].value: r[1].value for r in book["summary"].iter_rows(min_row=2)}
    assert summary["Vốn điều chuyển"] == expected["moved"]
    context.close()


def test_the_demo_and_a_refused_file(service: str, browser: object, tmp_path: Path) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(service + "/")
    page.click("#demo")
    page.wait_for_selector("#plan:not([hidden])", timeout=60_000)
    assert "57.9%" in page.frame_locator("#plan").locator(".headline").inner_text()
    bad = tmp_path / "bad.json"
    data = json.loads(quang_nam_2023().to_json())
    data["lines"][2]["capacity"] = -1
    bad.write_text(json.dumps(data), encoding="utf-8")
    page.set_input_files("#file", str(bad))
    page.click("#solve")
    page.wait_for_selector("#problems li", timeout=30_000)
    assert "lines[2].capacity" in page.locator("#problems").inner_text()
    assert page.locator("#status").get_attribute("class") == "bad"
    # the empty template link gives a workbook
    response = httpx.get(service + page.locator("#template").get_attribute("href"))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    page.close()


def test_every_word_of_the_page_exists_in_both_languages() -> None:
    from reallocate.service.page import PAGE

    words = PAGE[PAGE.index("const WORDS = {") : PAGE.index("};", PAGE.index("const WORDS = {"))]
    en = words[words.index("en: {") : words.index("vi: {")]
    vi = words[words.index("vi: {") :]
    keys = re.compile(r"(\w+): \"")
    assert set(keys.findall(en)) == set(keys.findall(vi)) and len(keys.findall(en)) >= 20
    # every word the page's elements ask for is in the dictionary
    asked = set(re.findall(r'data-t="(\w+)"', PAGE))
    assert asked <= set(keys.findall(vi))
