"""Why the plan is what it is: a reason for every line, shadow prices, the lapse that remains and
why, the gap to 100% — and, when no plan exists, what it would take.

Everything here is derived from the scenario, the exact plan (whole units) and, for shadow prices,
the row duals of one extra LP: the absorb stage per line, as a maximisation (see
:meth:`Formulation.explain_program`). A column's reduced cost ``c - A^T y`` is the money one more
unit of its bound would absorb; a line that has no column yet is priced the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .formulation import Formulation, Program
from .plan import records
from .scenario import LINE_KEYS, Scenario

__all__ = ["REASONS", "Explanation", "diagnose", "explain_plan"]

#: Every reason code a line can get, with what it means.
REASONS = {
    "received_all_room": "received its whole room",
    "received_share": "received a share of its room: its pool ran out of surplus",
    "gave_all_surplus": "gave all its surplus",
    "kept_surplus": "kept part of its surplus: its pool ran out of room",
    "no_room_in_pool": "has surplus, but no line of its pool has room",
    "no_surplus_in_pool": "has room, but no line of its pool has surplus",
    "held_by_locality_limit": "held back by its locality's max_loss / max_gain",
    "held_by_min_transfer": "held back by min_transfer",
    "held_by_max_transfers": "held back by max_transfers_per_line",
    "held_by_rules": "held back by the rules of its pool (limits or priorities elsewhere)",
    "held_by_floor": "must keep its floor (signed contracts) above what it can disburse",
    "held_by_ceiling": "at its ceiling: it could disburse more",
    "frozen": "frozen: neither gives nor receives",
    "give_only": "give_only: has room but never receives",
    "receive_only": "receive_only: has surplus but never gives",
    "balanced": "holds what it can disburse: nothing to give or receive",
}


@dataclass
class Explanation:
    """The explanation of a plan (``plan.explain``); every table is a pandas DataFrame.

    * ``lines``: per line, ``reason`` (a code of :data:`REASONS`) and ``text`` (a sentence);
    * ``shadow_prices``: per line, money absorbed by one more unit of ``capacity`` and of
      ``allocation``, ``up_to`` how many units that holds, and ``saving`` = value x up_to;
      ``ranked`` is the same, sorted: where ready projects would save the most money;
    * ``pools``: per pool, value of one more unit of room and of surplus;
    * ``lapse``: money that still lapses, by pool and locality, split into ``no_room`` (no room
      anywhere in its pool) and ``blocked`` (held by a rule, named in ``blocked_by``);
    * ``gap``: the gap to 100% — amount, share, split, where it sits, and a headline;
    * ``diagnosis``: only when no plan exists — per target the missing amount, what it would take,
      the closest lines; and the smallest set of conflicting rules.
    """

    lines: pd.DataFrame
    shadow_prices: pd.DataFrame
    pools: pd.DataFrame
    lapse: pd.DataFrame
    gap: dict[str, Any]
    diagnosis: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> pd.DataFrame:
        """Lines where one more unit of capacity saves money, most money first."""
        sp = self.shadow_prices
        if sp.empty:
            return sp
        keep = sp[sp["saving"] > 0]
        return keep.sort_values(["saving", "capacity_value"], ascending=False, kind="stable")

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": records(self.lines),
            "shadow_prices": records(self.ranked),
            "pools": records(self.pools),
            "lapse": records(self.lapse),
            "gap": self.gap,
            "diagnosis": self.diagnosis,
            "notes": self.notes,
        }


# ------------------------------------------------------------------------------------ helpers
def _pool_label(key: tuple[str, ...]) -> str:
    return " / ".join(k for k in key if k) or "(all lines)"


def _line_label(scenario: Scenario, i: int) -> str:
    loc, program, fund, component = scenario.table.keys[i]
    names = scenario.locality_labels()
    return f"{names.get(loc, loc)} ({'/'.join(x for x in (program, fund, component) if x)})"


class _Facts:
    """Per-line and per-pool quantities in whole units, shared by every part of the explanation."""

    def __init__(self, scenario: Scenario, form: Formulation, change: np.ndarray) -> None:
        t = scenario.table
        self.scenario, self.form, self.t = scenario, form, t
        self.change = change
        self.given = np.maximum(-change, 0)
        self.received = np.maximum(change, 0)
        self.final = t.allocated + change
        self.lapse_after = np.maximum(self.final - t.capacity, 0)
        n_pools = len(t.pool_keys)
        self.S = np.bincount(t.pool, weights=form.can_give, minlength=n_pools).astype(np.int64)
        self.R = np.bincount(t.pool, weights=form.can_receive, minlength=n_pools).astype(np.int64)
        self.moved = np.bincount(t.pool, weights=self.received, minlength=n_pools).astype(np.int64)
        self.net = np.bincount(t.locality, weights=change, minlength=len(t.locality_ids)).astype(np.int64)
        self.tight: dict[tuple[str, int], int] = {}
        for kind, loc, units in form.limits:
            moved = -self.net[loc] if kind == "max_loss" else self.net[loc]
            if moved >= units:
                self.tight[(kind, loc)] = units

    def amount(self, units: int | np.integer[Any]) -> str:
        from .report import amount_text

        return amount_text(self.scenario.to_amount(int(units)))


# ------------------------------------------------------------------------------------ reasons
def _reasons(f: _Facts) -> pd.DataFrame:
    sc, t = f.scenario, f.t
    rules = sc.rules
    floor, cap, alloc = t.floor, t.capacity, t.allocated
    codes, texts = [], []
    share_word = {"proportional": "a pro-rata share", "priority": "a share by priority weight"}
    for i in range(t.size):
        p, loc = int(t.pool[i]), int(t.locality[i])
        g, r = int(f.given[i]), int(f.received[i])
        surplus, room = int(t.surplus[i]), int(t.room[i])
        if t.frozen[i]:
            code, text = "frozen", "frozen: neither gives nor receives"
        elif surplus > 0:
            if t.receive_only[i]:
                code, text = "receive_only", f"has surplus {f.amount(surplus)} but is receive_only: it lapses"
            elif g == surplus:
                code = "gave_all_surplus"
                text = f"gave all its surplus {f.amount(surplus)}"
                if floor[i] > cap[i]:
                    text += f"; keeps its floor {f.amount(floor[i])}, above its capacity {f.amount(cap[i])}"
            elif f.R[p] == 0:
                code, text = "no_room_in_pool", f"has surplus {f.amount(surplus)}, but no line of its pool has room"
            elif f.moved[p] >= f.R[p]:
                code = "kept_surplus"
                text = (
                    f"gave {f.amount(g)} of its surplus {f.amount(surplus)} ({g / surplus:.0%}): "
                    f"its pool ran out of room ({share_word[rules.donors]} of the pool's room)"
                )
            else:
                code, text = _held(f, i, loc, "max_loss", f"gave {f.amount(g)} of its surplus {f.amount(surplus)}")
        elif room > 0:
            ceiling_note = ""
            ceiling = sc.lines[i].ceiling
            if ceiling is not None and ceiling < sc.lines[i].capacity:
                ceiling_note = f" (its ceiling {ceiling} caps it below its capacity)"
            if t.give_only[i]:
                code, text = "give_only", f"could absorb {f.amount(room)} more but is give_only"
            elif r == room:
                code, text = "received_all_room", f"received its whole room {f.amount(room)}{ceiling_note}"
            elif f.S[p] == 0:
                code, text = (
                    "no_surplus_in_pool",
                    f"could absorb {f.amount(room)} more, but no line of its pool has surplus",
                )
            elif f.moved[p] >= f.S[p]:
                code = "received_share"
                text = (
                    f"received {f.amount(r)} of its room {f.amount(room)} ({r / room:.0%}): its pool ran out of "
                    f"surplus ({share_word[rules.recipients]})"
                )
            else:
                code, text = _held(f, i, loc, "max_gain", f"received {f.amount(r)} of its room {f.amount(room)}")
        elif alloc[i] > cap[i]:
            code = "held_by_floor"
            text = (
                f"must keep its floor {f.amount(floor[i])} (signed contracts) but can disburse only {f.amount(cap[i])}"
            )
        elif sc.lines[i].ceiling is not None and cap[i] > alloc[i]:
            code = "held_by_ceiling"
            text = f"at its ceiling {f.amount(alloc[i])}: it could disburse {f.amount(cap[i] - alloc[i])} more"
        else:
            code, text = "balanced", "holds what it can disburse: nothing to give or receive"
        codes.append(code)
        texts.append(text)
    frame = pd.DataFrame({k: [key[j] for key in t.keys] for j, k in enumerate(LINE_KEYS)})
    frame["reason"] = codes
    frame["text"] = texts
    frame.index.name = "line"
    return frame


def _held(f: _Facts, i: int, loc: int, limit: str, done: str) -> tuple[str, str]:
    """Why a line that could move more did not: the rule that holds it back."""
    rules = f.scenario.rules
    t = f.t
    if (limit, loc) in f.tight:
        name = f.scenario.table.locality_ids[loc]
        return "held_by_locality_limit", f"{done}: {name}'s {limit} ({f.amount(f.tight[(limit, loc)])}) is reached"
    if rules.min_transfer > 0:
        return "held_by_min_transfer", f"{done}: a transfer must be at least {rules.min_transfer}"
    if rules.max_transfers_per_line is not None:
        return "held_by_max_transfers", f"{done}: at most {rules.max_transfers_per_line} transfers per line"
    blockers = sorted({t.locality_ids[k[1]] for k in f.tight})
    why = f"locality limits elsewhere ({', '.join(blockers)})" if blockers else "the rules of its pool"
    return "held_by_rules", f"{done}: held back by {why}"


# ------------------------------------------------------------------------------------ prices
def _prices(f: _Facts, program: Program | None, duals: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    sc, t, form = f.scenario, f.t, f.form
    n_pools = len(t.pool_keys)
    # value of one more unit of surplus injected into each pool (the pool row's dual)
    pool_dual = np.where((f.S == 0) & (f.R > 0), 1.0, 0.0)
    limit_dual: dict[tuple[str, int], float] = {}
    target_dual: dict[int, float] = {}
    if program is not None and duals is not None:
        for kind, start, n, payload in program.row_groups:
            if kind == "pool":
                pool_dual[form.pool_index] = duals[start : start + n]
            elif kind in ("max_loss", "max_gain"):
                limit_dual[(kind, int(payload))] = float(duals[start])  # type: ignore[call-overload]
            elif kind == "target":
                target_dual[int(payload)] = float(duals[start])  # type: ignore[call-overload]
    covering: list[list[int]] = [[] for _ in range(t.size)]
    for k, covered, _ in form.goals:
        for i in covered.tolist():
            covering[i].append(k)

    def value_of_room(i: int) -> float:
        p, loc = int(t.pool[i]), int(t.locality[i])
        if f.S[p] == 0:
            return 0.0
        rc = 1.0 - pool_dual[p] - limit_dual.get(("max_gain", loc), 0.0) + limit_dual.get(("max_loss", loc), 0.0)
        rc -= sum(target_dual.get(k, 0.0) for k in covering[i])
        return max(0.0, rc)

    def value_of_surplus(i: int) -> float:
        p, loc = int(t.pool[i]), int(t.locality[i])
        if f.R[p] == 0:
            return 0.0
        rc = pool_dual[p] - limit_dual.get(("max_loss", loc), 0.0) + limit_dual.get(("max_gain", loc), 0.0)
        return max(0.0, rc)

    rows = []
    unmoved = f.S - f.moved
    for i in range(t.size):
        alloc, cap, floor = int(t.allocated[i]), int(t.capacity[i]), int(t.floor[i])
        ceiling = sc.lines[i].ceiling
        can_receive = not (t.frozen[i] or t.give_only[i]) and (ceiling is None or sc.to_amount(cap) < ceiling)
        can_give = not (t.frozen[i] or t.receive_only[i])
        target_relief = -sum(target_dual.get(k, 0.0) for k in covering[i])
        p = int(t.pool[i])
        if alloc > cap:  # lapsing: more capacity absorbs its own lapse; it also has less surplus
            capacity_value = 1.0 + target_relief
            if can_give and cap >= floor:
                capacity_value -= value_of_surplus(i)
            up_to = int(f.lapse_after[i]) if f.lapse_after[i] > 0 else int(t.surplus[i])
            allocation_value = value_of_surplus(i) if can_give else 0.0
        else:  # room (or balanced): more capacity is more room
            capacity_value = value_of_room(i) if can_receive else 0.0
            up_to = int(unmoved[p])
            allocation_value = 1.0 - (value_of_room(i) if t.room[i] > 0 and can_receive else 0.0)
        capacity_value = round(max(capacity_value, 0.0), 9)
        rows.append((float(capacity_value), round(float(allocation_value), 9), up_to))
    frame = pd.DataFrame({k: [key[j] for key in t.keys] for j, k in enumerate(LINE_KEYS)})
    frame["capacity_value"] = [r[0] for r in rows]
    frame["allocation_value"] = [r[1] for r in rows]
    up_to_amounts: list[Any] = [sc.to_amount(r[2]) for r in rows]
    saving: list[Any] = [Decimal(repr(float(r[0]))) * sc.to_amount(r[2]) if r[0] > 0 else Decimal(0) for r in rows]
    frame["up_to"] = up_to_amounts
    frame["saving"] = saving
    frame.index.name = "line"
    pools = pd.DataFrame(
        {
            "pool": [_pool_label(k) for k in t.pool_keys],
            "room_value": [0.0 if f.S[p] == 0 else round(max(0.0, 1.0 - pool_dual[p]), 9) for p in range(n_pools)],
            "surplus_value": [0.0 if f.R[p] == 0 else round(max(0.0, float(pool_dual[p])), 9) for p in range(n_pools)],
            "surplus": [sc.to_amount(int(v)) for v in f.S],
            "room": [sc.to_amount(int(v)) for v in f.R],
            "moved": [sc.to_amount(int(v)) for v in f.moved],
        }
    )
    return frame, pools


# ------------------------------------------------------------------------------------ lapse
def _lapse(f: _Facts) -> tuple[pd.DataFrame, dict[str, Any]]:
    sc, t = f.scenario, f.t
    rules = sc.rules
    room_left = f.R - f.moved  # room still unused in each pool
    by: dict[tuple[int, int], list[Any]] = {}
    for i in np.flatnonzero(f.lapse_after > 0).tolist():
        p, loc = int(t.pool[i]), int(t.locality[i])
        lapse = int(f.lapse_after[i])
        locked = max(0, min(int(f.final[i]), int(t.floor[i])) - int(t.capacity[i]))
        unmoved = lapse - locked
        no_room = blocked = 0
        why: set[str] = set()
        if locked:
            blocked += locked
            why.add("floor")
        if unmoved:
            if t.frozen[i] or t.receive_only[i]:
                blocked += unmoved
                why.add("frozen" if t.frozen[i] else "receive_only")
            elif room_left[p] <= 0:
                no_room += unmoved
            else:
                blocked += unmoved
                if ("max_loss", loc) in f.tight:
                    why.add(f"max_loss of {t.locality_ids[loc]}")
                gain_tight = sorted({t.locality_ids[k[1]] for k in f.tight if k[0] == "max_gain"})
                why.update(f"max_gain of {name}" for name in gain_tight)
                if rules.min_transfer > 0:
                    why.add("min_transfer")
                if rules.max_transfers_per_line is not None:
                    why.add("max_transfers_per_line")
                if not why:
                    why.add("rules")
        entry = by.setdefault((p, loc), [0, 0, 0, set()])
        entry[0] += lapse
        entry[1] += no_room
        entry[2] += blocked
        entry[3] |= why
    labels = sc.locality_labels()
    keys = sorted(by, key=lambda k: (-by[k][0], k))
    frame = pd.DataFrame(
        {
            "pool": [_pool_label(t.pool_keys[p]) for p, _ in keys],
            "locality": [t.locality_ids[loc] for _, loc in keys],
            "name": [labels[t.locality_ids[loc]] for _, loc in keys],
            "lapse": [sc.to_amount(by[k][0]) for k in keys],
            "no_room": [sc.to_amount(by[k][1]) for k in keys],
            "blocked": [sc.to_amount(by[k][2]) for k in keys],
            "blocked_by": [", ".join(sorted(by[k][3])) for k in keys],
        },
        columns=["pool", "locality", "name", "lapse", "no_room", "blocked", "blocked_by"],
    )
    total = int(f.lapse_after.sum())
    allocated = int(t.allocated.sum())
    pool_lapse = np.bincount(t.pool, weights=f.lapse_after, minlength=len(t.pool_keys))
    loc_lapse = np.bincount(t.locality, weights=f.lapse_after, minlength=len(t.locality_ids))
    no_room_total = sum(v[1] for v in by.values())
    blocked_total = sum(v[2] for v in by.values())
    gap: dict[str, Any] = {
        "amount": sc.to_amount(total),
        "share": total / allocated if allocated else 0.0,
        "no_room": sc.to_amount(no_room_total),
        "blocked": sc.to_amount(blocked_total),
    }
    if total:
        top_pool = int(np.argmax(pool_lapse))
        top_loc = int(np.argmax(loc_lapse))
        gap["largest_pool"] = {
            "pool": _pool_label(t.pool_keys[top_pool]),
            "lapse": sc.to_amount(int(pool_lapse[top_pool])),
        }
        gap["largest_locality"] = {
            "locality": t.locality_ids[top_loc],
            "name": labels[t.locality_ids[top_loc]],
            "lapse": sc.to_amount(int(loc_lapse[top_loc])),
        }
        gap["text"] = (
            f"gap to 100%: {f.amount(total)} {sc.unit} ({total / allocated:.1%} of allocation) still lapses — "
            f"{f.amount(no_room_total)} has no room anywhere in its pool, {f.amount(blocked_total)} is blocked by "
            f"a rule; most in {gap['largest_pool']['pool']} ({f.amount(int(pool_lapse[top_pool]))}) and at "
            f"{labels[t.locality_ids[top_loc]]} ({f.amount(int(loc_lapse[top_loc]))})"
        )
    else:
        gap["text"] = "gap to 100%: none — every line is expected to disburse all it holds"
    return frame, gap


def explain_plan(
    scenario: Scenario, form: Formulation, change: np.ndarray, program: Program | None, duals: np.ndarray | None
) -> Explanation:
    """The explanation of a found plan (``change`` in whole units per line)."""
    f = _Facts(scenario, form, change)
    lines = _reasons(f)
    prices, pools = _prices(f, program, duals)
    lapse, gap = _lapse(f)
    notes = []
    if program is None or duals is None:
        notes.append("shadow prices from pool totals only (no dual prices were available)")
    if scenario.rules.min_transfer > 0 or scenario.rules.max_transfers_per_line is not None:
        notes.append("shadow prices ignore min_transfer and max_transfers_per_line (LP duals)")
    return Explanation(lines=lines, shadow_prices=prices, pools=pools, lapse=lapse, gap=gap, notes=notes)


# ------------------------------------------------------------------------------------ no plan
def diagnose(
    scenario: Scenario,
    form: Formulation,
    elastic: tuple[Program, np.ndarray] | None,
    conflict: tuple[list[int], list[int]] | None,
    absorb: Program,
) -> dict[str, Any]:
    """What it would take to make an infeasible scenario feasible, in the scenario's words.

    ``elastic`` is the solved elastic absorb program (targets may fall short; least total
    shortfall); ``conflict`` an irreducible infeasible subsystem of ``absorb`` (rows, columns).
    """
    t = scenario.table
    out: dict[str, Any] = {"targets": [], "conflict": []}
    if elastic is not None:
        program, x = elastic
        slack = dict(
            zip(
                program.index.get("slack", np.zeros(0, np.int64)).tolist(),
                (x[program.block("slack")] * form.scale).tolist() if program.has("slack") else [],
                strict=True,
            )
        )
        received = np.zeros(t.size)
        amounts = form.amounts(program, x)
        received[form.line] = np.where(form.is_recipient, amounts, 0.0)
        given = np.zeros(t.size)
        given[form.line] = np.where(form.is_recipient, 0.0, amounts)
        final = t.allocated + np.rint(received - given).astype(np.int64)
        lapse_after = np.maximum(final - t.capacity, 0)
        goals = {k: (covered, need) for k, covered, need in form.goals}
        for k, short_units in slack.items():
            missing = int(np.ceil(short_units - 1e-6))
            if missing <= 0:
                continue
            covered = goals[k][0]
            target = scenario.rules.targets[k] if k >= 0 else None
            rate = target.rate if target is not None else scenario.rules.target_rate
            label = target.label() if target is not None else "all lines"
            where = f"rules.targets[{k}]" if k >= 0 else "rules.target_rate"
            pools: dict[int, int] = {}
            for i in covered.tolist():
                if lapse_after[i] > 0:
                    pools[int(t.pool[i])] = pools.get(int(t.pool[i]), 0) + int(lapse_after[i])
            lapsing = [i for i in covered.tolist() if lapse_after[i] > 0]
            # closest: lines that could absorb the whole missing amount with the smallest relative
            # increase of their capacity; failing that, the largest remaining lapses until covered
            alone = sorted(
                (i for i in lapsing if lapse_after[i] >= missing),
                key=lambda i: (missing / max(int(t.capacity[i]), 1), i),
            )
            if alone:
                candidates = alone[:5]
                how = f"e.g. {scenario.to_amount(missing):,} more at {_line_label(scenario, alone[0])}"
            else:
                candidates = []
                covered_so_far = 0
                for i in sorted(lapsing, key=lambda i: (-int(lapse_after[i]), i)):
                    candidates.append(i)
                    covered_so_far += int(lapse_after[i])
                    if covered_so_far >= missing:
                        break
                how = (
                    f"spread over {len(candidates)} lines, largest at {_line_label(scenario, candidates[0])}"
                    if candidates
                    else ""
                )
            less_allocation = int(np.ceil(missing / rate)) if rate else None
            unit = scenario.unit
            out["targets"].append(
                {
                    "target": where,
                    "selector": label,
                    "rate": rate,
                    "missing": scenario.to_amount(missing),
                    "capacity_needed": scenario.to_amount(missing),
                    "allocation_reduction": None if less_allocation is None else scenario.to_amount(less_allocation),
                    "pools": [
                        {"pool": _pool_label(t.pool_keys[p]), "lapse_left": scenario.to_amount(v)}
                        for p, v in sorted(pools.items(), key=lambda kv: -kv[1])
                    ],
                    "closest_lines": [
                        {
                            "line": i,
                            "label": _line_label(scenario, i),
                            "lapse_left": scenario.to_amount(int(lapse_after[i])),
                            "capacity": scenario.to_amount(int(t.capacity[i])),
                            "add_capacity": scenario.to_amount(min(int(lapse_after[i]), missing)),
                        }
                        for i in candidates
                    ],
                    "text": (
                        f"target {label} ({rate:.0%}) is short by {scenario.to_amount(missing):,} {unit}: it needs "
                        f"{scenario.to_amount(missing):,} {unit} more absorptive capacity on lines that still lapse"
                        + (
                            f" (or {scenario.to_amount(less_allocation):,} {unit} less allocation on them)"
                            if less_allocation is not None
                            else ""
                        )
                        + (f"; {how}" if how else "")
                    ),
                }
            )
    if conflict is not None:
        out["conflict"] = _name_conflict(scenario, form, absorb, *conflict)
    return out


def _name_conflict(
    scenario: Scenario, form: Formulation, program: Program, rows: list[int], cols: list[int]
) -> list[str]:
    """Rows and column bounds of an infeasible subsystem, named as the rules they come from."""
    t = scenario.table
    names: list[str] = []
    for r in rows:
        kind, pos, payload = program.row_group(r)
        if kind == "target":
            k = int(payload)  # type: ignore[call-overload]
            if k >= 0:
                tg = scenario.rules.targets[k]
                names.append(f"rules.targets[{k}]: {tg.label()} must reach {tg.rate:.0%}")
            else:
                names.append(f"rules.target_rate: all lines must reach {scenario.rules.target_rate:.0%}")
        elif kind in ("max_loss", "max_gain"):
            loc = t.locality_ids[int(payload)]  # type: ignore[call-overload]
            units = next(u for kd, lc, u in form.limits if kd == kind and lc == int(payload))  # type: ignore[call-overload]
            names.append(f"{kind} of locality {loc}: {scenario.to_amount(units)}")
        elif kind == "pool":
            names.append(f"pool {_pool_label(t.pool_keys[int(form.pool_index[pos])])}: money moves only inside it")
        elif kind:
            names.append(f"{kind} rule")
    bounds: dict[str, list[tuple[str, int]]] = {"room": [], "surplus": []}
    for c in cols:
        for block in ("lo", "hi", "pool_in", "pool_out"):
            if program.has(block):
                start, stop = program.blocks[block]
                if start <= c < stop:
                    k = int(program.index[block][c - start])
                    if block.startswith("pool"):
                        label = _pool_label(t.pool_keys[int(form.pool_index[k])])
                        what = "room" if block == "pool_in" else "surplus"
                        names.append(f"pool {label}: its total {what}")
                    else:
                        what = "room" if form.is_recipient[k] else "surplus"
                        bounds[what].append((_line_label(scenario, int(form.line[k])), int(form.bound[k])))
    for what, items in bounds.items():
        if not items:
            continue
        verb = "receive up to its room" if what == "room" else "give only its surplus"
        total = sum(u for _, u in items)
        shown = ", ".join(label for label, _ in items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        names.append(
            f"each line can {verb}: {len(items)} line(s), "
            f"{scenario.to_amount(total):,} {scenario.unit} in all ({shown})"
        )
    return names
