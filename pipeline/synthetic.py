"""A synthetic local portal of any size, for benchmarks and fault tests (127.0.0.1 only).

:class:`SyntheticPortal` serves ``N`` generated calls in the exact shapes the platform spiders parse, so a
harvest drives the real spiders through their ``base_url`` argument:

* ``ile_de_france``, ``pays_de_la_loire`` — OpenDataSoft v2.1 ``records`` JSON pages (``limit``/``offset``);
* ``nouvelle_aquitaine`` — an RSS 2.0 feed and one HTML detail page per call;
* ``grand_est`` — paginated HTML cards and one HTML detail page per call.

Everything is deterministic from ``seed``: the same seed gives byte-identical pages. Texts mix French
wordings of deadlines (numeric dates, dates in words with or without year, ranges, sessions, rolling
calls, distractor dates) and of eligibility (CCAS named, public bodies, communes only, associations
only, nothing said), with accents throughout.

Faults (:class:`Faults`, per source, drawn per URL from the seed): a share of 5xx answers (some
recovering after one or two attempts, some permanent), requests that hang past the client's timeout,
slow answers, truncated or malformed HTML, ISO-8859-1 pages with a missing or wrong charset, redirects,
giant pages, unparseable deadlines, ``robots.txt`` disallow rules, a source completely down. A change
between two harvests is :meth:`SyntheticPortal.advance`: a share of the calls get a new version.

Every 200 carries ``ETag`` and ``Last-Modified``; ``If-None-Match``/``If-Modified-Since`` get a 304.
The portal counts requests, statuses and bytes sent per source (:meth:`SyntheticPortal.stats`).

``python -m pipeline.synthetic --n 1000 --seed 7 [--port P]`` serves it until interrupted (the bench runs
it in its own process, so the portal's work is not counted in the harvest's memory). Control routes of
that mode: ``GET /_portal/stats``, ``POST /_portal/advance``, ``POST /_portal/reset-stats``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import math
import random
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

# --- French material -------------------------------------------------------------------------------

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
             "octobre", "novembre", "décembre")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

KINDS = ("Appel à projets", "Appel à manifestation d'intérêt", "Appel à candidatures", "Aide régionale",
         "Dispositif de soutien")
TOPICS = (
    ("Bien vieillir à domicile", "Personnes âgées", "Solidarité"),
    ("Lutte contre l'isolement des aînés", "Personnes âgées", "Solidarité"),
    ("Inclusion numérique des publics fragiles", "Numérique", "Solidarité"),
    ("Précarité énergétique et rénovation des logements", "Énergie", "Logement"),
    ("Accès aux droits et aux services publics", "Accès aux droits", "Solidarité"),
    ("Aide alimentaire et épiceries solidaires", "Alimentation", "Solidarité"),
    ("Habitat inclusif pour personnes en situation de handicap", "Handicap", "Logement"),
    ("Mobilité solidaire en milieu rural", "Mobilité", "Transports"),
    ("Insertion professionnelle des jeunes", "Emploi", "Jeunesse"),
    ("Soutien à la parentalité et à la petite enfance", "Famille", "Solidarité"),
    ("Hébergement d'urgence et accompagnement social", "Hébergement", "Logement"),
    ("Modernisation des résidences autonomie", "Personnes âgées", "Santé"),
    ("Économie sociale et solidaire dans les quartiers", "ESS", "Économie"),
    ("Prévention de la perte d'autonomie", "Santé", "Personnes âgées"),
    ("Égalité femmes-hommes et lutte contre les violences", "Égalité", "Solidarité"),
    ("Sport-santé pour les publics éloignés", "Sport", "Santé"),
    ("Tiers-lieux et cohésion sociale", "Cohésion sociale", "Territoires"),
    ("Santé mentale et écoute des personnes vulnérables", "Santé", "Solidarité"),
)
PLACES = ("Saint-Étienne", "Besançon", "Périgueux", "Angoulême", "Épinal", "Nancy", "Châlons-en-Champagne",
          "Créteil", "Évry-Courcouronnes", "Mont-de-Marsan", "Guéret", "Colmar", "Troyes", "Sèvres",
          "Vitry-le-François", "Pessac", "Niort", "Bar-le-Duc", "Sarreguemines", "Montreuil")
FUNDERS = ("La Région", "Le Conseil départemental", "L'Agence régionale de santé",
           "La Conférence des financeurs", "La Caisse d'allocations familiales", "La DREETS")
AMOUNTS = ("Subvention plafonnée à {a} €.", "Aide de {a} € maximum par projet.",
           "Montant : entre {b} € et {a} €.", "Jusqu'à {p} % des dépenses éligibles, dans la limite de {a} €.",
           "")
#: eligibility wordings by the class they express (see the CCAS classes of the record schema)
ELIGIBILITY = {
    "explicit": (
        "Peuvent candidater : les communes, les CCAS et CIAS, les associations.",
        "Bénéficiaires : centres communaux d'action sociale (CCAS) et centres intercommunaux d'action "
        "sociale (CIAS).",
        "Structures éligibles : Communes, CCAS ; EPCI ; associations loi 1901.",
    ),
    "likely": (
        "Structures éligibles : collectivités territoriales et leurs établissements publics.",
        "Tout organisme doté de la personnalité morale peut déposer un dossier.",
        "Sont éligibles les établissements et services sociaux et médico-sociaux.",
    ),
    "via_commune": (
        "Le dispositif est ouvert aux communes et aux établissements publics de coopération "
        "intercommunale.",
        "Bénéficiaires : collectivités territoriales et leurs groupements.",
    ),
    "not_eligible": (
        "Seules les associations loi 1901 peuvent déposer un dossier.",
        "Entreprises de moins de 50 salariés implantées dans la région.",
    ),
    "unknown": ("", "Les modalités figurent dans le règlement de l'appel."),
}
#: audience labels a portal would show for each class
AUDIENCE_LABELS = {
    "explicit": ("Communes", "CCAS / CIAS", "Associations"),
    "likely": ("Établissements publics", "Collectivités territoriales"),
    "via_commune": ("Communes", "Intercommunalités"),
    "not_eligible": ("Associations",),
    "unknown": (),
}
UNPARSEABLE_DEADLINES = ("Date limite : à préciser prochainement.", "Date limite de dépôt : le 32/13/2026.",
                         "Clôture : voir le calendrier de la commission.")


def fr_date(d: date, *, year: bool = True, weekday: bool = False) -> str:
    """``mercredi 11 février 2026`` style (``1er`` for the first of the month)."""
    day = "1er" if d.day == 1 else str(d.day)
    out = f"{day} {MONTHS_FR[d.month - 1]}" + (f" {d.year}" if year else "")
    return f"{WEEKDAYS_FR[d.weekday()]} {out}" if weekday else out


# --- generated calls -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SyntheticCall:
    """One generated call. ``deadlines`` are the submission dates the wording states (empty when rolling
    or unparseable); ``deadline_text`` is the wording a page shows."""

    source: str
    index: int
    version: int
    native_id: str
    slug: str
    title: str
    chapo: str
    objective: str
    eligibility_class: str
    eligibility_text: str
    audiences: tuple[str, ...]
    themes: tuple[str, ...]
    kind: str
    opens_on: date
    deadlines: tuple[date, ...]
    rolling: bool
    deadline_text: str
    amount_text: str
    published: datetime


def slug(text: str) -> str:
    """URL slug of a French title: ascii, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())[:60]


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def unit(*parts: Any) -> float:
    """A deterministic number in [0, 1) for ``parts`` (how faults are drawn per URL)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def generate_call(seed: int, source: str, index: int, *, version: int = 0, anchor: date = date(2026, 10, 1),
                  unparseable: bool = False) -> SyntheticCall:
    """The call number ``index`` of ``source``; ``version`` > 0 changes its texts and calendar."""
    base = _rng(seed, source, index)
    r = _rng(seed, source, index, version)
    topic, label_a, label_b = TOPICS[base.randrange(len(TOPICS))]
    place = PLACES[base.randrange(len(PLACES))]
    kind = KINDS[base.randrange(len(KINDS))]
    year = anchor.year + (1 if anchor.month >= 10 else 0)
    title = f"{kind} « {topic} » – {place} {year}"
    page_slug = slug(title)
    if version:
        title += f" (mise à jour {version})"
    cls = r.choice(tuple(ELIGIBILITY))
    elig = r.choice(ELIGIBILITY[cls])
    opens = anchor - timedelta(days=r.randrange(10, 200))
    close = anchor + timedelta(days=r.randrange(-60, 240))
    second = close + timedelta(days=r.randrange(45, 120))
    style = r.randrange(9)
    deadlines: tuple[date, ...] = (close,)
    rolling = False
    if unparseable:
        text, deadlines = r.choice(UNPARSEABLE_DEADLINES), ()
    elif style == 0:
        text = f"Date limite de dépôt : {close:%d.%m.%Y}"
    elif style == 1:
        text = f"Dépôt des dossiers jusqu'au {fr_date(close)} à 23h59."
    elif style == 2:
        text = f"Les candidatures sont à déposer avant le {fr_date(close, year=False, weekday=True)}."
    elif style == 3:
        text = f"Du {fr_date(opens)} au {fr_date(close)}."
    elif style == 4:
        text = f"Date limite du dépôt : {close:%d/%m/%Y}"
    elif style == 5:
        text = (f"Deux sessions : 1re session jusqu'au {fr_date(close)}, 2e session jusqu'au "
                f"{fr_date(second)}.")
        deadlines = (close, second)
    elif style == 6:
        text = r.choice(("Dépôt au fil de l'eau, toute l'année.", "Candidatures reçues en continu."))
        deadlines, rolling = (), True
    elif style == 7:
        text = (f"Passage en commission permanente le {fr_date(second)}. "
                f"Date limite de dépôt : {fr_date(close)}.")
    else:
        text = f"Clôture des candidatures le {fr_date(close, weekday=True).upper()}."
    amount = r.choice(AMOUNTS).format(a=f"{r.randrange(5, 150) * 1000:,}".replace(",", "\u202f"),
                                      b=f"{r.randrange(1, 5) * 1000:,}".replace(",", "\u202f"),
                                      p=r.choice((50, 70, 80)))
    chapo = (f"{r.choice(FUNDERS)} soutient les projets « {topic.lower()} » portés sur le "
             f"territoire de {place} et alentour.")
    objective = (f"L'appel vise à financer des actions innovantes : {label_a.lower()}, "
                 f"{label_b.lower()} et coopération entre acteurs locaux. {elig} "
                 f"Référence interne AAP-{source[:3].upper()}-{index:06d}.")
    return SyntheticCall(
        source=source, index=index, version=version, native_id=f"{source[:3]}-{seed}-{index:06d}",
        slug=page_slug,        title=title, chapo=chapo, objective=objective, eligibility_class=cls, eligibility_text=elig,
        audiences=AUDIENCE_LABELS[cls], themes=(label_a, label_b), kind=kind, opens_on=opens,
        deadlines=deadlines, rolling=rolling, deadline_text=text, amount_text=amount,
        published=datetime.combine(opens, datetime.min.time(), UTC) + timedelta(hours=9))


# --- faults ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Faults:
    """Faults of one source, each a share of its URLs (drawn per URL from the seed).

    ``error_rate`` URLs answer ``error_status``: of those, ``permanent_share`` fail on every attempt and
    the others recover after one or two. ``timeout_rate`` URLs hang ``hang_s`` seconds on the first
    attempt that would succeed (set it above the client's DOWNLOAD_TIMEOUT). With ``lists`` False, errors and timeouts
    spare the listing pages (feeds, API pages, card lists). HTML faults apply to detail pages only;
    ``latin1_kinds`` says how ISO-8859-1 pages announce themselves (see
    :meth:`SyntheticPortal.latin1_variant`). ``invalid_rate`` calls have an empty title in the listing
    (a broken dataset row: the record cannot be stored).
    """

    error_rate: float = 0.0
    error_status: int = 503
    permanent_share: float = 0.5
    timeout_rate: float = 0.0
    hang_s: float = 3.0
    slow_rate: float = 0.0
    slow_s: float = 0.2
    truncated_rate: float = 0.0
    malformed_rate: float = 0.0
    latin1_rate: float = 0.0
    redirect_rate: float = 0.0
    giant_rate: float = 0.0
    giant_bytes: int = 3 * 1024 * 1024
    bad_date_rate: float = 0.0
    invalid_rate: float = 0.0
    latin1_kinds: tuple[str, ...] = ("declared", "missing", "wrong")
    robots_disallow: tuple[str, ...] = ()
    down: bool = False
    lists: bool = True

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """``error_rate=0.2,timeout_rate=0.05,down=1`` → Faults (for the command line)."""
        kwargs: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key not in cls.__dataclass_fields__:
                raise ValueError(f"unknown fault {key!r}; known: {', '.join(cls.__dataclass_fields__)}")
            kind = type(getattr(cls(), key))
            kwargs[key] = (value.lower() in ("1", "true", "yes") if kind is bool else
                           tuple(v for v in value.split("|") if v) if kind is tuple else kind(value))
        return cls(**kwargs)


@dataclass(frozen=True)
class Reply:
    """One answer of the portal: status, headers, body and how long to wait before sending it."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0


def _text(status: int, message: str) -> Reply:
    return Reply(status, {"Content-Type": "text/plain; charset=utf-8"}, message.encode())


# --- page shapes -----------------------------------------------------------------------------------

class Shape:
    """How one source's portal lays out its calls: list pages, detail pages, live paths."""

    source: ClassVar[str] = ""
    #: how many calls one listing page holds
    page_size: ClassVar[int] = 100

    def __init__(self, portal: SyntheticPortal):
        self.portal = portal

    @property
    def n(self) -> int:
        return self.portal.sizes[self.source]

    def call(self, index: int) -> SyntheticCall:
        return self.portal.call(self.source, index)

    def pages(self) -> int:
        return max(1, math.ceil(self.n / self.page_size))

    @classmethod
    def capacity(cls) -> int:
        """How many calls the source's spider reads at most (its page and feed caps)."""
        from spiders.registry import get_spider

        spider = get_spider(cls.source)
        return cls.page_size * int(spider.max_pages_default)

    def route(self, path: str, params: dict[str, str]) -> tuple[str, Reply] | None:
        """``(kind, reply)`` for a live path, ``kind`` being ``list`` or ``detail``; None when unknown."""
        raise NotImplementedError

    def detail_index(self, path: str, prefix: str, suffix: str = "") -> int | None:
        """The call index in a detail path ``<prefix><slug>-<index><suffix>``, if in range."""
        if not (path.startswith(prefix) and path.endswith(suffix)):
            return None
        tail = path[len(prefix):len(path) - len(suffix) if suffix else None]
        number = tail.rsplit("-", 1)[-1]
        if not number.isdigit() or not 0 <= int(number) < self.n:
            return None
        return int(number)

    def list_urls(self) -> list[str]:
        """Live paths of the listing pages (what a complete crawl requests besides detail pages)."""
        raise NotImplementedError

    def detail_url(self, index: int) -> str | None:
        """Live path of a call's detail page (None when the listing carries the whole call)."""
        return None

    def calls_on_list(self, url: str) -> range:
        """Indices of the calls a listing page lists."""
        raise NotImplementedError


def _html_page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head>\n<body>\n{body}\n</body></html>\n")


def _paris_midnight_utc(d: date) -> str:
    """How ODS datasets write a Paris date: its midnight in UTC (the day before, 22:00 or 23:00)."""
    offset = 2 if 4 <= d.month <= 10 else 1
    return (datetime.combine(d, datetime.min.time()) - timedelta(hours=offset)).strftime("%Y-%m-%dT%H:%M:%S+00:00")


class OdsShape(Shape):
    """An OpenDataSoft dataset read through the explore API v2.1 ``records`` endpoint (``limit`` at most
    100, ``offset + limit`` at most 10 000, as on the real portals)."""

    dataset: ClassVar[str] = ""
    max_window: ClassVar[int] = 10_000

    @property
    def path(self) -> str:
        return f"/api/explore/v2.1/catalog/datasets/{self.dataset}/records"

    def record(self, c: SyntheticCall) -> dict[str, Any]:
        raise NotImplementedError

    def route(self, path: str, params: dict[str, str]) -> tuple[str, Reply] | None:
        if path != self.path:
            return None
        try:
            limit = int(params.get("limit", 10))
            offset = int(params.get("offset", 0))
        except ValueError:
            return "list", _text(400, "limit and offset must be integers")
        if not 0 < limit <= 100 or offset < 0 or offset + limit > self.max_window:
            return "list", _text(400, "invalid limit/offset: limit <= 100 and offset + limit <= 10000")
        results = [self.record(self.call(i)) for i in range(offset, min(self.n, offset + limit))]
        body = json.dumps({"total_count": self.n, "results": results}, ensure_ascii=False).encode()
        return "list", Reply(200, {"Content-Type": "application/json; charset=utf-8"}, body)

    @classmethod
    def capacity(cls) -> int:
        return min(cls.max_window, super().capacity())

    def list_urls(self) -> list[str]:
        return [f"{self.path}?limit={self.page_size}&offset={p * self.page_size}" for p in range(self.pages())]

    def calls_on_list(self, url: str) -> range:
        params = dict(parse_qsl(urlsplit(url).query))
        offset = int(params.get("offset", 0))
        return range(offset, min(self.n, offset + int(params.get("limit", self.page_size))))


class IleDeFranceShape(OdsShape):
    """Île-de-France's dataset ``aides-appels-a-projets``."""

    source = "ile_de_france"
    dataset = "aides-appels-a-projets"

    def record(self, c: SyntheticCall) -> dict[str, Any]:
        return {
            "reference_administrative": c.native_id,
            "nom_de_l_aide_de_la_demarche": c.title,
            "date_ouverture": _paris_midnight_utc(c.opens_on),
            "date_cloture": _paris_midnight_utc(c.deadlines[-1]) if c.deadlines else None,
            "qui_peut_en_beneficier": "|||".join(a if a == "Associations" else f"Collectivité ou institution - {a}"
                                                 for a in c.audiences) or None,
            "chapo_txt": f"<p>{html.escape(c.chapo)}</p>",
            "objectif_txt": f"<p>{html.escape(c.objective)}</p><p>{html.escape(c.amount_text)}</p>",
            "publics_beneficiaire_precision_txt": f"<p>{html.escape(c.eligibility_text)}</p>"
            if c.eligibility_text else None,
            "demarches_txt": f"<p>{html.escape(c.deadline_text)}</p>",
            "theme": "|||".join(c.themes),
            "url_descriptif": f"https://www.iledefrance.fr/aides-et-appels-a-projets/{c.slug}",
        }


class PaysDeLaLoireShape(OdsShape):
    """Pays de la Loire's dataset ``234400034_referentiel-aides-paysdelaloirefr``."""

    source = "pays_de_la_loire"
    dataset = "234400034_referentiel-aides-paysdelaloirefr"

    def record(self, c: SyntheticCall) -> dict[str, Any]:
        return {
            "intervention_id": c.native_id,
            "aide_nom": c.title,
            "aid_objet_court": c.chapo,
            "aid_objet": f"{c.objective} {c.deadline_text} {c.amount_text}".strip(),
            "aidconditions": c.eligibility_text or None,
            "temporalite": "Permanent" if c.rolling else "Temporaire",
            "aid_benef": ";".join(c.audiences) or None,
            "type_aide": c.kind,
            "thematique_libelle": ";".join(c.themes),
            "date_de_debut": f"{c.opens_on:%d/%m/%Y}",
            "date_de_fin": f"{c.deadlines[-1]:%d/%m/%Y}" if c.deadlines else None,
            "source_lien": f"https://www.paysdelaloire.fr/les-aides/{c.slug}",
        }


class RssShape(Shape):
    """Nouvelle-Aquitaine's ``fiches-rss.xml`` feed and its HTML detail pages."""

    source = "nouvelle_aquitaine"
    feed = "/fiches-rss.xml"
    detail_prefix = "/sante-et-solidarites/"

    def detail_url(self, index: int) -> str:
        return f"{self.detail_prefix}{self.call(index).slug}-{index}"

    def list_urls(self) -> list[str]:
        return [self.feed]

    @classmethod
    def capacity(cls) -> int:
        from spiders.registry import get_spider

        return int(get_spider(cls.source).max_feed_items or 10 ** 9)

    def calls_on_list(self, url: str) -> range:
        return range(self.n)

    def feed_xml(self) -> bytes:
        host = "https://les-aides.nouvelle-aquitaine.fr"
        items = []
        for i in range(self.n):
            c = self.call(i)
            pub = c.published.strftime("%a, %d %b %y %H:%M:%S +0000")
            cats = "".join(f"<category>{html.escape(x)}</category>" for x in (c.kind, *c.audiences, *c.themes))
            items.append(
                f"<item><title>{html.escape(c.title)}</title><link>{host}{self.detail_url(i)}</link>"
                f"<guid isPermaLink=\"true\">{host}{self.detail_url(i)}</guid><pubDate>{pub}</pubDate>"
                f"<description>{html.escape('<p>' + html.escape(c.chapo) + '</p>')}</description>{cats}</item>")
        return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
                "<title>Les aides de la Région Nouvelle-Aquitaine</title>"
                f"<link>{host}/</link><description>Fiches aides</description>"
                + "\n".join(items) + "</channel></rss>\n").encode()

    def detail_html(self, c: SyntheticCall) -> str:
        e = html.escape
        badge = ('<div class="tags"><span class="tag tag-appel-projet">Appel à projets</span></div>'
                 if c.kind.startswith("Appel") else "")
        close = fr_date(c.deadlines[-1]) if c.deadlines else fr_date(c.opens_on + timedelta(days=365))
        cats = (("Publics concernés", " ,\n            ".join(c.audiences) or "Tous publics"),
                ("Domaines secondaires", " ,\n            ".join(c.themes)),
                ("Date de fin de publication", close))
        blocks = "\n".join(f'<div class="categories"><h3 class="categories__title">{h}</h3>\n<p>{e(v)}</p></div>'
                           for h, v in cats)
        texts = (("Objectifs", c.objective), ("Calendrier", c.deadline_text),
                 ("Bénéficiaires", c.eligibility_text or "Voir le règlement d'intervention."),
                 ("Montant", c.amount_text))
        sections = "\n".join(
            f'<div class="mod-textSimple"><h2 class="mod-textSimple__title">{h}</h2>\n'
            f'<div class="mod-textSimple__content"><p>{e(v)}</p></div></div>' for h, v in texts if v)
        body = (f'<main id="main"><div class="container"><div class="chapo">{badge}\n'
                f'<h1 class="headline-aide">{e(c.title)}</h1>\n'
                f'<div class="mod-chapo"><p>{e(c.chapo)}</p></div></div>\n'
                f'<div class="aide-header">\n{blocks}\n</div></div>\n'
                f'<div class="dispositif-aide">\n{sections}\n</div></main>')
        return _html_page(c.title, body)

    def route(self, path: str, params: dict[str, str]) -> tuple[str, Reply] | None:
        if path == self.feed:
            return "list", Reply(200, {"Content-Type": "application/rss+xml; charset=utf-8"}, self.feed_xml())
        index = self.detail_index(path, self.detail_prefix)
        if index is None or path != self.detail_url(index):
            return None
        return "detail", Reply(200, {"Content-Type": "text/html; charset=utf-8"},
                               self.detail_html(self.call(index)).encode())


