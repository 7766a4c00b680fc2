"""The explanation of a plan as a few arrays, its tables shown as DataFrames when first read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ..labels import REASON_TEXTS
from ..lines import Lines, decimals
from ..scenario import LINE_KEYS

if TYPE_CHECKING:
    import pandas as pd


#: Every reason code a line can get, with what it means.

REASONS = {code: pair[0] for code, pair in REASON_TEXTS.items()}


def _reordered(texts: Callable[[], list[str]], inverse: np.ndarray) -> Callable[[], list[str]]:
    """The sentences in the caller's line order, written once (not once per line)."""

    def written() -> list[str]:
        every = texts()
        return [every[k] for k in inverse.tolist()]

    return written


class Table:
    """A table kept as columns (numpy arrays or lists, amounts in whole units) and shown as a
    pandas DataFrame when first asked for: a solve never pays for pandas unless someone reads a
    table."""

    def __init__(
        self,
        columns: dict[str, Any],
        *,
        amounts: tuple[str, ...] = (),
        precision: Decimal = Decimal(1),
        keys: Lines | None = None,
        index_name: str | None = None,
    ) -> None:
        self.columns = columns
        self.amounts = amounts
        self.precision = precision
        self.keys = keys
        self.index_name = index_name

    def __len__(self) -> int:
        if self.keys is not None:
            return len(self.keys)
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def values(self, name: str) -> list[Any]:
        """One column as Python values (amounts as exact decimals)."""
        col = self.columns[name]
        if name in self.amounts:
            return decimals(np.asarray(col, dtype=np.int64), self.precision)
        return col.tolist() if isinstance(col, np.ndarray) else list(col)

    def records(self, at: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Rows as dicts (amounts as exact decimals), all of them or those at ``at``."""
        names = list(self.columns)
        cols = []
        for name in names:
            col = self.columns[name]
            picked = np.asarray(col)[at] if at is not None else col
            if name in self.amounts:
                cols.append(decimals(np.asarray(picked, dtype=np.int64), self.precision))
            else:
                cols.append(picked.tolist() if isinstance(picked, np.ndarray) else list(picked))
        return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        data: dict[str, Any] = {}
        if self.keys is not None:
            data.update({k: self.keys.categorical(k) for k in LINE_KEYS})
        for name in self.columns:
            data[name] = self.values(name) if name in self.amounts else self.columns[name]
        frame = pd.DataFrame(data, columns=list(data))
        if self.index_name:
            frame.index.name = self.index_name
        return frame


_EMPTY = Table({})


@dataclass(eq=False)
class Explanation:
    """The explanation of a plan (``plan.explain``); every table is a pandas DataFrame, built when
    first read (the explanation itself is a few arrays).

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

    gap: dict[str, Any]
    diagnosis: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    #: reason code of every line (empty without a plan)
    reasons: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object), repr=False)
    _texts: Callable[[], list[str]] | None = field(default=None, repr=False)
    _shadow: Table = field(default=_EMPTY, repr=False)
    _pools: Table = field(default=_EMPTY, repr=False)
    _lapse: Table = field(default=_EMPTY, repr=False)

    @classmethod
    def empty(cls, diagnosis: dict[str, Any] | None = None) -> Explanation:
        """The explanation of a scenario without a plan: only its diagnosis."""
        return cls(gap={}, diagnosis=diagnosis)

    def in_order(self, order: np.ndarray, inverse: np.ndarray, lines: Lines) -> Explanation:
        """This explanation of a plan solved with its lines reordered, for the lines as listed:
        line ``order[k]`` as listed was line ``k`` when solved (``inverse`` is the other way)."""
        diagnosis = self.diagnosis
        if diagnosis is not None:  # line positions named by the diagnosis
            diagnosis = {
                **diagnosis,
                "targets": [
                    {**t, "closest_lines": [{**c, "line": int(order[c["line"]])} for c in t.get("closest_lines", [])]}
                    for t in diagnosis.get("targets", [])
                ],
            }
        if self.reasons.shape[0] == 0:
            return Explanation(gap=self.gap, diagnosis=diagnosis, notes=self.notes)
        texts = self._texts
        shadow = self._shadow
        columns = {
            name: np.asarray(col)[inverse] if isinstance(col, np.ndarray) else [col[k] for k in inverse.tolist()]
            for name, col in shadow.columns.items()
        }
        return Explanation(
            gap=self.gap,
            diagnosis=diagnosis,
            notes=self.notes,
            reasons=self.reasons[inverse],
            _texts=None if texts is None else _reordered(texts, inverse),
            _shadow=Table(
                columns,
                amounts=shadow.amounts,
                precision=shadow.precision,
                keys=lines if shadow.keys is not None else None,
                index_name=shadow.index_name,
            ),
            _pools=self._pools,
            _lapse=self._lapse,
        )

    def __getstate__(self) -> dict[str, Any]:
        """For pickling (a plan handed between processes): the sentences are written out, since the
        function that writes them on demand cannot travel."""
        state = dict(self.__dict__)
        if state.get("_texts") is not None:
            state["texts"] = self.texts
            state["_texts"] = None
        return state

    @cached_property
    def texts(self) -> list[str]:
        """The sentence of every line (written on first use)."""
        return self._texts() if self._texts is not None else []

    @cached_property
    def shadow_prices(self) -> pd.DataFrame:
        return self._shadow.frame()

    @cached_property
    def pools(self) -> pd.DataFrame:
        return self._pools.frame()

    @cached_property
    def lapse(self) -> pd.DataFrame:
        return self._lapse.frame()

    def column(self, name: str) -> np.ndarray:
        """A per-line column of the shadow prices (``capacity_value``, ``allocation_value``,
        ``up_to`` in whole units, ``saving``) as an array, without building a DataFrame."""
        return np.asarray(self._shadow.columns[name])

    @cached_property
    def lines(self) -> pd.DataFrame:
        """Per line: its keys, ``reason`` and ``text``."""
        import pandas as pd

        if self.reasons.shape[0] == 0:
            return pd.DataFrame()
        keys = self._shadow.keys
        assert keys is not None
        return Table({"reason": self.reasons, "text": self.texts}, keys=keys, index_name="line").frame()

    def ranking(self) -> np.ndarray:
        """Positions of the lines where one more unit of capacity saves money, most money first
        (ties: larger capacity value first, then line order)."""
        if not self._shadow.columns:
            return np.zeros(0, dtype=np.int64)
        saving = self.column("saving")
        value = self.column("capacity_value")
        at = np.flatnonzero(saving > 0)
        return at[np.lexsort((at, -value[at], -saving[at]))]

    @property
    def ranked(self) -> pd.DataFrame:
        """Lines where one more unit of capacity saves money, most money first."""
        sp = self.shadow_prices
        if sp.empty:
            return sp
        return sp.iloc[self.ranking()]

    def to_dict(self, top: int = 100, *, lines: bool = True) -> dict[str, Any]:
        """JSON shape: ``lines`` (per line, by position: reason, text, capacity and allocation
        values), ``shadow_prices`` (the ``top`` entries of
        [`ranked`][reallocate.explain.Explanation.ranked]), pools, lapse, gap, diagnosis, notes."""
        per_line: list[dict[str, Any]] = []
        if lines and self.reasons.shape[0]:
            per_line = [
                {"line": i, "reason": r, "text": x, "capacity_value": c, "allocation_value": v}
                for i, r, x, c, v in zip(
                    range(self.reasons.shape[0]),
                    self.reasons.tolist(),
                    self.texts,
                    self.column("capacity_value").tolist(),
                    self.column("allocation_value").tolist(),
                    strict=True,
                )
            ]
        shadow: list[dict[str, Any]] = []
        if self._shadow.columns:
            at = self.ranking()[:top]
            keys = self._shadow.keys
            assert keys is not None
            shadow = [
                {"line": int(i), **dict(zip(LINE_KEYS, keys.key(int(i)), strict=True)), **rec}
                for i, rec in zip(at.tolist(), self._shadow.records(at), strict=True)
            ]
        return {
            "lines": per_line,
            "shadow_prices": shadow,
            "pools": self._pools.records(),
            "lapse": self._lapse.records(),
            "gap": self.gap,
            "diagnosis": self.diagnosis,
            "notes": self.notes,
        }
