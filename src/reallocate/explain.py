"""Why the plan is what it is: a reason for every line, shadow prices, the lapse that remains and
why, the gap to 100% — and, when no plan exists, what it would take.

Everything here is derived from the scenario, the exact plan (whole units) and, for shadow prices,
the row duals of one extra LP: the absorb stage per line, as a maximisation (see
``Formulation.explain_program``). A column's reduced cost ``c - A^T y`` is the money one more
unit of its bound would absorb; a line that has no column yet is priced the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .formulation import Formulation, Program
from .lines import factorize
from .plan import records
from .scenario import LINE_KEYS, Scenario
from .sharing import group_sums

__all__ = ["REASONS", "Explanation", "diagnose", "explain_plan", "name_conflict"]

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
    "held_by_flags": "held back by flags: the rest of its pool's room (surplus) is on frozen or give_only "
    "(receive_only) lines",
    "held_by_floor": "must keep its floor (signed contracts) above what it can disburse",
    "held_by_ceiling": "at its ceiling: it could disburse more",
    "frozen": "frozen: neither gives nor receives",
    "give_only": "give_only: has room but never receives",
    "receive_only": "receive_only: has surplus but never gives",
    "balanced": "holds what it can disburse: nothing to give or receive",
}


@dataclass(eq=False)
class Explanation:
    """The explanation of a plan (``plan.explain``); every table is a pandas DataFrame.

    * ``lines``: per line, ``reason`` (a code of ``REASONS``) and ``text`` (a sentence; the
      sentences are written when first asked for, so a national plan does not pay for a million
      of them unless someone reads them);
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

    shadow_prices: pd.DataFrame
    pools: pd.DataFrame
    lapse: pd.DataFrame
    gap: dict[str, Any]
    diagnosis: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: reason code of every line (empty without a plan)
    reasons: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object), repr=False)
    _texts: Callable[[], list[str]] | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, diagnosis: dict[str, Any] | None = None) -> Explanation:
        """The explanation of a scenario without a plan: only its diagnosis."""
        frame = pd.DataFrame()
        return cls(shadow_prices=frame, pools=frame, lapse=frame, gap={}, diagnosis=diagnosis)

    @cached_property
    def texts(self) -> list[str]:
        """The sentence of every line (written on first use)."""
        return self._texts() if self._texts is not None else []

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Per line: its keys, ``reason`` and ``text``."""
        if self.reasons.shape[0] == 0:
            return pd.DataFrame()
        frame = self.shadow_prices[list(LINE_KEYS)].copy()
        frame["reason"] = self.reasons
        frame["text"] = self.texts
        return frame

    @property
    def ranked(self) -> pd.DataFrame:
        """Lines where one more unit of capacity saves money, most money first."""
        sp = self.shadow_prices
        if sp.empty:
            return sp
        keep = sp[sp["saving"] > 0]
        return keep.sort_values(["saving", "capacity_value"], ascending=False, kind="stable")

    def to_dict(self, top: int = 100, *, lines: bool = True) -> dict[str, Any]:
        """JSON shape: ``lines`` (per line, by position: reason, text, capacity and allocation
        values), ``shadow_prices`` (the ``top`` entries of
        [`ranked`][reallocate.explain.Explanation.ranked]), pools, lapse, gap, diagnosis, notes."""
        per_line: list[dict[str, Any]] = []
        if lines and self.reasons.shape[0]:
            sp = self.shadow_prices
            per_line = [
                {"line": i, "reason": r, "text": x, "capacity_value": c, "allocation_value": v}
                for i, r, x, c, v in zip(
                    range(self.reasons.shape[0]),
                    self.reasons.tolist(),
                    self.texts,
                    sp["capacity_value"].tolist(),
                    sp["allocation_value"].tolist(),
                    strict=True,
                )
            ]
        ranked = self.ranked.head(top)
        shadow = [{"line": int(i), **rec} for i, rec in zip(ranked.index.tolist(), records(ranked), strict=True)]
        return {
            "lines": per_line,
            "shadow_prices": shadow,
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
    loc, program, fund, component = scenario.table.key(i)
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
        self.S = group_sums(t.pool, form.can_give, n_pools)
        self.R = group_sums(t.pool, form.can_receive, n_pools)
        self.moved = group_sums(t.pool, self.received, n_pools)
        self.net = group_sums(t.locality, change, len(t.locality_ids))
        self.tight: dict[tuple[str, int], int] = {}
        big = np.iinfo(np.int64).max // 4
        self.loss_slack: np.ndarray | None = None
        self.gain_slack: np.ndarray | None = None
        for kind, loc, units in form.limits:
            moved = -self.net[loc] if kind == "max_loss" else self.net[loc]
            if moved >= units:
                self.tight[(kind, loc)] = units
            slack = self.loss_slack if kind == "max_loss" else self.gain_slack
            if slack is None:
                slack = np.full(len(t.locality_ids), big, dtype=np.int64)
                if kind == "max_loss":
                    self.loss_slack = slack
                else:
                    self.gain_slack = slack
            slack[loc] = max(0, units - int(moved))
        # room and surplus the pool has before flags hold some of it back
        self.raw_S = group_sums(t.pool, t.surplus, n_pools)
        self.raw_R = group_sums(t.pool, t.room, n_pools)

    def amount(self, units: int | np.integer[Any]) -> str:
        return self.amounts(np.array([int(units)], dtype=np.int64))[0]

    def amounts(self, units: np.ndarray) -> list[str]:
        """Amounts for people (thousands separators), one whole column at a time."""
        if self.scenario.precision == 1:
            return list(map("{:,}".format, units.tolist()))
        from .labels import amount_text

        return [amount_text(self.scenario.to_amount(int(u))) for u in units.tolist()]


# ------------------------------------------------------------------------------------ reasons
def _held_reason(f: _Facts, limit: str) -> tuple[np.ndarray, np.ndarray]:
    """For lines that could move more but did not: (reason code, why) of the rule holding them."""
    t = f.t
    rules = f.scenario.rules
    n = t.size
    code = np.full(n, "held_by_rules", dtype=object)
    why = np.full(n, "", dtype=object)
    tight = np.zeros(len(t.locality_ids), dtype=bool)
    for kind, loc in f.tight:
        if kind == limit:
            tight[loc] = True
    blockers = sorted({t.locality_ids[k[1]] for k in f.tight})
    generic = f"locality limits elsewhere ({', '.join(blockers[:5])}{'...' if len(blockers) > 5 else ''})"
    why[:] = generic if blockers else "the rules of its pool"
    if rules.max_transfers_per_line is not None:
        code[:] = "held_by_max_transfers"
        why[:] = f"at most {rules.max_transfers_per_line} transfers per line"
    if rules.min_transfer > 0:
        code[:] = "held_by_min_transfer"
        why[:] = f"a transfer must be at least {rules.min_transfer}"
    mine = tight[t.locality]
    code[mine] = "held_by_locality_limit"
    for i in np.flatnonzero(mine).tolist():
        loc = int(t.locality[i])
        why[i] = f"{t.locality_ids[loc]}'s {limit} ({f.amount(f.tight[(limit, loc)])}) is reached"
    return code, why


def _reasons(f: _Facts) -> tuple[np.ndarray, Callable[[], list[str]]]:
    """A reason code for every line, and a function that writes every line's sentence."""
    t = f.t
    p = t.pool
    given, received = f.given, f.received
    surplus, room = t.surplus, t.room
    has_ceiling = t.has_ceiling
    code = np.full(t.size, "balanced", dtype=object)
    donor = surplus > 0
    recipient = room > 0
    code[~donor & ~recipient & has_ceiling & (t.capacity > t.allocated)] = "held_by_ceiling"
    code[~donor & ~recipient & (t.allocated > t.capacity)] = "held_by_floor"
    held_give, why_give = _held_reason(f, "max_loss")
    held_take, why_take = _held_reason(f, "max_gain")
    code[donor] = held_give[donor]
    code[donor & (f.moved[p] >= f.R[p])] = "kept_surplus"
    code[donor & (f.R[p] == 0)] = "no_room_in_pool"
    code[donor & (given == surplus)] = "gave_all_surplus"
    code[donor & t.receive_only] = "receive_only"
    code[recipient] = held_take[recipient]
    code[recipient & (f.moved[p] >= f.S[p])] = "received_share"
    code[recipient & (f.S[p] == 0)] = "no_surplus_in_pool"
    code[recipient & (received == room)] = "received_all_room"
    code[recipient & t.give_only] = "give_only"
    # where the pool's missing room (surplus) exists but sits on flagged lines, a flag holds it back
    flagged_room = f.raw_R > f.R
    flagged_surplus = f.raw_S > f.S
    short_give = donor & ~t.receive_only & (given < surplus) & (f.moved[p] >= f.R[p]) & flagged_room[p]
    short_take = recipient & ~t.give_only & (received < room) & (f.moved[p] >= f.S[p]) & flagged_surplus[p]
    code[short_give | short_take] = "held_by_flags"
    code[t.frozen] = "frozen"

    return code, lambda: _reason_texts(f, code, donor, recipient, why_give, why_take)


