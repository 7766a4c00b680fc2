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
from typing import NoReturn

from . import __version__
from .errors import ReallocateError, ScenarioError
from .plan import Plan
from .report import describe_scenario, text_report
from .scenario import Scenario, load
from .solving import SOLVERS, solve

EXIT_PLAN, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reallocate", description="Reallocate public capital so that as little as possible lapses.")
    p.add_argument("--version", action="version", version=f"reallocate {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def output_options(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
        cmd.add_argument("--out", metavar="FILE", help="write the output to FILE instead of standard output")
        cmd.add_argument("--solver", choices=SOLVERS, default="highs", help="LP solver (default: highs)")
        cmd.add_argument("--time-limit", type=_seconds, metavar="S", help="stop after S seconds with the best plan")

    s = sub.add_parser("solve", help="solve a scenario JSON file")
    s.add_argument("file", metavar="FILE", help="scenario JSON file")
    output_options(s)
    d = sub.add_parser("demo", help="solve the bundled Quảng Nam 2023 scenario")
    output_options(d)
    v = sub.add_parser("validate", help="check a scenario JSON file and list every problem")
    v.add_argument("file", metavar="FILE")
    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return p


def _fail(message: str, code: int) -> int:
    print(f"reallocate: {message}", file=sys.stderr)
    return code


def _read(path: str) -> Scenario:
    return load(path)


def _emit(plan: Plan, fmt: str, out: str | None) -> None:
    text = plan.to_json() + "\n" if fmt == "json" else text_report(plan)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        print(f"reallocate: wrote {fmt} plan to {out} (status {plan.status})", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        print(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2, ensure_ascii=False))
        return EXIT_PLAN
    if args.command == "validate":
        scenario = _read(args.file)
        print(f"{args.file}: {describe_scenario(scenario)}")
        return EXIT_PLAN
    if args.command == "demo":
        from .datasets import quang_nam_2023

        scenario = quang_nam_2023()
    else:
        scenario = _read(args.file)
    plan = solve(scenario, solver=args.solver, time_limit=args.time_limit)
    _emit(plan, args.format, args.out)
    if not plan.found:
        print(f"reallocate: no plan ({plan.status}): {plan.message}", file=sys.stderr)
        return EXIT_NO_PLAN
    if plan.status == "error":
        return EXIT_NO_PLAN
    return EXIT_PLAN


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ScenarioError as exc:
        where = getattr(args, "file", None)
        head = f"{where}: " if where else ""
        lines = [f"{head}{exc.title}: {len(exc.errors)} problem{'s' if len(exc.errors) != 1 else ''}"]
        lines += [f"  {m}" for m in exc.messages]
        return _fail("\n".join(lines), EXIT_BAD_INPUT)
    except OSError as exc:
        return _fail(f"cannot read or write {exc.filename or ''}: {exc.strerror or exc}", EXIT_BAD_INPUT)
    except ReallocateError as exc:
        return _fail(str(exc), EXIT_NO_PLAN)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_NO_PLAN)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as command-line tools do
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PLAN
    except Exception as exc:  # an internal bug: say so briefly; REALLOCATE_DEBUG=1 shows the traceback
        if os.environ.get("REALLOCATE_DEBUG"):
            raise
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with REALLOCATE_DEBUG=1 and report it", EXIT_NO_PLAN
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
