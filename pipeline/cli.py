"""The ``aap`` command line. Each area registers its own sub-commands from its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

#: modules exposing ``register(subparsers)``; each adds its sub-commands
COMMAND_MODULES = (
    "pipeline.commands",
    "pipeline.bench",
    "transforms.commands",
    "warehouse.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aap", description="Calls for projects for CCAS/CIAS: harvest, "
                                     "classify, load, export.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