def _reason_texts(
    f: _Facts, code: np.ndarray, donor: np.ndarray, recipient: np.ndarray, why_give: np.ndarray, why_take: np.ndarray
) -> list[str]:
    """The sentence of every line, from its reason code and its amounts: written a reason at a
    time, each amount column formatted once for the lines that need it."""
    sc, t = f.scenario, f.t
    rules = sc.rules
    given, received = f.given, f.received
    surplus, room = t.surplus, t.room
    share_word = {"proportional": "a pro-rata share", "priority": "a share by priority weight"}
    a = f.amounts
    out: list[str] = [""] * t.size
    codes, names = factorize(code.tolist())

    def put(at: np.ndarray, texts: list[str]) -> None:
        for i, text in zip(at.tolist(), texts, strict=True):
            out[i] = text

    def pct(part: np.ndarray, whole: np.ndarray) -> list[str]:
        return [f"{p / w:.0%}" for p, w in zip(part.tolist(), whole.tolist(), strict=True)]

    for k, c in enumerate(names):
        at = np.flatnonzero(codes == k)
        if c == "gave_all_surplus":
            texts = [f"gave all its surplus {x}" for x in a(surplus[at])]
            above = at[t.floor[at] > t.capacity[at]]
            if above.shape[0]:
                extra = {
                    int(i): f"; keeps its floor {fl}, above its capacity {cp}"
                    for i, fl, cp in zip(above.tolist(), a(t.floor[above]), a(t.capacity[above]), strict=True)
                }
                texts = [x + extra.get(i, "") for i, x in zip(at.tolist(), texts, strict=True)]
        elif c == "kept_surplus":
            word = share_word[rules.donors]
            texts = [
                f"gave {g} of its surplus {s} ({p}): its pool ran out of room ({word} of the pool's room)"
                for g, s, p in zip(a(given[at]), a(surplus[at]), pct(given[at], surplus[at]), strict=True)
            ]
        elif c == "received_all_room":
            texts = [f"received its whole room {x}" for x in a(room[at])]
            capped = at[t.has_ceiling[at] & (t.ceiling[at] < t.capacity[at])]
            if capped.shape[0]:
                extra = {
                    int(i): f" (its ceiling {sc.to_amount(int(t.ceiling[i]))} caps it below its capacity)"
                    for i in capped.tolist()
                }
                texts = [x + extra.get(i, "") for i, x in zip(at.tolist(), texts, strict=True)]
        elif c == "received_share":
            word = share_word[rules.recipients]
            texts = [
                f"received {r} of its room {m} ({p}): its pool ran out of surplus ({word})"
                for r, m, p in zip(a(received[at]), a(room[at]), pct(received[at], room[at]), strict=True)
            ]
        elif c == "no_room_in_pool":
            texts = [f"has surplus {x}, but no line of its pool has room" for x in a(surplus[at])]
        elif c == "no_surplus_in_pool":
            texts = [f"could absorb {x} more, but no line of its pool has surplus" for x in a(room[at])]
        elif c == "held_by_floor":
            texts = [
                f"must keep its floor {fl} (signed contracts) but can disburse only {cp}"
                for fl, cp in zip(a(t.floor[at]), a(t.capacity[at]), strict=True)
            ]
        elif c == "held_by_ceiling":
            texts = [
                f"at its ceiling {al}: it could disburse {more} more"
                for al, more in zip(a(t.allocated[at]), a(t.capacity[at] - t.allocated[at]), strict=True)
            ]
        elif c == "receive_only":
            texts = [f"has surplus {x} but is receive_only: it lapses" for x in a(surplus[at])]
        elif c == "give_only":
            texts = [f"could absorb {x} more but is give_only" for x in a(room[at])]
        elif c.startswith("held_by_"):
            gives, takes = at[donor[at]], at[recipient[at] & ~donor[at]]
            if c == "held_by_flags":
                put(
                    gives,
                    [
                        f"gave {g} of its surplus {s}: the rest of its pool's room is on frozen or give_only lines"
                        for g, s in zip(a(given[gives]), a(surplus[gives]), strict=True)
                    ],
                )
                put(
                    takes,
                    [
                        f"received {r} of its room {m}: the rest of its pool's surplus is on frozen or receive_only lines"
                        for r, m in zip(a(received[takes]), a(room[takes]), strict=True)
                    ],
                )
            else:
                put(
                    gives,
                    [
                        f"gave {g} of its surplus {s}: {w}"
                        for g, s, w in zip(a(given[gives]), a(surplus[gives]), why_give[gives].tolist(), strict=True)
                    ],
                )
                put(
                    takes,
                    [
                        f"received {r} of its room {m}: {w}"
                        for r, m, w in zip(a(received[takes]), a(room[takes]), why_take[takes].tolist(), strict=True)
                    ],
                )
            rest = at[~donor[at] & ~recipient[at]]
            put(rest, [REASONS[c]] * rest.shape[0])
            continue
        else:
            texts = [REASONS[c]] * at.shape[0]
        put(at, texts)
    return out


