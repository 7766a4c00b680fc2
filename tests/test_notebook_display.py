"""Notebook display: short reprs and small HTML renderings for Scenario, Plan, Summary and
Comparison, and the plan's headline as a property."""

from __future__ import annotations

from html.parser import HTMLParser

import reallocate
from reallocate import Scenario, compare, solve
from reallocate.report import headline


def _parses(text: str) -> None:
    parser = HTMLParser()
    parser.feed(text)
    parser.close()


def test_reprs_are_short_and_say_what_matters() -> None:
    scenario = reallocate.datasets.quang_nam_2023()
    plan = solve(scenario)
    assert plan.summary is not None
    assert repr(scenario) == (
        "Scenario('Quảng Nam 2023 — National Target Programs': 92 lines, 18 localities, 6 pools, unit 'million VND')"
    )
    assert len(repr(plan)) < 300 and repr(plan).startswith("Plan(optimal: expected disbursement 57.9% → 63.7%")
    assert f"{plan.summary.transfer_count} transfers" in repr(plan)
    assert repr(plan.summary).startswith("Summary(rate 57.9% → 63.7%, moved 143,334")
    assert repr(compare(plan, plan, names=["before", "after"])) == "Comparison(before, after: 0 changed lines)"
    none = solve(scenario.with_changes({"kind": "set_rules", "rules": {"target_rate": 1.0}}))
    assert repr(none).startswith("Plan(infeasible: no plan satisfies the rules")


def test_html_renderings_escape_names_and_parse() -> None:
    data = reallocate.datasets.quang_nam_2023().model_dump(by_alias=True, exclude_none=True)
    data["name"] = "<script>alert(1)</script> & co"
    scenario = Scenario.from_dict(data)
    plan = solve(scenario)
    for obj in (scenario, plan, plan.summary, compare(plan, plan)):
        html = obj._repr_html_()  # type: ignore[union-attr]
        _parses(html)
        assert "<script>" not in html
    assert "&lt;script&gt;" in plan._repr_html_() and "&lt;script&gt;" in scenario._repr_html_()
    assert "63.7%" in plan._repr_html_() and "143,334" in plan.summary._repr_html_()  # type: ignore[union-attr]


def test_headline_is_a_property_and_matches_the_report() -> None:
    plan = solve(reallocate.datasets.quang_nam_2023())
    assert plan.headline == headline(plan, "en")
    assert plan.headline.startswith("expected disbursement 57.9% → 63.7% (+143,334 million VND)")
