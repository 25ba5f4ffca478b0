"""The HTML digest rendered by headless Chromium: the screenshot is not blank and the page shows the calls."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.warehouse.factory import at, batch, record
from warehouse.exports.weekly import export_weekly
from warehouse.load import load_harvest
from warehouse.snapshot import publish

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="chromium not installed (make chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is required when CI is set"
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120, check=True)


def png_pixels(data: bytes) -> list[list[tuple[int, int, int]]]:
    """The RGB pixels, row by row, of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return [[tuple(r[i:i + 3]) for i in range(0, stride, bpp)] for r in rows]


def test_html_digest_renders_in_chromium(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    calls = [record(native_id="bien-vieillir", title="Bien vieillir en Nouvelle-Aquitaine 2027"),
             record(native_id="numerique", title="Inclusion numérique des seniors", deadlines=["2026-12-01"],
                    ccas_eligibility="likely"),
             record(native_id="hostile", title="<script>document.body.innerHTML=''</script>Aide aux aidants")]
    now = at("2026-11-23")
    load_harvest(db, [batch("region_nouvelle_aquitaine", calls)], now=now, run_id="r1")
    snap = publish(db, tmp_path / "snapshot.duckdb")
    page = export_weekly(snap, now=now, fmt="html", output=tmp_path / "digest.html")

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=800,1400", "--hide-scrollbars", page.as_uri())
    rows = png_pixels(shot.read_bytes())
    assert (len(rows[0]), len(rows)) == (800, 1400)
    sample = [px for row in rows[::7] for px in row[::5]]
    background = rows[2][2]
    assert len(set(sample)) > 20, "the screenshot has almost no colours: blank page"
    assert sum(px != background for px in sample) > 0.2 * len(sample), "the page is mostly empty"

    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "Bien vieillir en Nouvelle-Aquitaine 2027" in dom
    assert "Inclusion numérique des seniors" in dom
    assert "Aide aux aidants" in dom and "&lt;script&gt;" in dom
