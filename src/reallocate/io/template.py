"""An empty, documented Excel template to fill in."""

from __future__ import annotations

from pathlib import Path

from ..labels import check_lang
from .excel import _write_workbook
from .sheets import _scenario_sheets


def write_template(path: str | Path, lang: str = "en") -> Path:
    """Write an empty, documented scenario workbook to ``path`` (.xlsx) and return the path.

    Headers carry notes (cell comments) in ``lang`` explaining each column; fund, program, the
    flags and the recipients/donors rules have drop-downs (fund and program still accept other
    values); amount columns have thousands separators; the header row is frozen; ``rules`` and
    ``scenario`` are pre-filled with every rule and setting and its default. Reading it back
    untouched fails with one clear problem: the ``lines`` sheet has no rows.
    """
    check_lang(lang)
    p = Path(path)
    _write_workbook(_scenario_sheets(None, lang), p)
    return p
