"""The ``reallocate`` command.

Exit codes: 0 a plan was found (optimal, or time_limit with a plan); 1 no plan (infeasible, solver
error); 2 bad input or usage (the message names the field; never a traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .errors import ReallocateError, ScenarioError

if TYPE_CHECKING:
    from .plan import Plan
    from .scenario import Scenario
    from .uncertainty.risk import Risk

EXIT_PLAN, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2
# kept here (not imported) so that `reallocate --help` loads nothing heavy; tests check they agree
LANGS = ("en", "vi")
SOLVERS = ("highs", "cbc")


#: the language of the messages on standard error (``--lang``, read before the options are parsed,
#: so that a usage error is in the reader's language too)
_LANG = "en"


def _tr(message: str) -> str:
    if _LANG == "en":
        return message
    from .messages import translate

    return translate(message, _LANG)


def _say(message: str) -> None:
    print(f"reallocate: {_tr(message)}", file=sys.stderr)


def _lang_of(argv: Sequence[str]) -> str:
    for k, arg in enumerate(argv):
        if arg == "--lang" and k + 1 < len(argv) and argv[k + 1] in LANGS:
            return argv[k + 1]
        if arg.startswith("--lang=") and arg.split("=", 1)[1] in LANGS:
            return arg.split("=", 1)[1]
    return "en"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        word = "lỗi" if _LANG == "vi" else "error"
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {word}: {_tr(message)}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _whole(text: str, least: int, most: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not least <= value <= most:
        raise argparse.ArgumentTypeError(f"must be a whole number from {least:,} to {most:,}: {text!r}")
    return value


#: most draws ``--risk-samples`` may ask (each is one sum over the lines)
MAX_RISK_SAMPLES = 1_000_000


def _risk_samples(text: str) -> int:
    return _whole(text, 1, MAX_RISK_SAMPLES)


def _seed(text: str) -> int:
    return _whole(text, 0, 2**32 - 1)


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # also NaN
        raise argparse.ArgumentTypeError(f"must be a rate from 0 to 1 (0.9 is 90%): {text!r}")
    return value


#: options of a plan made for a capacity forecast, with their defaults (used only with --history)
FORECAST_DEFAULTS: dict[str, Any] = {
    "forecast_method": "ratio",
    "objective": "expected",
    "risk_samples": 10_000,
    "seed": 0,
    "target": 0.9,
}


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


SWEEP_EPILOG = """\
the variants file (JSON):
  a list of variants, each a list of what-if changes (see `reallocate schema --changes`),
  or {"name": "...", "changes": [...], "axes": {"axis": value}}:
    [[{"kind": "scale_capacity", "where": {"tag": {"mountainous": true}}, "factor": 0.8}],
     {"name": "council", "changes": [{"kind": "set_rules", "rules": {"pool_by": ["fund"]}}]}]
  or {"variants": [...]}, or a grid: every combination of one value of each axis,
    {"grid": {
      "mountain": {"values": [0.6, 0.7, 0.8, 0.9, 1],
                   "changes": [{"kind": "scale_capacity", "where": {"tag": {"mountainous": true}},
                                "factor": "$value"}]},
      "council": {"off": [], "on": [{"kind": "set_rules", "rules": {"move_costs": {"program": 5}}}]}}}
  "$value" in an axis's changes stands for each of its values; [] is a value that changes nothing.

the variants file (CSV grid, .csv):
  one row per change of an axis value; columns axis, value, kind and the change's fields
  (where, factor, flag, weight, values, rate, rules; where/rules/values cells are JSON):
    axis,value,kind,where,factor
    mountain,0.6,scale_capacity,"{""tag"": {""mountainous"": true}}",0.6
    mountain,1,,,
  rows of the same axis and value add up; an empty kind is a value that changes nothing.

results (--out FILE.parquet): one row per variant: variant, name, each axis, status, message,
  the plan's summary (allocated ... rate_after), apply_seconds, solve_seconds, seconds, chunk.
  A variant without a plan is a row with its status (invalid, infeasible, failed) and message.
  Finished chunks are kept in FILE.sweep/ beside it (and the plans, with --keep-plans): a sweep
  that was interrupted is finished with --resume, without solving those chunks again.