class HtmlShape(Shape):
    """Grand Est's WordPress cards (``a.card``, ``/page/N/``) and its HTML detail pages."""

    source = "grand_est"
    host = "https://www.grandest.fr"
    list_path = "/vos-aides-regionales/"
    page_size = 100

    def detail_url(self, index: int) -> str:
        return f"{self.list_path}{self.call(index).slug}-{index}/"

    def list_url(self, page: int) -> str:
        return self.list_path if page == 1 else f"{self.list_path}page/{page}/"

    def list_urls(self) -> list[str]:
        return [self.list_url(p) for p in range(1, self.pages() + 1)]

    @classmethod
    def capacity(cls) -> int:
        from spiders.registry import get_spider

        spider = get_spider(cls.source)
        per_page = min(cls.page_size, spider.max_entries or cls.page_size)
        return per_page * int(spider.max_pages_default)

    def calls_on_list(self, url: str) -> range:
        tail = url[len(self.list_path):].strip("/")
        page = int(tail.split("/")[-1]) if tail else 1
        return range((page - 1) * self.page_size, min(self.n, page * self.page_size))

    def list_html(self, page: int) -> str:
        e = html.escape
        cards = []
        for i in self.calls_on_list(self.list_url(page)):
            c = self.call(i)
            kind = (f"Date limite de dépôt : <strong>{c.deadlines[-1]:%d/%m/%Y}</strong>"
                    if c.deadlines and c.kind.startswith("Appel") else "Aide")
            cards.append(f'<a class="card" href="{self.host}{self.detail_url(i)}">\n'
                         f'<div class="txt new_txt"><span class="new_type">{kind}</span>\n'
                         f'<h3 class="title">{e(c.title)}</h3></div></a>')
        nav = (f'<a class="next page-numbers" href="{self.host}{self.list_url(page + 1)}">Suivant</a>'
               if page < self.pages() else "")
        return _html_page("Vos aides régionales - Région Grand Est",
                          '<main id="main"><h1>Vos aides régionales</h1>\n<div class="cards cards--aides">\n'
                          + "\n".join(cards) + f'\n</div>\n<nav class="pagination">{nav}</nav></main>')

    def detail_html(self, c: SyntheticCall) -> str:
        e = html.escape
        audiences = "".join(f"<li>{e(a)}</li>" for a in c.audiences or ("Tous publics",))
        themes = "".join(f"<li>{e(t)}</li>" for t in c.themes)
        sections = (("Objectifs", c.objective),
                    ("Critères d'éligibilité", c.eligibility_text or "Voir le règlement d'intervention."),
                    ("Montant de l'aide", c.amount_text), ("Calendrier", c.deadline_text))
        content = "\n".join(f"<h3>{h}</h3>\n<p>{e(v)}</p>" for h, v in sections if v)
        body = (f'<main id="main"><article class="aide">\n<h1 class="aide__title">{e(c.title)}</h1>\n'
                f'<div class="aide__chapo"><p>{e(c.chapo)}</p></div>\n<div class="aide__infos">\n'
                f'<div class="aide__info aide__info--beneficiaires"><h2>Bénéficiaires</h2><ul>{audiences}</ul></div>\n'
                f'<div class="aide__info aide__info--thematiques"><h2>Thématiques</h2><ul>{themes}</ul></div>\n'
                f'</div>\n<div class="aide__content wysiwyg">\n{content}\n</div></article></main>')
        return _html_page(f"{c.title} - Région Grand Est", body)

    def route(self, path: str, params: dict[str, str]) -> tuple[str, Reply] | None:
        if path == self.list_path or path.startswith(self.list_path + "page/"):
            tail = path[len(self.list_path):].strip("/")
            number = tail.split("/")[-1] if tail else "1"
            if not number.isdigit() or not 1 <= int(number) <= self.pages():
                return "list", _text(404, f"no listing page {tail}")
            return "list", Reply(200, {"Content-Type": "text/html; charset=utf-8"},
                                 self.list_html(int(number)).encode())
        index = self.detail_index(path, self.list_path, "/")
        if index is None or path != self.detail_url(index):
            return None
        return "detail", Reply(200, {"Content-Type": "text/html; charset=utf-8"},
                               self.detail_html(self.call(index)).encode())


