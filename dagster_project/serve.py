"""Start the Dagster UI and daemon (``dagster dev``) on 127.0.0.1 with a persistent DAGSTER_HOME under the
data folder; what ``make dagster`` runs.

    python -m dagster_project.serve [--data-dir data] [--port 3000]

The instance settings (``dagster_project/dagster.yaml``: the ``duckdb_writer`` pool limited to one step
at a time, two concurrent runs) are copied into DAGSTER_HOME on every start, so the file in the
repository is the one in force. Run history stays in ``<data>/dagster_home``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

INSTANCE_CONFIG = Path(__file__).resolve().parent / "dagster.yaml"


def prepare_home(data_dir: Path) -> Path:
    """Create ``<data>/dagster_home`` with the project's instance settings; returns it."""
    home = data_dir.resolve() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")
    return home


def command(port: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "dagster", "dev", "-m", "dagster_project.definitions", "-h", host,
            "-p", str(port)]


def environment(data_dir: Path) -> dict[str, str]:
    """The environment of ``dagster dev``: DAGSTER_HOME and the data folder the assets write to."""
    return {**os.environ, "DAGSTER_HOME": str(prepare_home(data_dir)), "AAP_DATA_DIR": str(data_dir.resolve())}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m dagster_project.serve", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path(os.environ.get("AAP_DATA_DIR", "data")))
    ap.add_argument("--port", type=int, default=int(os.environ.get("DAGSTER_PORT", "3000")))
    args = ap.parse_args(argv)
    env = environment(args.data_dir)
    cmd = command(args.port)
    print(f"Dagster UI on http://127.0.0.1:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True)
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
