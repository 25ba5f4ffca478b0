"""HTML email digest: table layout and inline CSS (what email clients keep); every scraped string is
escaped by the template engine, and only http(s) links are emitted."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline import settings
from warehouse.exports.digest import Digest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_COLOURS = {"explicit": "#2e7d32", "likely": "#7cb342", "via_commune": "#f9a825", "unknown": "#9e9e9e",
            "not_eligible": "#c62828"}


def safe_url(url: str | None) -> str:
    """The URL if it is http(s), otherwise ``#`` (no ``javascript:`` or ``data:`` links)."""
    text = (url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else "#"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_url"] = safe_url
    env.globals["ccas_colour"] = lambda cls: _COLOURS.get(cls, "#9e9e9e")
    return env


def filter_text(digest: Digest) -> str:
    f = digest.filters
    parts = ([f"région {f['region']}"] if f["region"] else []) + (
        [f"département {f['departement']}"] if f["departement"] else []) + (
        [f"thèmes {', '.join(f['themes'])}"] if f["themes"] else []) + (
        [f"éligibilité {', '.join(f['ccas'])}"] if f["ccas"] else [])
    return ", ".join(parts)


def render(digest: Digest) -> str:
    local = Digest(**{**digest.__dict__,
                      "start": digest.start.astimezone(settings.TIMEZONE),
                      "end": digest.end.astimezone(settings.TIMEZONE),
                      "generated_at": digest.generated_at.astimezone(settings.TIMEZONE)})
    return environment().get_template("weekly.html.j2").render(digest=local, filter_text=filter_text(digest))


def write(digest: Digest, path: Path) -> Path:
    path.write_text(render(digest), encoding="utf-8")
    return path