#: the shapes the portal serves, by source
SHAPES: dict[str, type[Shape]] = {s.source: s for s in (IleDeFranceShape, PaysDeLaLoireShape, RssShape,
                                                         HtmlShape)}


def split_sizes(n: int, sources: Iterable[str] = tuple(SHAPES)) -> dict[str, int]:
    """Share ``n`` calls between ``sources`` as evenly as their spiders' caps allow (a source whose
    feed or pagination cap is reached gets no more; the others take the rest)."""
    names = list(sources)
    caps = {name: SHAPES[name].capacity() for name in names}
    if n > sum(caps.values()):
        raise ValueError(f"{n} calls exceed what the spiders of {', '.join(names)} read ({sum(caps.values())})")
    sizes = dict.fromkeys(names, 0)
    left, open_names = n, [name for name in names if caps[name] > 0]
    while left and open_names:
        share, extra = divmod(left, len(open_names))
        for i, name in enumerate(open_names):
            give = min(caps[name] - sizes[name], share + (1 if i < extra else 0))
            sizes[name] += give
            left -= give
        open_names = [name for name in open_names if sizes[name] < caps[name]]
    return sizes


# --- the portal ------------------------------------------------------------------------------------

@dataclass
class SourceStats:
    """What the portal answered for one source."""

    requests: int = 0
    bytes_sent: int = 0
    statuses: Counter = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "bytes_sent": self.bytes_sent,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


