"""Independent solver paths: the plan's later stages re-solved with networkx and scipy.

Nothing here calls reallocate's internals: surplus, room, pools and costs are recomputed from the
raw scenario dict, and the reference optimisation problems are written out directly (networkx
min-cost flow, scipy.optimize.milp). Amounts are handled in whole units of ``precision`` and
transfer costs are multiples of 1/2, so every reference optimum is an exact integer.
"""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

import reallocate

# Shrinking is off unless REALLOCATE_TEST_SHRINK=1 (each step is a solve; see test_properties.py).
_PHASES = tuple(Phase) if os.environ.get("REALLOCATE_TEST_SHRINK") else tuple(p for p in Phase if p is not Phase.shrink)
SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    "report_multiple_bugs": False,
    "phases": _PHASES,
}
PRECISIONS = (Decimal(1), Decimal("0.01"), Decimal(1000))
COSTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5)  # multiples of 1/2: cost * 2 is a whole number
COST_DENOMINATOR = 2


# ------------------------------------------------------------------------------------ instances
@st.composite
def small_scenarios(
    draw: st.DrawFn,
    *,
    max_pools: int = 2,
    max_lines: int = 6,
    top: int = 40,
    costs: bool = True,
    min_transfer: bool = False,
    rules: str | None = None,
) -> dict[str, Any]:
    """A small valid scenario dict: lines are donors (capacity below allocated), recipients or
    idle, 2..max_lines lines in each of 1..max_pools pools (program x fund)."""
    precision = draw(st.sampled_from(PRECISIONS))
    n_loc = draw(st.integers(2, 5))
    locs = [f"D{k}" for k in range(n_loc)]
    pool_keys = [("P1", "investment"), ("P1", "recurrent"), ("P2", "investment")]
    pools = draw(st.lists(st.sampled_from(pool_keys), min_size=1, max_size=max_pools, unique=True))
    lines = []
    for program, fund in pools:
        members = draw(st.lists(st.sampled_from(locs), min_size=2, max_size=min(n_loc, max_lines), unique=True))
        for pos, loc in enumerate(members):
            allocated = draw(st.integers(0, top))
            # the first two lines of a pool lean to donor and recipient, so most pools move money
            role = ("donor", "recipient")[pos] if pos < 2 else draw(st.sampled_from(["donor", "recipient", "any"]))
            if role == "donor" and allocated > 0:
                capacity = draw(st.integers(0, allocated - 1))
            elif role == "recipient":
                capacity = draw(st.integers(allocated + 1, allocated + 1 + top))
            else:
                capacity = draw(st.integers(0, 2 * top))
            line: dict[str, Any] = {
                "locality": loc,
                "program": program,
                "fund": fund,
                "allocated": Decimal(allocated) * precision,
                "capacity": Decimal(capacity) * precision,
            }
            if draw(st.integers(0, 3)) == 0:
                line["floor"] = Decimal(draw(st.integers(0, allocated))) * precision
            if draw(st.integers(0, 3)) == 0:
                line["ceiling"] = Decimal(draw(st.integers(allocated, allocated + top))) * precision
            lines.append(line)
    data: dict[str, Any] = {"name": "small", "unit": "million VND", "precision": precision, "lines": lines}
    share = rules or draw(st.sampled_from(["proportional", "priority"]))
    data["rules"] = {"recipients": share, "donors": share}
    if share == "priority":
        data["localities"] = [{"id": loc, "weight": draw(st.sampled_from([1.0, 2.0, 3.0]))} for loc in locs]
    if costs:
        used = sorted({ln["locality"] for ln in lines}) if "localities" not in data else locs
        data["transfer_costs"] = [
            {"from": a, "to": b, "cost": draw(st.sampled_from(COSTS))}
            for a in used
            for b in used
            if a != b and draw(st.booleans())
        ]
    if min_transfer:
        data["rules"]["min_transfer"] = Decimal(draw(st.integers(1, max(1, top // 3)))) * precision
    return data


def _units(value: Decimal, precision: Decimal) -> int:
    q = value / precision
    assert q == q.to_integral_value(), (value, precision)
    return int(q)


def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per line, in whole units: pool, locality, surplus and room (from the raw fields)."""
    prec = Decimal(data["precision"])
    out = []
    for ln in data["lines"]:
        a, c = _units(Decimal(ln["allocated"]), prec), _units(Decimal(ln["capacity"]), prec)
        disbursed = _units(Decimal(ln.get("disbursed", 0)), prec)
        floor = _units(Decimal(ln["floor"]), prec) if ln.get("floor") is not None else disbursed
        hold = c if ln.get("ceiling") is None else min(c, _units(Decimal(ln["ceiling"]), prec))
        out.append(
            {
                "pool": (ln["program"], ln["fund"]),
                "locality": ln["locality"],
                "surplus": max(a - max(c, floor), 0),
                "room": max(hold - a, 0),
            }
        )
    return out


def _scaled_costs(data: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Cost per unit of money between localities, times COST_DENOMINATOR (a whole number)."""
    out = {}
    for tc in data.get("transfer_costs") or []:
        doubled = tc["cost"] * COST_DENOMINATOR
        assert doubled == int(doubled)
        out[(tc["from"], tc["to"])] = int(doubled)
    return out


def _pairs(facts: list[dict[str, Any]], give: list[int] | None = None, get: list[int] | None = None):
    """(donor, recipient) line pairs inside a pool; by default every line with surplus x every
    line with room, else only lines that actually give / get in the plan."""
    donors = [i for i, f in enumerate(facts) if (f["surplus"] > 0 if give is None else give[i] > 0)]
    recips = [j for j, f in enumerate(facts) if (f["room"] > 0 if get is None else get[j] > 0)]
    return [(i, j) for i in donors for j in recips if facts[i]["pool"] == facts[j]["pool"]]


def _solve(data: dict[str, Any], solver: str = "highs") -> reallocate.Plan:
    plan = reallocate.solve(reallocate.Scenario.from_dict(data), solver=solver)
    assert plan.status == "optimal", plan.message
    return plan


def _margins(plan: reallocate.Plan, precision: Decimal) -> tuple[list[int], list[int]]:
    """Units each line gives and gets in the plan (from its change column)."""
    change = [_units(c, precision) for c in plan.exact_lines()["change"]]
    return [max(-c, 0) for c in change], [max(c, 0) for c in change]


def _milp(c, constraints, lower, upper, integrality):  # type: ignore[no-untyped-def]
    res = milp(
        c,
        constraints=constraints,
        bounds=Bounds(lower, upper),
        integrality=integrality,
        options={"mip_rel_gap": 0.0},
    )
    assert res.success, res.message
    return res


# ----------------------------------------------------------------------- (a) least transfer cost
@settings(max_examples=60, **SETTINGS)
@given(data=small_scenarios(max_lines=6, top=10**4))
def test_transfer_cost_is_the_min_cost_flow_of_the_plans_margins(data: dict[str, Any]) -> None:
    _check_min_cost(data)


def _check_min_cost(data: dict[str, Any], solver: str = "highs") -> None:
    """The share stage fixes what each line gives and gets; the cost stage must then reach the
    optimum of the transportation problem with those margins (networkx network simplex)."""
    plan = _solve(data, solver)
    prec = Decimal(data["precision"])
    facts = _lines(data)
    give, get = _margins(plan, prec)
    cost = _scaled_costs(data)

    graph = nx.DiGraph()
    for i in range(len(facts)):
        if give[i] or get[i]:
            graph.add_node(i, demand=get[i] - give[i])
    for i, j in _pairs(facts, give, get):
        graph.add_edge(i, j, weight=cost.get((facts[i]["locality"], facts[j]["locality"]), 0))
    best = nx.network_simplex(graph)[0] if graph.number_of_nodes() else 0

    assert plan.summary.transfer_cost == Decimal(best) * prec / COST_DENOMINATOR
    # and the plan's own transfers realise those margins at that cost
    spent = sum(
        (
            t.amount * cost.get((t.from_locality, t.to_locality), 0) / COST_DENOMINATOR
            for t in plan.exact_transfers().itertuples()
        ),
        Decimal(0),
    )
    assert spent == plan.summary.transfer_cost


# ----------------------------------------------------------------- (b) absorbable with min_transfer
def _max_gain_with_min_transfer(facts: list[dict[str, Any]], m: int) -> int:
    """max sum x_ij  s.t.  m*y_ij <= x_ij <= U_ij*y_ij, y binary, donor outflow <= surplus,
    recipient inflow <= room; pairs only inside a pool."""
    pairs = _pairs(facts)
    k = len(pairs)
    if k == 0:
        return 0
    upper_pair = [min(facts[i]["surplus"], facts[j]["room"]) for i, j in pairs]
    n_lines = len(facts)
    a = lil_matrix((2 * k + n_lines, 2 * k))
    lo, hi = [], []
    for p, u in enumerate(upper_pair):
        a[p, p], a[p, k + p] = 1, -u  # x - U y <= 0
        lo.append(-np.inf)
        hi.append(0)
    for p in range(k):
        a[k + p, p], a[k + p, k + p] = 1, -m  # x - m y >= 0
        lo.append(0)
        hi.append(np.inf)
    for p, (i, j) in enumerate(pairs):
        a[2 * k + i, p] = 1  # outflow of donor i
        a[2 * k + j, p] = 1  # inflow of recipient j
    for f in facts:
        lo.append(-np.inf)
        hi.append(f["surplus"] + f["room"])  # a line is a donor or a recipient, never both
    res = _milp(
        c=np.concatenate([-np.ones(k), np.zeros(k)]),
        constraints=[LinearConstraint(a.tocsr(), lo, hi)],
        lower=np.zeros(2 * k),
        upper=np.concatenate([np.array(upper_pair, dtype=float), np.ones(k)]),
        integrality=np.ones(2 * k),
    )
    return round(-res.fun)


@settings(max_examples=50, **SETTINGS)
@given(data=small_scenarios(max_lines=5, top=40, costs=False, min_transfer=True))
def test_absorbable_gain_with_min_transfer_matches_milp(data: dict[str, Any]) -> None:
    _check_min_transfer_gain(data)


def _check_min_transfer_gain(data: dict[str, Any], solver: str = "highs") -> None:
    plan = _solve(data, solver)
    prec = Decimal(data["precision"])
    m = _units(Decimal(data["rules"]["min_transfer"]), prec)
    best = _max_gain_with_min_transfer(_lines(data), m)
    assert plan.summary.absorbable_after - plan.summary.absorbable_before == best * prec
    assert all(t.amount >= data["rules"]["min_transfer"] for t in plan.exact_transfers().itertuples())


# -------------------------------------------------------------------------- (c) fewest transfers
def _fewest_transfers(facts: list[dict[str, Any]], give: list[int], get: list[int], cost, budget: int) -> int:  # type: ignore[no-untyped-def]
    """min sum y_ij  s.t.  sum_j x_ij = give_i, sum_i x_ij = get_j, x_ij <= U_ij y_ij,
    sum cost_ij x_ij <= budget (all in whole units, costs times COST_DENOMINATOR)."""
    pairs = _pairs(facts, give, get)
    k = len(pairs)
    if k == 0:
        return 0
    n_lines = len(facts)
    upper_pair = [min(give[i], get[j]) for i, j in pairs]
    a = lil_matrix((n_lines + k + 1, 2 * k))
    lo: list[float] = []
    hi: list[float] = []
    for p, (i, j) in enumerate(pairs):
        a[i, p] = 1
        a[j, p] = 1
    for i in range(n_lines):
        lo.append(give[i] + get[i])
        hi.append(give[i] + get[i])
    for p, u in enumerate(upper_pair):
        a[n_lines + p, p], a[n_lines + p, k + p] = 1, -u
        lo.append(-np.inf)
        hi.append(0)
    for p, (i, j) in enumerate(pairs):
        a[n_lines + k, p] = cost.get((facts[i]["locality"], facts[j]["locality"]), 0)
    lo.append(-np.inf)
    hi.append(budget)
    res = _milp(
        c=np.concatenate([np.zeros(k), np.ones(k)]),
        constraints=[LinearConstraint(a.tocsr(), lo, hi)],
        lower=np.zeros(2 * k),
        upper=np.concatenate([np.array(upper_pair, dtype=float), np.ones(k)]),
        integrality=np.ones(2 * k),
    )
    return round(res.fun)


@settings(max_examples=40, **SETTINGS)
@given(data=small_scenarios(max_pools=2, max_lines=4, top=12))
def test_fewest_transfers_among_least_cost_plans_matches_milp(data: dict[str, Any]) -> None:
    _check_fewest_transfers(data)


def _check_fewest_transfers(data: dict[str, Any], solver: str = "highs") -> None:
    plan = _solve(data, solver)
    prec = Decimal(data["precision"])
    give, get = _margins(plan, prec)
    budget = plan.summary.transfer_cost * COST_DENOMINATOR / prec
    assert budget == budget.to_integral_value()
    best = _fewest_transfers(_lines(data), give, get, _scaled_costs(data), int(budget))
    assert plan.summary.transfer_count == best


# -------------------------------------------------------------------- (d) published optima
def _transportation(name: str, supply: dict[str, int], demand: dict[str, int], cost: dict[tuple[str, str], int]):  # type: ignore[no-untyped-def]
    """A classic transportation problem as one pool: sources are donor lines (allocated = supply,
    capacity 0), destinations are recipient lines (allocated 0, capacity = demand)."""
    lines = [
        {"locality": s, "program": "shipping", "fund": "goods", "allocated": q, "capacity": 0}
        for s, q in supply.items()
    ] + [
        {"locality": d, "program": "shipping", "fund": "goods", "allocated": 0, "capacity": q}
        for d, q in demand.items()
    ]
    return {
        "name": name,
        "unit": "unit",
        "precision": 1,
        "lines": lines,
        "transfer_costs": [{"from": s, "to": d, "cost": c} for (s, d), c in cost.items()],
    }


def _check_published(data: dict[str, Any], supply: dict[str, int], demand: dict[str, int], optimum: int) -> None:
    plans = {solver: _solve(data, solver) for solver in ("highs", "cbc")}
    for plan in plans.values():
        plan.verify()
        assert plan.summary.transfer_cost == optimum
        assert plan.summary.moved == sum(supply.values())
        shipped: dict[str, Decimal] = defaultdict(Decimal)
        received: dict[str, Decimal] = defaultdict(Decimal)
        for t in plan.exact_transfers().itertuples():
            shipped[t.from_locality] += t.amount
            received[t.to_locality] += t.amount
        assert shipped == supply
        assert received == demand
    highs, cbc = plans["highs"], plans["cbc"]
    assert highs.summary == cbc.summary
    assert highs.lines.equals(cbc.lines)
    assert highs.transfers.equals(cbc.transfers)


def test_hillier_lieberman_p_and_t_company() -> None:
    """Hillier & Lieberman, "Introduction to Operations Research" (McGraw-Hill; 7th ed. 2001 sec. 8.1,
    also later editions, ch. "The Transportation and Assignment Problems"): the P&T Company ships
    canned peas from 3 canneries (75, 125, 100 truckloads) to 4 warehouses (80, 65, 70, 85) at the
    tabulated cost per truckload; the optimal shipping cost is $152,535."""
    supply = {"Bellingham": 75, "Eugene": 125, "Albert Lea": 100}
    demand = {"Sacramento": 80, "Salt Lake City": 65, "Rapid City": 70, "Albuquerque": 85}
    table = [[464, 513, 654, 867], [352, 416, 690, 791], [995, 682, 388, 685]]
    cost = {(s, d): table[a][b] for a, s in enumerate(supply) for b, d in enumerate(demand)}
    _check_published(_transportation("P&T Company", supply, demand, cost), supply, demand, 152_535)


def test_taha_mg_auto() -> None:
    """Taha, "Operations Research: An Introduction" (Pearson; 8th ed. 2007 example 5.1-1, the
    MG Auto Company): cars from plants in Los Angeles (1000), Detroit (1500) and New Orleans (1200)
    to distribution centers in Denver (2300) and Miami (1400), cost per car LA 80/215,
    Detroit 100/108, New Orleans 102/68; the optimal cost is $313,200."""
    supply = {"Los Angeles": 1000, "Detroit": 1500, "New Orleans": 1200}
    demand = {"Denver": 2300, "Miami": 1400}
    table = {"Los Angeles": (80, 215), "Detroit": (100, 108), "New Orleans": (102, 68)}
    cost = {(s, d): table[s][b] for s in supply for b, d in enumerate(demand)}
    _check_published(_transportation("MG Auto", supply, demand, cost), supply, demand, 313_200)


@pytest.mark.parametrize(
    ("supply", "demand", "table", "optimum"),
    [
        (
            {"Bellingham": 75, "Eugene": 125, "Albert Lea": 100},
            {"Sacramento": 80, "Salt Lake City": 65, "Rapid City": 70, "Albuquerque": 85},
            [[464, 513, 654, 867], [352, 416, 690, 791], [995, 682, 388, 685]],
            152_535,
        ),
        (
            {"Los Angeles": 1000, "Detroit": 1500, "New Orleans": 1200},
            {"Denver": 2300, "Miami": 1400},
            [[80, 215], [100, 108], [102, 68]],
            313_200,
        ),
    ],
)
def test_published_optima_agree_with_network_simplex(supply, demand, table, optimum) -> None:  # type: ignore[no-untyped-def]
    """The cited optima are also what networkx finds: the published numbers and our reference
    solver back each other up."""
    graph = nx.DiGraph()
    for s, q in supply.items():
        graph.add_node(s, demand=-q)
    for d, q in demand.items():
        graph.add_node(d, demand=q)
    for a, s in enumerate(supply):
        for b, d in enumerate(demand):
            graph.add_edge(s, d, weight=table[a][b])
    flow_cost = nx.network_simplex(graph)[0]
    assert flow_cost == optimum


# ------------------------------------------------------------------------ fixed cases, by hand
def _one_pool(lines: list[tuple[str, int, int]], **extra: Any) -> dict[str, Any]:
    """Precision 1, one pool, lines as (locality, allocated, capacity)."""
    return {
        "name": "hand",
        "precision": 1,
        "lines": [{"locality": k, "program": "P", "fund": "F", "allocated": a, "capacity": c} for k, a, c in lines],
        **extra,
    }


# One donor (surplus 2) and one recipient (room 1) with a cost: the plan moves 1 at cost 4.5.
TWO_LINES_WITH_COST = _one_pool([("A", 2, 0), ("B", 0, 1)], transfer_costs=[{"from": "A", "to": "B", "cost": 4.5}])


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_two_lines_with_cost(solver: str) -> None:
    _check_min_cost(TWO_LINES_WITH_COST, solver)
    _check_fewest_transfers(TWO_LINES_WITH_COST, solver)
    plan = _solve(TWO_LINES_WITH_COST, solver)
    assert plan.summary.transfer_cost == Decimal("4.5")
    assert plan.summary.transfer_count == 1


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_min_transfer_forgoes_a_small_room(solver: str) -> None:
    """Surplus 10 and rooms 6 and 4 with min_transfer 5: only the room of 6 can be served (a
    transfer of 4 is too small, and 5 + 5 would overfill the room of 4), so the gain is 6."""
    data = _one_pool([("A", 10, 0), ("B", 0, 6), ("C", 0, 4)], rules={"min_transfer": 5})
    assert _max_gain_with_min_transfer(_lines(data), 5) == 6
    _check_min_transfer_gain(data, solver)
    plan = _solve(data, solver)
    assert plan.summary.absorbable_after - plan.summary.absorbable_before == 6


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_fewest_transfers_pairs_equal_amounts(solver: str) -> None:
    """Donors 5 and 3, recipients 3 and 5, all costs equal: two transfers (5->5, 3->3) are the
    fewest; a greedy largest-first match would use three."""
    data = _one_pool(
        [("A", 5, 0), ("B", 3, 0), ("C", 0, 3), ("D", 0, 5)],
        transfer_costs=[{"from": a, "to": b, "cost": 1.0} for a in "AB" for b in "CD"],
    )
    _check_fewest_transfers(data, solver)
    assert _solve(data, solver).summary.transfer_count == 2
