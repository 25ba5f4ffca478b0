"""Sub-commands of the warehouse area: ``aap export weekly``, ``aap snapshot``, ``aap migrate``."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import duckdb

from pipeline import schema, settings
from warehouse.db import WarehouseError, migrate
from warehouse.exports.weekly import FORMATS, export_weekly
from warehouse.snapshot import publish


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data folder (default: $AAP_DATA_DIR or ./data)")
    parser.add_argument("--warehouse", help="warehouse file (default: <data>/warehouse.duckdb)")


def register(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export", help="export calls from the warehouse snapshot")
    kinds = export.add_subparsers(dest="export_kind", required=True, metavar="KIND")
    weekly = kinds.add_parser("weekly", help="this week's digest: new, closing within 14 days, changed")
    _add_paths(weekly)
    weekly.add_argument("--db", help="database to read (default: the read-only snapshot)")
    weekly.add_argument("--week", help="ISO week such as 2026-W48 (default: the 7 days ending now)")
    weekly.add_argument("--region", help="INSEE region code, e.g. 84 (nationwide calls are kept)")
    weekly.add_argument("--departement", help="department code, e.g. 69 (nationwide calls are kept)")
    weekly.add_argument("--theme", action="append", type=_csv_list, default=[],
                        help=f"theme slug(s), repeatable or comma-separated: {', '.join(schema.THEMES)}")
    weekly.add_argument("--ccas", type=_csv_list, help="CCAS classes to keep, e.g. explicit,likely")
    weekly.add_argument("--format", choices=sorted(FORMATS), default="html")
    weekly.add_argument("--output", help="file to write (default: <data>/exports/weekly-<week>.<format>)")
    weekly.add_argument("--delimiter", choices=[",", ";"], default=",",
                        help="CSV delimiter (';' for French Excel)")
    weekly.set_defaults(func=cmd_export_weekly)

    snap = subparsers.add_parser("snapshot", help="publish the read-only copy of the warehouse analysts open")
    _add_paths(snap)
    snap.set_defaults(func=cmd_snapshot)

    mig = subparsers.add_parser("migrate", help="apply pending warehouse migrations")
    _add_paths(mig)
    mig.set_defaults(func=cmd_migrate)


def _paths(args: argparse.Namespace) -> settings.Paths:
    return settings.paths(args.data_dir, args.warehouse)


def cmd_export_weekly(args: argparse.Namespace) -> int:
    paths = _paths(args)
    db = Path(args.db) if args.db else paths.snapshot
    themes = [t for group in args.theme for t in group] or None
    now = datetime.now(settings.TIMEZONE)
    output = Path(args.output) if args.output else None
    if output is None:
        week = args.week or now.strftime("%G-W%V")
        output = paths.exports_dir / f"weekly-{week}.{args.format}"
    try:
        written = export_weekly(db, now=now, week=args.week, region=args.region, departement=args.departement,
                                themes=themes, ccas=args.ccas, fmt=args.format, output=output,
                                csv_delimiter=args.delimiter)
    except (ValueError, WarehouseError) as exc:
        print(f"aap export weekly: {exc}", file=sys.stderr)
        return 2
    print(written)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    paths = _paths(args)
    try:
        print(publish(paths.warehouse, paths.snapshot))
    except WarehouseError as exc:
        print(f"aap snapshot: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    paths = _paths(args)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(paths.warehouse))
    except duckdb.Error as exc:
        print(f"aap migrate: cannot open {paths.warehouse}: {exc}", file=sys.stderr)
        return 2
    try:
        applied = migrate(con)
        versions = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    except WarehouseError as exc:
        print(f"aap migrate: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    for version, name in versions:
        print(f"{version:03d} {name}{'  (applied now)' if name in applied else ''}")
    return 0
