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


#: commands that crawl: the crawl server (its imports of Scrapy take most of a second) starts before the
#: command line's own imports, which it does not need, unless every source's crawl may be a revalidation
#: without Scrapy (``crawlserver.start_unless_planned``)
CRAWLING_COMMANDS = ("harvest", "demo")


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words and words[0] in CRAWLING_COMMANDS and "-h" not in words and "--help" not in words:
        from pipeline import crawlserver
        from pipeline.commands import add_common_arguments
        from pipeline.settings import paths

        early = argparse.ArgumentParser(add_help=False)  # the data folder and sources the command will use
        add_common_arguments(early)
        known = early.parse_known_args(words[1:])[0]
        crawlserver.start_unless_planned(paths(known.data_dir).raw_dir, known.sources)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The ``aap`` command (the console script): :func:`main`, then the process's exit."""
    from pipeline import gcpause

    gcpause.exit_with(main())


if __name__ == "__main__":
    run()
