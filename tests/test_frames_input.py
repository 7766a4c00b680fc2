"""Scenarios from pandas: computed amounts read as Excel reads them, misspelt columns named with a
suggestion, index labels in errors, explicit tags, and a clear error for what is not a frame."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from reallocate import Scenario, ScenarioError


def _lines(**changes: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "locality": ["a", "b"],
        "program": ["p", "p"],
        "fund": ["f", "f"],
        "allocated": [100, 50],
        "capacity": [40, 90],
    }
    data.update(changes)
    return pd.DataFrame(data)


def test_a_computed_float_amount_is_the_decimal_it_shows() -> None:
    s = Scenario.from_frames(_lines(allocated=[0.1 + 0.2, 0.5], capacity=[0.1, 0.9]), precision="0.1")
    assert s.lines.amounts("allocated") == [Decimal("0.3"), Decimal("0.5")]
    same = Scenario.from_dict(
        {
            "name": "scenario",
            "precision": "0.1",
            "lines": _lines(allocated=[0.1 + 0.2, 0.5], capacity=[0.1, 0.9]).to_dict("records"),
        }
    )
    assert same.lines == s.lines  # the row path reads floats the same way
    with pytest.raises(ScenarioError, match="not a multiple of precision"):
        Scenario.from_frames(_lines(allocated=[0.35, 0.5], capacity=[0.1, 0.9]), precision="0.1")


def test_a_misspelt_column_is_named_with_its_likely_meaning() -> None:
    frame = _lines().rename(columns={"capacity": "capcity"})
    with pytest.raises(ScenarioError) as err:
        Scenario.from_frames(frame)
    assert "missing column 'capacity' (is 'capcity' it, misspelt?)" in str(err.value)
    frame = _lines(disbursd=[0, 0])
    with pytest.raises(ScenarioError, match=r"unknown column 'disbursd' \(did you mean 'disbursed'\?\)"):
        Scenario.from_frames(frame)


def test_errors_name_the_frames_own_index_labels() -> None:
    frame = _lines(capacity=[40, -90])
    frame.index = ["L1", "L7"]
    with pytest.raises(ScenarioError) as err:
        Scenario.from_frames(frame)
    assert err.value.errors[0]["loc"] == ("lines", 1, "capacity")
    assert err.value.errors[0]["index_label"] == "L7" and "index label 'L7'" in str(err.value)
    plain = _lines(capacity=[40, -90])
    with pytest.raises(ScenarioError) as err:
        Scenario.from_frames(plain)
    assert "index label" not in str(err.value)  # 0, 1, 2...: the position says it all


def test_a_locality_column_one_letter_from_weight_is_not_silently_a_tag() -> None:
    with pytest.raises(ScenarioError, match=r"'wieght' \(did you mean 'weight'\?\)"):
        Scenario.from_frames(_lines(), localities=pd.DataFrame({"id": ["a", "b"], "wieght": [2.0, 1.0]}))
    s = Scenario.from_frames(
        _lines(),
        localities=pd.DataFrame({"id": ["a", "b"], "weight": [2.0, 1.0], "tag:wieght": [1, 2], "hills": [True, False]}),
    )
    assert [loc.weight for loc in s.localities or ()] == [2.0, 1.0]
    assert (s.localities or ())[0].tags == {"wieght": 1, "hills": True}


def test_rows_as_dicts_are_accepted_and_other_things_refused_clearly() -> None:
    s = Scenario.from_frames(_lines().to_dict("records"))
    assert len(s.lines) == 2
    with pytest.raises(ScenarioError) as err:
        Scenario.from_frames(42)  # type: ignore[arg-type]
    assert err.value.errors[0]["loc"] == ("lines",)
    assert "expected a pandas DataFrame (or a list of row dicts), got int" in str(err.value)


def test_a_vietnamese_thousands_dot_gets_the_same_hint_as_a_comma() -> None:
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict({"name": "x", "lines": _lines(allocated=["9.900", "9,900"]).to_dict("records")})
    messages = [e["msg"] for e in err.value.errors]
    assert any("9.900 meaning 9900" in m and "without thousands separators" in m for m in messages)
    with pytest.raises(ScenarioError) as err:  # a real fraction of a unit gets no such hint
        Scenario.from_dict({"name": "x", "lines": _lines(allocated=["9.5", "50"]).to_dict("records")})
    assert "thousands" not in str(err.value)


def test_to_frames_round_trips_and_pandas_can_compute_with_it() -> None:
    import reallocate

    for scenario in (
        reallocate.datasets.quang_nam_2023(),
        Scenario.from_dict(
            {
                "name": "cents",
                "precision": "0.01",
                "localities": [
                    {"id": "a", "weight": 2.0, "tags": {"hills": True}, "max_loss": {"share": 0.3}},
                    {"id": "b", "name": "Bee"},
                ],
                "lines": [
                    {"locality": "a", "program": "p", "fund": "f", "allocated": "100.05", "capacity": "40.01"},
                    {
                        "locality": "b",
                        "program": "p",
                        "fund": "f",
                        "allocated": "50.10",
                        "capacity": "90.33",
                        "ceiling": "95",
                    },
                ],
                "transfer_costs": [{"from": "a", "to": "b", "cost": 1.5}],
            }
        ),
    ):
        frames = scenario.to_frames()
        assert Scenario.from_frames(**frames) == scenario
    qn = reallocate.datasets.quang_nam_2023().to_frames()["lines"]
    assert qn["allocated"].dtype == "int64" and qn["allocated"].sum() == 2_489_000
    assert qn.groupby("program", observed=True)["capacity"].sum().sum() == qn["capacity"].sum()
