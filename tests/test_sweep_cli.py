"""``reallocate sweep``: results written as asked (never over a file), errors that name the path and
value in English or Vietnamese, without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reallocate.cli import main
from reallocate.datasets import quang_nam_2023
from sweep_reference import COUNCIL, MOUNTAIN, assert_rows_match, grid_changes, reference_rows


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    baseline = tmp_path / "qn.json"
    baseline.write_text(quang_nam_2023().to_json(), encoding="utf-8")
    variants = tmp_path / "variants.json"
    variants.write_text(json.dumps({"grid": {"mountain": MOUNTAIN, "council": COUNCIL}}), encoding="utf-8")
    return baseline, variants


def test_the_command_writes_one_row_per_variant(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    baseline, variants = files
    out = baseline.parent / "results.parquet"
    chart = baseline.parent / "tornado.png"
    args = ["sweep", str(baseline), str(variants), "--workers", "2", "--out", str(out), "--tornado", str(chart)]
    code, stdout, stderr = _run(args, capsys)
    assert code == 0, stderr
    frame = pd.read_parquet(out)
    expected = reference_rows(
        quang_nam_2023(), [c for _, c in grid_changes({"mountain": MOUNTAIN, "council": COUNCIL})]
    )
    assert_rows_match(frame, expected)
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert "4 variants: 4 with a plan, 0 without" in stdout
    assert "mountain" in stdout and "sweep" in stderr  # the progress bar
    assert f"wrote 4 results to {out}" in stderr
    # never over a file without --force, and the same run with --force replaces it
    before = out.read_bytes()
    code, _, stderr = _run(args, capsys)
    assert code == 2 and "already exists: add --force to replace it" in stderr and "Traceback" not in stderr
    assert out.read_bytes() == before
    code, _, stderr = _run([*args, "--force", "--no-progress"], capsys)
    assert code == 0 and "sweep:" not in stderr


def test_the_command_never_writes_over_its_inputs(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    baseline, variants = files
    before = variants.read_bytes()
    code, _, stderr = _run(["sweep", str(baseline), str(variants), "--out", str(variants), "--force"], capsys)
    assert code == 2 and "is an input of this run" in stderr
    assert variants.read_bytes() == before


def test_bad_variants_exit_2_naming_the_path_in_both_languages(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    baseline, variants = files
    variants.write_text(json.dumps({"grid": {"mountain": {"values": [0.8, "x"], "changes": MOUNTAIN["changes"]}}}))
    out = baseline.parent / "r.parquet"
    code, _, stderr = _run(["sweep", str(baseline), str(variants), "--out", str(out)], capsys)
    assert code == 2 and "Traceback" not in stderr and not out.exists()
    assert f"{variants}: invalid variants: 1 problem" in stderr
    assert "grid.mountain.values[1][0].factor: Input should be a valid decimal (got 'x')" in stderr
    code, _, stderr = _run(["sweep", str(baseline), str(variants), "--out", str(out), "--lang", "vi"], capsys)
    assert code == 2
    assert "danh sách phương án không hợp lệ: 1 lỗi" in stderr
    assert "grid.mountain.values[1][0].factor:" in stderr and "invalid variants" not in stderr
    code, _, stderr = _run(["sweep", str(baseline), str(variants), "--out", str(out), "--workers", "0"], capsys)
    assert code == 2 and "--workers: must be at least 1: '0'" in stderr


def test_help_documents_the_variants_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = _run(["sweep", "--help"], capsys)
    assert code == 0
    for words in (
        "the variants file (JSON)",
        '"$value"',
        "the variants file (CSV grid, .csv)",
        "--scheduler",
        "--resume",
    ):
        assert words in stdout, words


def test_an_interrupted_command_is_finished_with_resume(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline, variants = files
    out = baseline.parent / "results.parquet"
    args = ["sweep", str(baseline), str(variants), "--out", str(out), "--chunk-size", "1", "--no-progress"]
    assert _run(args, capsys)[0] == 0
    complete = pd.read_parquet(out)
    # as if interrupted after three of the four chunks: no results file, one chunk missing
    out.unlink()
    (baseline.parent / "results.sweep" / "rows" / "chunk-000002.parquet").unlink()
    code, _, stderr = _run(args, capsys)
    assert code == 2 and "holds an unfinished sweep: add --resume to finish it" in stderr
    code, _, stderr = _run([*args, "--resume"], capsys)
    assert code == 0, stderr
    assert "resumed: 3 of 4 chunks were already done" in stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(out).drop(columns=["apply_seconds", "solve_seconds", "seconds"]),
        complete.drop(columns=["apply_seconds", "solve_seconds", "seconds"]),
    )
    # Ctrl-C: the finished chunks are kept, and the message says how to finish
    import reallocate.sweep.command

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(reallocate.sweep.command, "sweep", interrupted)
    code, _, stderr = _run([*args[:-1], "--force", "--lang", "vi"], capsys)
    assert code == 130
    assert "bị ngắt: các phần đã xong được giữ trong" in stderr and "--resume" in stderr


def test_the_chart_never_replaces_the_results(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    baseline, variants = files
    out = baseline.parent / "same.parquet"
    code, _, stderr = _run(["sweep", str(baseline), str(variants), "--out", str(out), "--tornado", str(out)], capsys)
    assert code == 2 and "is the results file too" in stderr and not out.exists()
