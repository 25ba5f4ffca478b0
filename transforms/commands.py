"""``aap classify`` and ``aap eval`` (registered by ``pipeline.cli``)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import date
from pathlib import Path

import transforms
from transforms.classify import (
    benchmark,
    benchmark_records,
    benchmark_stream,
    classify_stream,
    default_workers,
)
from transforms.evaluate import DEFAULT_CORPUS, evaluate, format_report, load_corpus


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not YYYY-MM-DD") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "classify", help="classify calls given as JSON lines (deadlines, CCAS eligibility, themes, amounts)",
        description="Reads JSON lines with any of id, title, summary, description, eligibility, deadline_text, "
                    "as_of, source_tags; writes one JSON result per line (see transforms/README.md).")
    p.add_argument("--input", default="-", help="JSON-lines file, or - for stdin (default)")
    p.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    p.add_argument("--as-of", type=_date, default=None,
                   help="run date for lines without as_of (default: today)")
    p.add_argument("--workers", type=int, default=None, metavar="W",
                   help="worker processes (default: one per available core; 1 classifies in this process)")
    p.add_argument("--benchmark", type=int, metavar="N", default=0,
                   help="instead of classifying, time N records built from the labelled corpus and print "
                        "records/s")
    p.set_defaults(func=cmd_classify)

    e = subparsers.add_parser("eval", help="score the classifiers on the labelled corpus",
                              description="Runs every case of the labelled corpus through aap classify's code "
                                          "path; prints accuracy per field and the eligibility confusion matrix.")
    e.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory or .jsonl file")
    e.add_argument("--failures", action="store_true", help="list every wrong answer")
    e.set_defaults(func=cmd_eval)


def cmd_classify(args: argparse.Namespace) -> int:
    as_of = args.as_of or date.today()  # the CLI is the one place where "today" is read
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        print("aap classify: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.benchmark:
        cases = load_corpus(DEFAULT_CORPUS)
        if not cases:
            print("no corpus cases to benchmark with", file=sys.stderr)
            return 2
        objs = benchmark_records([c["input"] for c in cases], args.benchmark)
        result = benchmark(objs, default_as_of=as_of)
        print(f"aap classify: {result['records']} records (description ~{result['chars_per_record']:,.0f} chars) "
              f"in {result['cpu_seconds']:.2f} s CPU ({result['seconds']:.2f} s wall) = "
              f"{result['records_per_s']:,.0f} records/s on one core ({transforms.IMPLEMENTATION})")
        print(f"machine reference: sum(range(1000)) takes {result['reference_us']:.1f} µs CPU here "
              "(scale the figure above by it to compare machines)")
        stream = benchmark_stream(objs, default_as_of=as_of, workers=workers)
        print(f"aap classify end to end (JSON lines in, JSON lines out, {workers} worker process"
              f"{'es' if workers > 1 else ''}, start-up included): {stream['records']} records in "
              f"{stream['seconds']:.2f} s wall = {stream['records_per_s']:,.0f} records/s")
        return 0
    with contextlib.ExitStack() as stack:
        src = sys.stdin if args.input == "-" else stack.enter_context(open(args.input, encoding="utf-8"))
        dst = sys.stdout if args.output == "-" else stack.enter_context(
            open(args.output, "w", encoding="utf-8"))
        n, errors = classify_stream(src, dst, default_as_of=as_of, workers=workers)
    print(f"classified {n} lines, {errors} errors", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        cases = load_corpus(args.corpus)
    except (OSError, ValueError) as exc:
        print(f"aap eval: {exc}", file=sys.stderr)
        return 2
    print(format_report(evaluate(cases), show_failures=args.failures))
    return 0
