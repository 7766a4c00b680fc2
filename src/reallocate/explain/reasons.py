"""A reason code for every line, and its sentence (written a reason at a time)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..lines import factorize
from .facts import _Facts
from .tables import REASONS

if TYPE_CHECKING:
    pass


#: Every reason code a line can get, with what it means.


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


def _approval_reason(
    f: _Facts, code: np.ndarray, donor: np.ndarray, recipient: np.ndarray, why_give: np.ndarray, why_take: np.ndarray
) -> None:
    """Lines left below a pro-rata share of their pool because the approval tiers come first
    (``rules.order``): in a wide pool, money crosses a costed attribute (say the program) only
    when nothing needing a lower approval can absorb it, so some lines give or receive less."""
    rules = f.scenario.rules
    attrs = [a for a, c in rules.move_costs.items() if c > 0]
    if not attrs or rules.order.index("move_costs") > rules.order.index("fair_shares"):
        return
    t = f.t
    p = t.pool
    # below its pro-rata share by more than a unit's rounding (floats: a label, and 10^15 x 10^15
    # would overflow whole numbers)
    moved = f.moved[p].astype(np.float64)
    fair_give = moved * t.surplus / np.maximum(f.S[p], 1)
    fair_take = moved * t.room / np.maximum(f.R[p], 1)
    short_give = donor & (code == "kept_surplus") & (f.given < fair_give - 1)
    short_take = recipient & (code == "received_share") & (f.received < fair_take - 1)
    why = (
        f"a move across {' and '.join(attrs)} needs a higher approval: it is made only when no move needing a "
        "lower one can absorb the money (rules.order)"
    )
    code[short_give | short_take] = "held_by_approval"
    why_give[short_give] = why
    why_take[short_take] = why


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
    _approval_reason(f, code, donor, recipient, why_give, why_take)
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
                        f"received {r} of its room {m}: the rest of its pool's surplus is on frozen or "
                        "receive_only lines"
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