class SyntheticPortal:
    """Routing (pure, usable without sockets) and a threaded HTTP server on 127.0.0.1.

    ``sizes`` maps source → number of calls (see :func:`split_sizes`); ``faults`` maps source →
    :class:`Faults`. ``change_rate`` is the share of calls that get a new version at each
    :meth:`advance`. Use as a context manager to serve over HTTP.
    """

    def __init__(self, sizes: dict[str, int], *, seed: int = 1, faults: dict[str, Faults] | None = None,
                 change_rate: float = 0.1, anchor: date = date(2026, 10, 1), port: int = 0):
        unknown = sorted(set(sizes) - set(SHAPES))
        if unknown:
            raise KeyError(f"no synthetic shape for {unknown}; known: {', '.join(SHAPES)}")
        self.sizes = dict(sizes)
        self.seed = seed
        self.faults = dict(faults or {})
        self.change_rate = change_rate
        self.anchor = anchor
        self.generation = 0
        self.shapes = {name: SHAPES[name](self) for name in self.sizes}
        self._attempts: Counter = Counter()
        self._stats: dict[str, SourceStats] = {name: SourceStats() for name in self.sizes}
        self._lock = threading.Lock()
        self._port = port
        self.server: ThreadingHTTPServer | None = None
        self._calls: dict[tuple[str, int], SyntheticCall] = {}

    # --- content ---------------------------------------------------------------------------------
    def version_of(self, source: str, index: int) -> int:
        """The latest generation in which this call changed (0: never)."""
        for g in range(self.generation, 0, -1):
            if unit(self.seed, "change", source, index, g) < self.change_rate:
                return g
        return 0

    def call(self, source: str, index: int) -> SyntheticCall:
        """The current version of a call (cached: rendering a big feed asks for each call once)."""
        key = (source, index)
        version = self.version_of(source, index)
        cached = self._calls.get(key)
        if cached is not None and cached.version == version:
            return cached
        f = self.faults.get(source, Faults())
        bad = unit(self.seed, "bad-date", source, index) < f.bad_date_rate
        made = generate_call(self.seed, source, index, version=version, anchor=self.anchor, unparseable=bad)
        if self.is_invalid(source, index):
            made = replace(made, title="")
        self._calls[key] = made
        return made

    def is_invalid(self, source: str, index: int) -> bool:
        """Whether the call is served as a broken row (empty title)."""
        return unit(self.seed, "invalid", source, index) < self.faults.get(source, Faults()).invalid_rate

    def set_faults(self, source: str, faults: Faults | None) -> None:
        """Change a source's faults between two harvests (attempt counters start again)."""
        with self._lock:
            if faults is None:
                self.faults.pop(source, None)
            else:
                self.faults[source] = faults
            self._attempts.clear()
            self._calls.clear()

    def advance(self) -> list[tuple[str, int]]:
        """Start a new generation (the portal "changes between two harvests"); returns what changed."""
        with self._lock:
            self.generation += 1
            self._attempts.clear()
            return [(s, i) for s, n in self.sizes.items() for i in range(n)
                    if unit(self.seed, "change", s, i, self.generation) < self.change_rate]

    # --- what a complete crawl should see ---------------------------------------------------------
    def fault_draw(self, source: str, path_and_query: str, what: str) -> float:
        return unit(self.seed, what, source, path_and_query)

    def failing_attempts(self, source: str, url: str) -> int:
        """How many first attempts of ``url`` answer an error (0: none; a large number: every one)."""
        f = self.faults.get(source, Faults())
        if f.down:
            return 10 ** 9
        if not f.lists and self.is_list(source, url):
            return 0
        if self.fault_draw(source, url, "error") >= f.error_rate:
            return 0
        if self.fault_draw(source, url, "permanent") < f.permanent_share:
            return 10 ** 9
        return 1 + int(self.fault_draw(source, url, "attempts") * 2)

    def hangs(self, source: str, url: str) -> bool:
        """Whether the first attempt at ``url`` that would succeed hangs past the client's timeout."""
        if not self.faults.get(source, Faults()).lists and self.is_list(source, url):
            return False
        return self.fault_draw(source, url, "timeout") < self.faults.get(source, Faults()).timeout_rate

    def is_list(self, source: str, url: str) -> bool:
        """Whether ``url`` (live path and query) is one of the source's listing pages."""
        shape = self.shapes[source]
        if isinstance(shape, OdsShape):
            return urlsplit(url).path == shape.path
        return url in shape.list_urls()

    def disallowed(self, source: str, path: str) -> bool:
        return any(path.startswith(p) for p in self.faults.get(source, Faults()).robots_disallow)

    def expected(self, source: str, *, attempts: int) -> dict[str, Any]:
        """What a crawl making at most ``attempts`` tries per URL (hung tries included) gets from
        ``source``: the calls it can reach and the URLs that stay failed. Obeys robots.txt."""
        shape = self.shapes[source]
        lost_urls: list[str] = []
        reachable: set[int] = set()

        def fails(url: str) -> bool:
            tries = self.failing_attempts(source, url) + (1 if self.hangs(source, url) else 0)
            return tries >= attempts

        for url in shape.list_urls():
            if self.disallowed(source, urlsplit(url).path):
                continue
            if fails(url):
                lost_urls.append(url)
                if isinstance(shape, HtmlShape):
                    break  # the next pages are linked from this one
                continue
            for i in shape.calls_on_list(url):
                detail = shape.detail_url(i)
                if detail is None:
                    reachable.add(i)
                elif self.disallowed(source, detail):
                    continue
                elif fails(detail):
                    lost_urls.append(detail)
                else:
                    reachable.add(i)
        return {"reachable": reachable, "lost_urls": lost_urls}

    # --- routing --------------------------------------------------------------------------------
    def robots_txt(self) -> bytes:
        lines = ["User-agent: *"]
        for source, f in sorted(self.faults.items()):
            lines += [f"Disallow: /{source}{p}" for p in f.robots_disallow]
        lines.append("Allow: /")
        return ("\n".join(lines) + "\n").encode()

    def resolve(self, method: str, path: str, query: str, headers: dict[str, str]) -> Reply:
        """The answer to ``method /<source><live path>?<query>`` (counts the attempt)."""
        if path == "/robots.txt":
            return Reply(200, {"Content-Type": "text/plain; charset=utf-8"}, self.robots_txt())
        source, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest
        shape = self.shapes.get(source)
        if shape is None:
            return _text(404, f"no synthetic source {source!r}")
        if rest.startswith("/_moved/"):
            rest = rest[len("/_moved"):]
            redirected = True
        else:
            redirected = False
        key = rest + (f"?{query}" if query else "")
        f = self.faults.get(source, Faults())
        with self._lock:
            self._attempts[(source, key)] += 1
            attempt = self._attempts[(source, key)]
        failing = self.failing_attempts(source, key)
        if attempt <= failing:
            return _text(f.error_status if not f.down else 503, "service temporarily unavailable")
        if attempt == failing + 1 and self.hangs(source, key):
            return replace(_text(504, "too late"), delay=f.hang_s)
        if not redirected and self.fault_draw(source, key, "redirect") < f.redirect_rate:
            return Reply(301, {"Location": f"/{source}/_moved{key}", "Content-Type": "text/plain"}, b"moved")
        found = shape.route(rest, dict(parse_qsl(query, keep_blank_values=True)))
        if found is None:
            return _text(404, f"no page {rest}")
        kind, reply = found
        if reply.status == 200 and kind == "detail":
            reply = self._html_faults(source, key, reply, f)
        if self.fault_draw(source, key, "slow") < f.slow_rate:
            reply = replace(reply, delay=f.slow_s)
        return self._conditional(reply, headers) if reply.status == 200 else reply

    def _html_faults(self, source: str, key: str, reply: Reply, f: Faults) -> Reply:
        body = reply.body
        ctype = reply.headers["Content-Type"]
        if self.fault_draw(source, key, "giant") < f.giant_rate:
            filler = ("<p>" + "Texte de remplissage sans intérêt. " * 40 + "</p>\n").encode()
            body = body.replace(b"</body>", filler * (f.giant_bytes // len(filler) + 1) + b"</body>")
        if self.fault_draw(source, key, "truncated") < f.truncated_rate:
            body = body[: int(len(body) * 0.8)]
        if self.fault_draw(source, key, "malformed") < f.malformed_rate:
            body = (body.replace(b"</p>", b"", 3).replace(b"<h2>", b"<h2><b>", 2)
                    .replace(b"</main>", b"</div></span></main>").replace(b"</article>", b"</div></article>"))
        variant = self.latin1_variant(source, key)
        if variant:
            body = body.decode("utf-8").replace('<meta charset="utf-8">', "").encode(
                "iso-8859-1", errors="xmlcharrefreplace")
            ctype = {"declared": "text/html; charset=iso-8859-1", "missing": "text/html",
                     "wrong": "text/html; charset=utf-8"}[variant]
        return replace(reply, body=body, headers={**reply.headers, "Content-Type": ctype})

    def latin1_variant(self, source: str, key: str) -> str | None:
        """None, or how an ISO-8859-1 page announces itself: ``declared`` (right charset header),
        ``missing`` (no charset anywhere) or ``wrong`` (says UTF-8)."""
        f = self.faults.get(source, Faults())
        if self.fault_draw(source, key, "latin1") >= f.latin1_rate or not f.latin1_kinds:
            return None
        return f.latin1_kinds[int(self.fault_draw(source, key, "latin1-kind") * len(f.latin1_kinds))]

    def _conditional(self, reply: Reply, headers: dict[str, str]) -> Reply:
        etag = '"' + hashlib.sha1(reply.body).hexdigest()[:20] + '"'
        modified = format_datetime(datetime.combine(self.anchor, datetime.min.time(), UTC)
                                   + timedelta(days=self.generation), usegmt=True)
        hdrs = {**reply.headers, "ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}
        lower = {k.lower(): v for k, v in headers.items()}
        if_none = lower.get("if-none-match")
        since = lower.get("if-modified-since")
        fresh = False
        if if_none is not None:
            fresh = etag in [t.strip() for t in if_none.split(",")] or if_none.strip() == "*"
        elif since:
            try:
                fresh = parsedate_to_datetime(since) >= parsedate_to_datetime(modified)
            except (TypeError, ValueError):
                fresh = False
        if fresh:
            return Reply(304, {"ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}, b"",
                         reply.delay)
        return replace(reply, headers=hdrs)

    # --- accounting ----------------------------------------------------------------------------
    def record(self, path: str, status: int, sent: int) -> None:
        source = path.lstrip("/").partition("/")[0]
        with self._lock:
            st = self._stats.get(source)
            if st is None:
                return
            st.requests += 1
            st.bytes_sent += sent
            st.statuses[status] += 1

    def stats(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: st.to_json() for name, st in self._stats.items()}

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {name: SourceStats() for name in self.sizes}

    # --- HTTP -------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the portal is not serving: use it as a context manager")
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, source: str) -> str:
        return f"{self.url}/{source}"

    def base_url_for(self) -> Callable[[str], str | None]:
        """For :func:`pipeline.run.harvest`: the portal's prefix for its sources, None for others."""
        return lambda s: self.base_url(s) if s in self.sizes else None

    def start(self, control: bool = False) -> SyntheticPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                portal._handle(self, "GET", control)

            def do_HEAD(self) -> None:  # noqa: N802
                portal._handle(self, "HEAD", control)

            def do_POST(self) -> None:  # noqa: N802
                portal._handle(self, "POST", control)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="synthetic-portal", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> SyntheticPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _control(self, method: str, path: str) -> Reply | None:
        if path == "/_portal/stats" and method == "GET":
            payload = {"generation": self.generation, "sizes": self.sizes, "stats": self.stats()}
            return Reply(200, {"Content-Type": "application/json"}, json.dumps(payload).encode())
        if path == "/_portal/advance" and method == "POST":
            changed = self.advance()
            return Reply(200, {"Content-Type": "application/json"},
                         json.dumps({"generation": self.generation, "changed": len(changed)}).encode())
        if path == "/_portal/reset-stats" and method == "POST":
            self.reset_stats()
            return Reply(200, {"Content-Type": "application/json"}, b"{}")
        return None

    def _handle(self, h: BaseHTTPRequestHandler, method: str, control: bool) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        reply = self._control(method, parts.path) if control else None
        if reply is None:
            try:
                reply = self.resolve(method, parts.path, parts.query, dict(h.headers.items()))
            except Exception as exc:  # a generator bug shows as a 500, never kills the portal
                reply = _text(500, f"portal error: {type(exc).__name__}: {exc}")
            if reply.delay:
                time.sleep(reply.delay)
        body = b"" if method == "HEAD" else reply.body
        # counted before sending: a client that has its answer can read the counts at once
        self.record(parts.path, reply.status, len(body))
        try:
            h.send_response(reply.status)
            for k, v in reply.headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(reply.body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout): nothing to send


def main(argv: list[str] | None = None) -> int:
    """Serve a synthetic portal until interrupted; prints ``READY <url>`` once listening."""
    ap = argparse.ArgumentParser(prog="python -m pipeline.synthetic", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="total number of calls, shared between the sources")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--change-rate", type=float, default=0.1)
    ap.add_argument("--source", action="append", dest="sources", choices=tuple(SHAPES))
    ap.add_argument("--faults", action="append", default=[], metavar="SOURCE:SPEC",
                    help="e.g. grand_est:error_rate=0.2,timeout_rate=0.05")
    args = ap.parse_args(argv)
    faults = {}
    for item in args.faults:
        name, _, spec = item.partition(":")
        faults[name] = Faults.parse(spec)
    portal = SyntheticPortal(split_sizes(args.n, args.sources or SHAPES), seed=args.seed, faults=faults,
                             change_rate=args.change_rate, port=args.port)
    portal.start(control=True)
    print(f"READY {portal.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