# ------------------------------------------------------------------------------------ prices
def _prices(
    f: _Facts, program: Program | None, duals: np.ndarray | None, exact_pools: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Money absorbed by one more unit of each line's capacity and allocation, from LP duals.

    With ``y`` the duals (d objective / d rhs of the maximisation), one more unit of room on a
    line in pool p and locality l is worth ``max(0, 1 - y_pool - y_gain(l) + y_loss(l) - y_targets)``
    and one more unit of surplus ``max(0, y_pool - y_loss(l) + y_gain(l))``. A lapsing line's
    capacity also absorbs its own lapse (+1) and relaxes the targets covering it.
    """
    sc, t, form = f.scenario, f.t, f.form
    n_pools, n_loc = len(t.pool_keys), len(t.locality_ids)
    pool_dual = np.where((f.S == 0) & (f.R > 0), 1.0, 0.0)
    gain_dual = np.zeros(n_loc)
    loss_dual = np.zeros(n_loc)
    target_dual: dict[int, float] = {}
    # independent pools, priced exactly: one more unit of room is worth 1 where surplus is left
    # over, one more unit of surplus where room is left over (both 0 where they are equal)
    room_left = f.R > f.S
    surplus_left = f.S > f.R
    if exact_pools:
        pool_dual = np.where(room_left, 1.0, 0.0)
    if program is not None and duals is not None:
        for kind, start, n, payload in program.row_groups:
            y = duals[start : start + n]
            if kind == "pool":
                pool_dual[form.pool_index[payload]] = y
            elif kind == "max_loss":
                loss_dual[payload] = y
            elif kind == "max_gain":
                gain_dual[payload] = y
            elif kind == "target":
                target_dual.update(zip(payload.tolist(), y.tolist(), strict=True))
    # a target row reads (1 - r) received + r given >= ...: its dual weighs a recipient's unit by
    # (1 - r) and a donor's by r; a unit of absorbable money already held relaxes it by one
    target_term = np.zeros(t.size)  # sum of duals of the targets covering each line
    target_room = np.zeros(t.size)  # sum of (1 - r) x dual
    target_give = np.zeros(t.size)  # sum of r x dual
    target_alloc = np.zeros(t.size)  # sum of r x dual: one more unit held raises the need by r
    for k, covered, rate in form.goals:
        dual = target_dual.get(k, 0.0)
        r = float(rate)
        target_term[covered] += dual
        target_room[covered] += (1.0 - r) * dual
        target_give[covered] += r * dual
        target_alloc[covered] += r * dual
    pool, loc = t.pool, t.locality
    room_value = np.where(
        f.S[pool] == 0, 0.0, np.maximum(0.0, 1.0 - pool_dual[pool] - gain_dual[loc] + loss_dual[loc] - target_room)
    )
    surplus_value = np.where(
        f.R[pool] == 0, 0.0, np.maximum(0.0, pool_dual[pool] - loss_dual[loc] + gain_dual[loc] - target_give)
    )
    pool_room_value = np.where(f.S == 0, 0.0, np.round(np.maximum(0.0, 1.0 - pool_dual), 9))
    pool_surplus_value = np.where(f.R == 0, 0.0, np.round(np.maximum(0.0, pool_dual), 9))
    if exact_pools:
        pool_room_value = surplus_left.astype(np.float64)
        pool_surplus_value = room_left.astype(np.float64)
        room_value, surplus_value = pool_room_value[pool], pool_surplus_value[pool]
    has_ceiling, ceiling_units = t.has_ceiling, t.ceiling
    can_receive = ~(t.frozen | t.give_only) & (~has_ceiling | (t.capacity < ceiling_units))
    can_give = ~(t.frozen | t.receive_only)
    lapsing = t.allocated > t.capacity
    capacity_value = np.where(
        lapsing,
        1.0 - target_term - np.where(can_give & (t.capacity >= t.floor), surplus_value, 0.0),
        np.where(can_receive, room_value, 0.0),
    )
    # one more unit of allocation: a line at or above its capacity holds one more unit of surplus;
    # a line below it disburses one more unit but has one unit less room (at its ceiling: not allowed)
    receives = ~(t.frozen | t.give_only) & (t.room > 0)
    at_ceiling = has_ceiling & (t.allocated >= ceiling_units)
    allocation_value = np.where(
        t.allocated >= t.capacity,
        np.where(can_give, surplus_value, 0.0) + target_alloc,
        np.where(at_ceiling, 0.0, 1.0 - np.where(receives, room_value, 0.0) + target_alloc - target_term),
    )
    capacity_value = np.round(np.maximum(capacity_value, 0.0), 9)
    up_to = np.where(lapsing, np.where(f.lapse_after > 0, f.lapse_after, t.surplus), _room_reach(f)[pool]).astype(
        np.int64
    )
    if f.gain_slack is not None:
        up_to = np.where(lapsing, up_to, np.minimum(up_to, f.gain_slack[loc]))
    frame = pd.DataFrame({k: sc.lines.categorical(k) for k in LINE_KEYS})
    frame["capacity_value"] = capacity_value
    frame["allocation_value"] = np.round(allocation_value, 9)
    frame["up_to"] = _amounts(sc, up_to)
    frame["saving"] = capacity_value * up_to.astype(np.float64) * float(sc.precision)
    frame.index.name = "line"
    pools = pd.DataFrame(
        {
            "pool": [_pool_label(k) for k in t.pool_keys],
            "room_value": pool_room_value,
            "surplus_value": pool_surplus_value,
            "surplus": _amounts(sc, f.S),
            "room": _amounts(sc, f.R),
            "moved": _amounts(sc, f.moved),
        }
    )
    del n_pools
    return frame, pools


def _room_reach(f: _Facts) -> np.ndarray:
    """Per pool, how much more its surplus could still move: what donors still hold, capped by the
    net-loss slack of their localities (an estimate of how far more room keeps its value)."""
    t = f.t
    left = np.maximum(f.form.can_give - f.given, 0)
    n_pools, n_loc = len(t.pool_keys), len(t.locality_ids)
    by = np.zeros((n_pools, n_loc), dtype=np.int64) if n_pools * n_loc <= 10**7 else None
    if by is None or f.loss_slack is None:
        return group_sums(t.pool, left, n_pools)
    np.add.at(by, (t.pool, t.locality), left)
    return np.minimum(by, f.loss_slack[None, :]).sum(axis=1)


def _amounts(sc: Scenario, units: np.ndarray) -> list[Any]:
    if sc.precision == 1:
        return [Decimal(u) for u in units.tolist()]
    return [sc.to_amount(u) for u in units.tolist()]


# ------------------------------------------------------------------------------------ lapse
_BLOCKS = (
    "floor",
    "frozen",
    "receive_only",
    "room on frozen or give_only lines",
    "max_loss",
    "max_gain",
    "min_transfer",
    "max_transfers_per_line",
    "rules",
)


def _lapse(f: _Facts) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The money that still lapses, by pool and locality: no room in its pool, or held by a rule."""
    sc, t = f.scenario, f.t
    rules = sc.rules
    room_left = f.R - f.moved
    lapse = f.lapse_after
    locked = np.clip(np.minimum(f.final, t.floor) - t.capacity, 0, None)
    locked = np.minimum(locked, lapse)
    unmoved = lapse - locked
    stuck = t.frozen | t.receive_only
    flagged_room = f.raw_R > f.R  # per pool: part of its room sits on frozen / give_only lines
    no_room = np.where(~stuck & (room_left[t.pool] <= 0) & ~flagged_room[t.pool], unmoved, 0)
    blocked = lapse - no_room
    bits = np.zeros(t.size, dtype=np.int64)
    bit = {name: 1 << k for k, name in enumerate(_BLOCKS)}
    bits |= np.where(locked > 0, bit["floor"], 0)
    rest = (unmoved > 0) & (no_room == 0)
    bits |= np.where(rest & t.frozen, bit["frozen"], 0)
    bits |= np.where(rest & t.receive_only, bit["receive_only"], 0)
    free = rest & ~stuck
    bits |= np.where(
        free & flagged_room[t.pool] & (room_left[t.pool] <= 0), bit["room on frozen or give_only lines"], 0
    )
    loss_tight = np.zeros(len(t.locality_ids), dtype=bool)
    gain_tight = np.zeros(len(t.locality_ids), dtype=bool)
    for kind, loc in f.tight:
        (loss_tight if kind == "max_loss" else gain_tight)[loc] = True
    bits |= np.where(free & loss_tight[t.locality], bit["max_loss"], 0)
    pool_gain_tight = np.zeros(len(t.pool_keys), dtype=bool)
    np.logical_or.at(pool_gain_tight, t.pool, (t.room > 0) & gain_tight[t.locality])
    bits |= np.where(free & pool_gain_tight[t.pool], bit["max_gain"], 0)
    if rules.min_transfer > 0:
        bits |= np.where(free, bit["min_transfer"], 0)
    if rules.max_transfers_per_line is not None:
        bits |= np.where(free, bit["max_transfers_per_line"], 0)
    bits |= np.where(free & (bits == 0), bit["rules"], 0)

    which = np.flatnonzero(lapse > 0)
    n_loc = len(t.locality_ids)
    group = t.pool[which] * n_loc + t.locality[which]
    keys, inverse = np.unique(group, return_inverse=True)
    sums = {
        name: group_sums(inverse.reshape(-1), arr[which], keys.shape[0])
        for name, arr in (("lapse", lapse), ("no_room", no_room), ("blocked", blocked))
    }
    group_bits = np.zeros(keys.shape[0], dtype=np.int64)
    np.bitwise_or.at(group_bits, inverse, bits[which])
    order = np.lexsort((keys, -sums["lapse"]))
    labels = sc.locality_labels()
    gain_names = (
        {
            p: sorted(
                {t.locality_ids[int(k)] for k in t.locality[(t.pool == p) & (t.room > 0) & gain_tight[t.locality]]}
            )
            for p in np.unique(t.pool[which]).tolist()
        }
        if gain_tight.any()
        else {}
    )

    def blocked_by(g: int) -> str:
        key = int(keys[g])
        p, loc = key // n_loc, key % n_loc
        out = []
        for name in _BLOCKS:
            if group_bits[g] & bit[name]:
                if name == "max_loss":
                    out.append(f"max_loss of {t.locality_ids[loc]}")
                elif name == "max_gain":
                    out.append("max_gain of " + ", ".join(gain_names.get(p, [])))
                else:
                    out.append(name)
        return ", ".join(out)

    frame = pd.DataFrame(
        {
            "pool": [_pool_label(t.pool_keys[int(keys[g]) // n_loc]) for g in order],
            "locality": [t.locality_ids[int(keys[g]) % n_loc] for g in order],
            "name": [labels[t.locality_ids[int(keys[g]) % n_loc]] for g in order],
            "lapse": _amounts(sc, sums["lapse"][order]),
            "no_room": _amounts(sc, sums["no_room"][order]),
            "blocked": _amounts(sc, sums["blocked"][order]),
            "blocked_by": [blocked_by(int(g)) for g in order],
        },
        columns=["pool", "locality", "name", "lapse", "no_room", "blocked", "blocked_by"],
    )
    total = int(lapse.sum())
    allocated = int(t.allocated.sum())
    pool_lapse = group_sums(t.pool, lapse, len(t.pool_keys))
    loc_lapse = group_sums(t.locality, lapse, n_loc)
    no_room_total, blocked_total = int(no_room.sum()), int(blocked.sum())
    gap: dict[str, Any] = {
        "amount": sc.to_amount(total),
        "share": total / allocated if allocated else 0.0,
        "no_room": sc.to_amount(no_room_total),
        "blocked": sc.to_amount(blocked_total),
    }
    if total:
        top_pool, top_loc = int(np.argmax(pool_lapse)), int(np.argmax(loc_lapse))
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
    scenario: Scenario,
    form: Formulation,
    change: np.ndarray,
    program: Program | None,
    duals: np.ndarray | None,
    *,
    exact_pools: bool = False,
) -> Explanation:
    """The explanation of a found plan (``change`` in whole units per line). ``exact_pools``:
    every pool is independent, so its prices are read off its totals (no LP duals needed)."""
    f = _Facts(scenario, form, change)
    codes, texts = _reasons(f)
    prices, pools = _prices(f, program, duals, exact_pools)
    lapse, gap = _lapse(f)
    notes = []
    if (program is None or duals is None) and not exact_pools:
        notes.append("shadow prices from pool totals only (no dual prices were available)")
    if scenario.rules.min_transfer > 0 or scenario.rules.max_transfers_per_line is not None:
        notes.append("shadow prices ignore min_transfer and max_transfers_per_line (LP duals)")
    return Explanation(
        shadow_prices=prices, pools=pools, lapse=lapse, gap=gap, notes=notes, reasons=codes, _texts=texts
    )


# ------------------------------------------------------------------------------------ no plan
def diagnose(
    scenario: Scenario,
    form: Formulation,
    shortfall: dict[int, float],
    final: np.ndarray,
    conflict: list[str] | None,
) -> dict[str, Any]:
    """What it would take to make an infeasible scenario feasible, in the scenario's words.

    ``shortfall`` is, per target, the least money by which it must fall short (the elastic absorb
    program's slack), ``final`` what each line holds in that least-short plan, ``conflict`` the
    named rules of an irreducible infeasible subsystem.
    """
    t = scenario.table
    out: dict[str, Any] = {"targets": [], "conflict": conflict or []}
    lapse_after = np.maximum(final - t.capacity, 0)
    goals = {k: (covered, rate) for k, covered, rate in form.goals}
    for k, short_units in shortfall.items():
        missing = int(np.ceil(short_units - 1e-6))
        if missing <= 0:
            continue
        covered = goals[k][0]
        target = scenario.rules.targets[k] if k >= 0 else None
        rate = target.rate if target is not None else scenario.rules.target_rate
        assert rate is not None
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
            how = f"e.g. +{scenario.to_amount(missing):,} capacity at {_line_label(scenario, alone[0])}"
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
        less_allocation = int(np.ceil(missing / rate - 1e-9)) if rate else None
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
    return out


def name_conflict(
    scenario: Scenario, form: Formulation, program: Program, rows: list[int], cols: list[int]
) -> list[str]:
    """Rows and column bounds of an infeasible subsystem, named as the rules they come from."""
    t = scenario.table
    names: list[str] = []
    for r in rows:
        kind, _, payload = program.row_group(r)
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
            names.append(f"pool {_pool_label(t.pool_keys[int(form.pool_index[payload])])}: money moves only inside it")
        elif kind:
            names.append(f"{kind} rule")
    bounds: dict[str, list[tuple[str, int]]] = {"room": [], "surplus": []}
    for c in cols:
        for block in ("lo", "hi"):
            if program.has(block):
                start, stop = program.blocks[block]
                if start <= c < stop:
                    k = int(program.index[block][c - start])
                    if block.startswith("pool"):
                        label = _pool_label(t.pool_keys[int(form.pool_index[k])])
                        what = "room" if block == "pool_in" else "surplus"
                        names.append(f"pool {label}: its total {what}")
                    else:
                        what = "room" if form.g_recipient[k] else "surplus"
                        for i in np.flatnonzero(form.group == k).tolist():
                            bounds[what].append((_line_label(scenario, int(form.line[i])), int(form.bound[i])))
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