"""


FORMATS = ("text", "json", "html", "excel", "csv", "parquet")
_SUFFIX_FORMAT = {
    ".json": "json",
    ".html": "html",
    ".htm": "html",
    ".xlsx": "excel",
    ".txt": "text",
    ".parquet": "parquet",
}


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reallocate", description="Reallocate public capital so that as little as possible lapses.")
    p.add_argument("--version", action="version", version=f"reallocate {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def force_option(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--force",
            action="store_true",
            help="replace output files that already exist (an input file is never replaced)",
        )

    def lang_option(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--lang", choices=LANGS, default="en", help="labels in English or Vietnamese (default: en)")

    def output_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--format",
            choices=FORMATS,
            help="text, json, html, excel (.xlsx), csv (a folder) or parquet (a folder, or a .parquet file with "
            "its transfers beside it); default: from --out's suffix, else text",
        )
        cmd.add_argument(
            "--compact",
            action="store_true",
            help="json: one line, no spaces, transfers naming their lines by position (national plans)",
        )
        cmd.add_argument(
            "--explain-text",
            action="store_true",
            help="json: add each line's explanation sentence to its reason code",
        )
        cmd.add_argument(
            "--out", metavar="PATH", help="write the output to PATH instead of standard output ('-': standard output)"
        )
        force_option(cmd)
        lang_option(cmd)
        cmd.add_argument("--charts", metavar="DIR", help="also write the three charts as PNG files into DIR")
        cmd.add_argument("--changes", metavar="FILE", help="what-if changes (JSON list) applied to the scenario first")
        cmd.add_argument("--solver", choices=SOLVERS, default="highs", help="LP solver (default: highs)")
        cmd.add_argument("--time-limit", type=_seconds, metavar="S", help="stop after S seconds with the best plan")
        g = cmd.add_argument_group("capacity as a forecast (see docs/uncertainty.md)")
        g.add_argument(
            "--history",
            metavar="FILE",
            help="disbursement history (.csv, .json, .xlsx, .parquet): forecast the capacities, plan for the "
            "forecast and report the risk of lapse",
        )
        g.add_argument("--as-of", metavar="YYYY-MM", help="with --history: the month of the last report to use")
        g.add_argument(
            "--forecast-method", choices=("ratio", "logistic"), help="with --history: ratio (default) or logistic"
        )
        g.add_argument(
            "--objective",
            choices=("expected", "quantile", "cvar"),
            help="with --history: how to plan for the forecast (default: expected)",
        )
        g.add_argument(
            "--risk-samples",
            type=_risk_samples,
            metavar="N",
            help="with --history: simulated years to weigh the plan on (default: 10000)",
        )
        g.add_argument(
            "--seed", type=_seed, metavar="N", help="with --history: seed of the simulated years (default 0)"
        )
        g.add_argument(
            "--target",
            type=_rate,
            metavar="RATE",
            help="with --history: the disbursement rate whose shortfall is reported (default: 0.9)",
        )

    s = sub.add_parser("solve", help="solve a scenario (JSON, Excel, Parquet, or a folder of CSV or Parquet files)")
    s.add_argument(
        "file",
        metavar="FILE",
        help="scenario: .json, .xlsx, .parquet, or a folder with lines.csv or lines.parquet "
        "('-': JSON on standard input)",
    )
    output_options(s)
    d = sub.add_parser("demo", help="solve the bundled Quảng Nam 2023 scenario")
    output_options(d)
    v = sub.add_parser("validate", help="check a scenario file and list every problem")
    v.add_argument("file", metavar="FILE")
    lang_option(v)
    sc = sub.add_parser("schema", help="print the JSON Schema of scenario files (or of what-if changes, or plans)")
    which = sc.add_mutually_exclusive_group()
    which.add_argument("--changes", action="store_true", help="the schema of what-if change lists instead")
    which.add_argument("--plan", action="store_true", help="the schema of plan JSON (solve --format json) instead")
    t = sub.add_parser("template", help="write an empty, documented Excel template to fill in")
    t.add_argument("file", metavar="FILE.xlsx")
    force_option(t)
    lang_option(t)
    sv = sub.add_parser("serve", help="run the solver service (HTTP API and the planner's page)")
    sv.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others need API keys)"
    )
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument("--workers", type=int, help="solver processes (default: cores - 1, at least 1)")
    sv.add_argument("--db", metavar="FILE", help="SQLite file of jobs and plans (default reallocate-jobs.sqlite3)")
    sv.add_argument("--api-keys-file", metavar="FILE", help="API keys, one per line (or REALLOCATE_API_KEYS)")
    sv.add_argument("--max-lines", type=int, help="most lines per scenario (default 1,000,000)")
    sv.add_argument("--max-body-bytes", type=int, help="largest request body (default 64 MiB)")
    sv.add_argument("--max-time-limit", type=float, help="largest time_limit a request may ask (default 600 s)")
    sv.add_argument("--max-queued", type=int, help="queued jobs before 429 (default 200)")
    sv.add_argument("--retention", type=float, help="seconds finished jobs are kept (default 7 days)")
    sv.add_argument(
        "--inline-validation-bytes",
        type=int,
        help="JSON bodies up to this size are validated on arrival, larger ones by a solver process (default 1 MB)",
    )
    sv.add_argument(
        "--big-lines",
        type=int,
        help="jobs of this many lines or more wait in the big lane: small jobs go first (default 50,000)",
    )
    sv.add_argument("--worker-nice", type=int, help="niceness of the solver processes (default 5)")
    sv.add_argument(
        "--worker-memory-mb", type=int, help="address-space cap of each solver process in MiB (default: none)"
    )
    c = sub.add_parser("compare", help="compare plans (plan JSON files, or scenario files to solve)")
    c.add_argument("files", metavar="FILE", nargs="+", help="two or more plan or scenario files")
    c.add_argument("--names", help="comma-separated names of the plans (default: A, B, ...)")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--out", metavar="FILE", help="write the comparison to FILE ('-': standard output)")
    force_option(c)
    c.add_argument("--top", type=int, default=15, help="changed lines and transfers to list (default: 15)")
    c.add_argument("--solver", choices=SOLVERS, default="highs", help="solver for scenario files (default: highs)")
    lang_option(c)
    sw = sub.add_parser(
        "sweep",
        help="solve many what-ifs of one scenario (a grid or a list), on this machine's cores or a Dask cluster",
        description="Solve every variant of BASELINE exactly as `solve` would; one row of results per variant.",
        epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sw.add_argument("baseline", metavar="BASELINE", help="the scenario every variant starts from (as solve reads it)")
    sw.add_argument("variants", metavar="VARIANTS", help="the variants: a JSON file, or a CSV grid (see below)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_count, metavar="N", help="local worker processes (default: one per core)")
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://HOST:8786 (pip install reallocate[cluster])",
    )
    sw.add_argument("--out", metavar="FILE.parquet", required=True, help="the results: one row per variant")
    sw.add_argument("--chunk-size", type=_count, metavar="N", help="variants per task (default: ~4 tasks per worker)")
    sw.add_argument("--keep-plans", action="store_true", help="also keep every plan's lines and transfers (Parquet)")
    sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep (same inputs and --out)")
    force_option(sw)
    sw.add_argument("--tornado", metavar="FILE.png", help="also draw what moves the disbursement rate most")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")
    sw.add_argument("--solver", choices=SOLVERS, default="highs", help="LP solver (default: highs)")
    sw.add_argument("--time-limit", type=_seconds, metavar="S", help="stop each solve after S seconds")
    lang_option(sw)
    f = sub.add_parser("forecast", help="forecast each line's capacity from its disbursement history, with a backtest")
    f.add_argument("file", metavar="HISTORY", help="history: .csv, .json, .xlsx or .parquet (see docs/forecast.md)")
    f.add_argument("--as-of", required=True, metavar="YYYY-MM", help="the month of the last report to use")
    f.add_argument("--deadline", metavar="YYYY-MM", help="the deadline (default: January of the next year)")
    f.add_argument("--method", choices=("ratio", "logistic"), default="ratio", help="ratio-to-date or logistic")
    f.add_argument("--out", metavar="FILE.csv", help="write the forecast per line to FILE.csv")
    f.add_argument("--backtest-out", metavar="FILE.csv", help="write the backtest table to FILE.csv")
    f.add_argument("--no-backtest", action="store_true", help="skip the leave-one-year-out backtest")
    f.add_argument("--unit", help="unit of the amounts of a CSV, Excel or Parquet history (default: million VND)")
    f.add_argument("--precision", help="smallest amount of such a history (default: 1)")
    force_option(f)
    lang_option(f)
    return p


def _forecast(args: argparse.Namespace) -> int:
    outputs = [Path(p) for p in (args.out, args.backtest_out) if p]
    if len({o.resolve() for o in outputs}) < len(outputs):
        raise _UsageError("--out and --backtest-out name the same file")
    _check_outputs(args, outputs, [args.file])
    from .uncertainty.run import run_forecast

    text, written = run_forecast(
        args.file,
        as_of=args.as_of,
        deadline=args.deadline,
        method=args.method,
        out=args.out,
        backtest_out=None if args.no_backtest else args.backtest_out,
        with_backtest=not args.no_backtest,
        unit=args.unit,
        precision=args.precision,
        lang=args.lang,
    )
    sys.stdout.write(text)
    for what, path in written:
        _say(f"wrote the {what} to {path}")
    return EXIT_PLAN


def _json_error(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """With ``--format json``, a refusal is also a JSON document on standard output (for programs
    that call the CLI); the sentence for people still goes to standard error."""
    if getattr(args, "format", None) != "json":
        return
    # a lone surrogate (refused input) cannot be UTF-8: written as its JSON escape, \ud800
    data = (json.dumps(document, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _fail(message: str, code: int) -> int:
    _say(message)
    return code


def _read(path: str) -> Scenario:
    if path == "-":  # a JSON scenario on standard input
        from .scenario import Scenario

        return Scenario.from_json(sys.stdin.buffer.read())
    from .io import read_scenario

    return read_scenario(path)


def _outputs(args: argparse.Namespace, fmt: str) -> list[Path]:
    """Every path this run would write (the plan's files and the charts)."""
    out: list[Path] = []
    if getattr(args, "out", None):
        target = Path(args.out)
        if fmt == "parquet" and target.suffix.lower() == ".parquet":
            stem = target.with_suffix("")
            out += [target, stem.with_name(stem.name + ".transfers.parquet"), stem.with_name(stem.name + ".json")]
        else:
            out.append(target)
    if getattr(args, "charts", None):
        out += [Path(args.charts) / f"{kind}.png" for kind in ("absorbable", "flows", "lapse")]
    return out


def _check_outputs(args: argparse.Namespace, outputs: list[Path], inputs: list[str]) -> None:
    """Before any work: never write over an input, nor over an existing file without --force."""
    sources = [Path(i).resolve() for i in inputs if i != "-"]
    for path in outputs:
        if not path.exists() or not (path.is_file() or path.is_dir()):
            continue  # new, or a device such as /dev/stdout: written in place
        full = path.resolve()
        for src in sources:
            if full == src or (path.is_dir() and full in src.parents):
                raise _UsageError(f"{path} is an input of this run: write the output somewhere else")
        if not args.force:
            raise _UsageError(f"{path} already exists: add --force to replace it")


def _format(args: argparse.Namespace) -> str:
    if args.out == "-":
        args.out = None  # '-' is standard output
    if args.format:
        return str(args.format)
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() in _SUFFIX_FORMAT:
            return _SUFFIX_FORMAT[out.suffix.lower()]
        if out.is_dir() or not out.suffix:
            return "csv"
    return "text"


def _write_text(text: str, out: str | None, what: str) -> None:
    if out:
        from .atomic import atomic_file

        with atomic_file(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
        _say(f"wrote {what} to {out}")
    else:
        sys.stdout.write(text)


def _forecast_options(args: argparse.Namespace) -> None:
    """The forecast's options need --history, which needs --as-of; then their defaults."""
    given = [name for name in ("as_of", *FORECAST_DEFAULTS) if getattr(args, name) is not None]
    if not args.history:
        if given:
            raise _UsageError(f"--{given[0].replace('_', '-')} needs --history")
        return
    if args.as_of is None:
        raise _UsageError("--history needs --as-of (the month of the last report to use, e.g. 2023-09)")
    for name, value in FORECAST_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def _emit(
    plan: Plan,
    fmt: str,
    out: str | None,
    lang: str,
    compact: bool = False,
    texts: bool = False,
    risk: Risk | None = None,
) -> None:
    if fmt in ("excel", "csv", "html", "parquet") and not out:
        raise _UsageError(f"--format {fmt} needs --out (a {'folder' if fmt in ('csv', 'parquet') else 'file'})")
    what = f"{fmt} plan (status {plan.status})"
    if fmt == "json":
        from .io.json import write_plan_json, write_plan_json_to

        if out:
            write_plan_json(plan, out, compact=compact, texts=texts, risk=risk)
            _say(f"wrote {what} to {out}")
        else:
            write_plan_json_to(plan, sys.stdout, compact=compact, texts=texts, risk=risk)
    elif fmt == "parquet":
        from .io.parquet import write_plan_parquet

        written = write_plan_parquet(plan, out, risk)  # type: ignore[arg-type]
        _say(f"wrote {what} to {', '.join(str(w) for w in written)}")
    elif fmt == "text":
        from .report import text_report

        _write_text(text_report(plan, lang, risk), out, what)
    elif fmt == "html":
        from .html import write_html

        write_html(plan, out, lang, risk)  # type: ignore[arg-type]
        _say(f"wrote {what} to {out}")
    elif fmt == "excel":
        from .io import write_excel

        write_excel(plan, out, lang, risk)  # type: ignore[arg-type]
        _say(f"wrote {what} to {out}")
    else:
        from .io import write_csv

        write_csv(plan, out, lang, risk)  # type: ignore[arg-type]
        _say(f"wrote {what} to {out}/")


class _UsageError(Exception):
    """Options that do not fit together (exit 2)."""


def _compare(args: argparse.Namespace) -> int:
    from ._decode import JSONError, parse_json
    from .comparison import PlanData, compare, looks_like_plan
    from .solving import solve

    if args.out == "-":
        args.out = None
    _check_outputs(args, [Path(args.out)] if args.out else [], list(args.files))
    plans: list[Any] = []
    for name in args.files:
        data: Any = None
        if Path(name).suffix.lower() == ".json":
            try:
                data = parse_json(Path(name).read_bytes())
            except JSONError:
                data = None  # read again as a scenario, which names the problem
        if looks_like_plan(data):
            try:
                plans.append(PlanData.from_dict(data))
            except ScenarioError as exc:
                exc.source = name  # type: ignore[attr-defined]
                raise
        else:
            # a scenario to solve (raises with the scenario's own problems)
            plans.append(solve(_read(name), solver=args.solver))
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    try:
        comparison = compare(*plans, names=names)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None
    text = comparison.to_json() + "\n" if args.format == "json" else comparison.text(lang=args.lang, top=args.top)
    if not text.endswith("\n"):
        text += "\n"
    _write_text(text, args.out, "comparison")
    return EXIT_PLAN


def _changes_file(args: argparse.Namespace) -> list[str]:
    return [args.changes] if getattr(args, "changes", None) else []


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        if args.changes:
            from .whatif import changes_schema

            schema = changes_schema()
        elif args.plan:
            from .plan_schema import plan_schema

            schema = plan_schema()
        else:
            from .scenario import Scenario

            schema = Scenario.model_json_schema(by_alias=True)
        print(json.dumps(schema, indent=2, ensure_ascii=False))
        return EXIT_PLAN
    if args.command == "validate":
        from .report import describe_scenario

        scenario = _read(args.file)
        print(f"{args.file}: {describe_scenario(scenario, args.lang)}")
        return EXIT_PLAN
    if args.command == "template":
        from .io import write_template

        _check_outputs(args, [Path(args.file)], [])
        write_template(args.file, args.lang)
        _say(f"wrote an empty template to {args.file}")
        return EXIT_PLAN
    if args.command == "compare":
        return _compare(args)
    if args.command == "sweep":
        from .sweep.command import run_sweep

        try:
            return run_sweep(args, _read, _say)
        except ValueError as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise _UsageError(str(exc)) from None
    if args.command == "forecast":
        return _forecast(args)
    if args.command == "serve":
        from .service import ServiceSettings, serve

        settings = ServiceSettings.from_environment(
            host=args.host,
            port=args.port,
            workers=args.workers,
            db=args.db,
            api_keys_file=args.api_keys_file,
            max_lines=args.max_lines,
            max_body_bytes=args.max_body_bytes,
            max_time_limit=args.max_time_limit,
            max_queued=args.max_queued,
            retention=args.retention,
            inline_validation_bytes=args.inline_validation_bytes,
            big_lines=args.big_lines,
            worker_nice=args.worker_nice,
            worker_memory_mb=args.worker_memory_mb,
        )
        serve(settings)
        return EXIT_PLAN
    if args.command == "demo":
        from .datasets import quang_nam_2023

        scenario = quang_nam_2023()
    else:
        scenario = _read(args.file)
    if args.changes:
        from .whatif import load_changes

        scenario = scenario.with_changes(*load_changes(args.changes))
    fmt = _format(args)
    _forecast_options(args)
    inputs = [] if args.command == "demo" else [args.file, *_changes_file(args)]
    _check_outputs(args, _outputs(args, fmt), inputs + ([args.history] if args.history else []))
    risk = None
    if args.history:
        from .uncertainty.run import plan_for_history

        try:
            plan, risk, notes = plan_for_history(
                scenario,
                args.history,
                as_of=args.as_of,
                method=args.forecast_method,
                objective=args.objective,
                samples=args.risk_samples,
                seed=args.seed,
                target=args.target,
                solver=args.solver,
                time_limit=args.time_limit,
            )
        except ScenarioError:  # the scenario, history or rules, each problem named
            raise
        except ValueError as exc:  # a forecast or plan the options cannot make (e.g. a CVaR LP too large)
            raise _UsageError(str(exc)) from None
        for note in notes:
            _say(note)
    else:
        from .solving import solve

        plan = solve(scenario, solver=args.solver, time_limit=args.time_limit)
    # the exit code says whether there is a plan, even when the reader of standard output goes away
    args.exit_code = EXIT_PLAN if plan.found and plan.status != "error" else EXIT_NO_PLAN
    _emit(plan, fmt, args.out, args.lang, args.compact, args.explain_text, risk)
    args.written = True  # the plan's output is complete (charts are extra files, each whole or absent)
    if args.charts and plan.found:
        from .charts import save_all

        written = save_all(plan, args.charts, args.lang)
        _say(f"wrote {len(written)} charts to {args.charts}/")
    if not plan.found:
        _say(f"no plan ({plan.status}): {plan.message}")
    return int(args.exit_code)


#: exit code of a run stopped by Ctrl-C before its output was complete (128 + SIGINT, as shells do)
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    global _LANG
    _LANG = _lang_of(sys.argv[1:] if argv is None else list(argv))
    args = _parser().parse_args(argv)
    try:
        code = _run(args)
        sys.stdout.flush()  # inside the try: a reader that went away is handled below, not at exit
        return code
    except ScenarioError as exc:
        where = getattr(exc, "source", None) or getattr(args, "file", None)
        head = f"{where}: " if where else ""
        n = len(exc.errors)
        lines = [f"{head}{_tr(f'{exc.title}: {n} problem' + ('s' if n != 1 else ''))}"]
        lines += [f"  {m}" for m in exc.messages_in(_LANG)]
        _json_error(args, {**exc.to_dict(_LANG), "file": where})
        print("reallocate: " + "\n".join(lines), file=sys.stderr)
        return EXIT_BAD_INPUT
    except _UsageError as exc:
        _json_error(args, {"status": "usage_error", "message": _tr(str(exc))})
        return _fail(str(exc), EXIT_BAD_INPUT)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as command-line tools do, but the
        # exit code still says whether there was a plan
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(getattr(args, "exit_code", EXIT_PLAN))
    except OSError as exc:
        where = exc.filename or getattr(args, "out", None) or getattr(args, "file", None) or "a file"
        message = f"cannot read or write {where}: {exc.strerror or exc}"
        _json_error(args, {"status": "io_error", "message": _tr(message), "file": str(where)})
        return _fail(message, EXIT_BAD_INPUT)
    except ReallocateError as exc:
        return _fail(str(exc), EXIT_NO_PLAN)
    except KeyboardInterrupt:
        if getattr(args, "written", False):  # the output was complete: the run's own code
            return int(args.exit_code)
        if args.command == "sweep":
            folder = Path(args.out).with_name(Path(args.out).stem + ".sweep")
            return _fail(f"interrupted: finished chunks are kept in {folder}; add --resume to finish", EXIT_INTERRUPTED)
        return _fail(
            "interrupted before the output was complete (a file named by --out is left as it was)", EXIT_INTERRUPTED
        )
    except Exception as exc:  # an internal bug: say so briefly; REALLOCATE_DEBUG=1 shows the traceback
        if os.environ.get("REALLOCATE_DEBUG"):
            raise
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with REALLOCATE_DEBUG=1 and report it", EXIT_NO_PLAN
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
