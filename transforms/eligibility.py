"""May a CCAS/CIAS apply? Classes (``schema.CCAS_CLASSES``), with the deciding sentence and the rule.

* ``explicit``     — CCAS, CIAS or "centre communal/intercommunal d'action sociale" named as applicants;
* ``likely``       — a class that contains CCAS is admitted (établissements publics, personnes morales de
                     droit public, ESSMS, any legal person…);
* ``via_commune``  — the only public applicants are communes, EPCI or collectivités: apply through them;
* ``not_eligible`` — only other applicants (associations, companies, people…), or CCAS excluded;
* ``unknown``      — nothing said about who may apply.

Each sentence (or list item, or portal label) is scanned for *mentions* of applicant classes. A mention
after an exclusion cue ("à l'exclusion des", "sauf") or before a postfix one ("ne sont pas éligibles") is
negative; a mention introduced as a partner ("en partenariat avec le CCAS") is ignored. In a general
description (``strict=True``) only sentences about applicants count ("éligibles", "peuvent candidater",
"Bénéficiaires :" and the list under such a heading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from transforms.text import (
    KeywordMatcher,
    contains_any,
    fold,
    fold_label,
    one_line,
    segments,
    split_alternatives,
)

# mention patterns → (group, audiences); groups: ccas, likely:<rule>, commune, deptregion, other:<kind>
_MENTIONS: Final[list[tuple[str, str, tuple[str, ...]]]] = [
    (r"\bc\.?\s?c\.?\s?i\.?\s?a\.?\s?s\b", "ccas", ("ccas", "cias")),
    (r"\bc\.?\s?c\.?\s?a\.?\s?s\b", "ccas", ("ccas",)),
    (r"\bc\.?\s?i\.?\s?a\.?\s?s\b", "ccas", ("cias",)),
    (r"\bcentres? communa(?:l|ux) et intercommuna(?:l|ux) d'action sociale", "ccas", ("ccas", "cias")),
    (r"\bcasvp\b|\bcentres? (?:d'action sociale|communa(?:l|ux) d'action sociale)", "ccas", ("ccas",)),
    (r"\bcentres? intercommuna(?:l|ux) d'action sociale", "ccas", ("cias",)),
    (r"\betablissements? publics? de cooperation intercommunale|\bepci\b|\bintercommunalites?\b"
     r"|\bcommunautes? (?:de communes|d'agglomeration|urbaines?)\b|\bmetropoles?\b|\bpetr\b"
     r"|\betablissements? publics? territoriaux\b|\bsyndicats? (?:intercommunaux|mixtes|de communes)\b"
     r"|\bgroupements? de (?:communes|collectivites)\b|\bpays\b(?= ?[/,)])", "commune", ("epci",)),
    (r"\bcollectivites et (?:leurs|de leurs|les) (?:etablissements|groupements et etablissements)\b"
     r"|\bcommunes et (?:leurs|de leurs|les) (?:etablissements|groupements et etablissements)\b"
     r"|\bvilles et (?:leurs|de leurs|les) (?:etablissements|groupements et etablissements)\b"
     r"|\bcollectivites et etablissements publics\b", "likely:collectivities_and_their_bodies",
     ("commune", "public_org")),
    (r"\betablissements? publics? (?:de sante|hospitaliers?|d'enseignement|scolaires?|fonciers?|de recherche"
     r"|a caractere scientifique)\b|\betablissements? (?:scolaires|d'enseignement)\b|\b(?:ecoles|colleges"
     r"|lycees|universites)\b", "other:school", ("public_org",)),
    (r"\betablissements? publics?\b|\bepa\b|\betablissements? publics? (?:locaux|communaux|administratifs)",
     "likely:public_establishments", ("public_org",)),
    (r"\bpersonnes? morales? de droit public\b|\bpersonnes? publiques?\b|\borganismes? (?:de droit )?publics?"
     r"\b|\borganismes? (?:para-?publics?|publics? ou prives?)\b|\bstructures? publiques?\b|\bacteurs? publics?"
     r"\b|\bentites? publiques?\b|\binstitutions? publiques?\b|\bsecteur public\b|\bporteurs? (?:de projets? )?"
     r"publics?\b|\bservices? publics? locaux\b",
     "likely:public_bodies", ("public_org",)),
    (r"\betablissements? et services? (?:sociaux|medico-sociaux)|\bessms\b|\betablissements? (?:sociaux|medico-"
     r"sociaux)|\bstructures? (?:de l'|d')action sociale|\bacteurs? (?:de l'|d')action sociale|\bgestionnaires?"
     r" (?:d'|de )(?:etablissements|residences|services)|\bresidences? autonomie\b|\behpad\b"
     r"|\bservices? (?:d'aide|d'accompagnement) a domicile\b|\bsaad\b",
     "likely:social_services", ("public_org",)),
    (r"\btoute personnes? morales?\b(?! de droit public)|\btoutes les personnes? morales?\b(?! de droit public)"
     r"|\bles personnes? morales?\b(?! de droit public)|\blegal (?:entity|entities|persons?)\b|\bpersonnalite morale\b|\btout(?:e|es)? (?:structure|"
     r"organisme)s?\b|\btous (?:les )?(?:organismes|porteurs de projets?|types de structures)\b"
     r"|\bentite affiliee\b|\bcollectivite ou institution - autre\b|\btout porteur de projets?\b",
     "likely:any_legal_person", ("public_org",)),
    (r"\bcommunes?\b|\bmunicipalites?\b|\bvilles?\b|\bcollectivites? (?:territoriales?|locales?)\b"
     r"|\bcollectivites\b|\bmaires?\b", "commune", ("commune",)),
    (r"\bdepartements?\b|\bconseils? departementaux\b|\bconseil departemental\b", "deptregion", ("department",)),
    (r"\bregions?\b|\bconseils? regionaux\b|\bconseil regional\b", "deptregion", ("region",)),
    (r"\bcollectivites d'outre-mer\b", "deptregion", ("special",)),
    (r"\bassociations?\b|\bloi (?:de )?1901\b|\bassociati(?:f|ve)s?\b", "other:association", ("association",)),
    (r"\bentreprises? publiques? locales?\b|\bsem\b|\bspl\b|\bsemop\b", "other:public_company", ("public_cies",)),
    (r"\bentreprises?\b|\bsocietes?\b|\bpme\b|\btpe\b|\beti\b|\bstart-?ups?\b|\bscop\b|\bscic\b|\bartisans?\b"
     r"|\bcommercants?\b|\bauto-?entrepreneurs?\b|\bmicro-?entrepreneurs?\b|\bprofessionnels?\b"
     r"|\bsecteur prive\b|\bstructures? privees?\b|\bbailleurs? sociaux\b|\borganismes? hlm\b",
     "other:company", ("private_sector",)),
    (r"\bparticuliers?\b|\bpersonnes? physiques?\b|\bmenages\b|\bproprietaires?\b", "other:person",
     ("private_person",)),
    (r"\bagriculteurs?\b|\bexploitants? agricoles?\b|\bexploitations? agricoles?\b", "other:farmer", ("farmer",)),
    (r"\blaboratoires?\b|\bchercheurs?\b|\borganismes? de recherche\b|\brecherche\b", "other:research",
     ("researcher",)),
    (r"\bclubs?\b|\bfederations? sportives?\b|\bfondations?\b|\bcentres? sociaux\b|\bmutuelles?\b"
     r"|\bcooperatives?\b|\bgroupements? d'employeurs\b|\bstructures? de l'insertion\b|\bsiae\b",
     "other:other", ()),
    (r"\bservices? (?:deconcentres? )?de l'etat\b|\badministrations? (?:de l'etat|centrales?)\b|\bprefectures?\b"
     r"|\bministeres?\b|\bgroupements? d'interet public\b|\bgip\b", "other:state", ()),
    (r"\bpublic (?:bodies|body|entities|entity|institutions?|organi[sz]ations?|sector bodies)\b"
     r"|\bpublic social welfare bodies\b|\bbodies governed by public law\b", "likely:public_bodies", ("public_org",)),
    (r"\bsocial (?:services|welfare services|care providers)\b", "likely:social_services", ("public_org",)),
    (r"\b(?:local|regional|national) (?:and regional |or regional )?(?:public )?authorities\b|\bpublic authorities\b"
     r"|\bmunicipalities\b|\bmunicipality\b|\blocal governments?\b|\bcities\b", "commune", ("commune",)),
    (r"\bnon-?profit (?:organi[sz]ations?|entities|bodies)\b|\bngos?\b|\bcivil society organi[sz]ations?\b",
     "other:association", ("association",)),
    (r"\bprivate (?:companies|entities|bodies|enterprises)\b|\bsmes?\b|\bfor-profit\b", "other:company",
     ("private_sector",)),
    (r"\buniversities\b|\bresearch organi[sz]ations?\b|\bhigher education institutions?\b", "other:research",
     ("researcher",)),
]
_MENTION_MATCHER: Final = KeywordMatcher([(p, i) for i, (p, g, _) in enumerate(_MENTIONS)
                                          if not (g == "ccas" and p.startswith(r"\bc\."))])
#: the acronyms (CCAS, CIAS, CCIAS, with or without dots), one group each; no two can match at one place
_CCAS_INDEX: Final = [i for i, (p, g, _) in enumerate(_MENTIONS) if g == "ccas" and p.startswith(r"\bc\.")]
_CCAS_ACRONYMS: Final = re.compile("|".join(f"({_MENTIONS[i][0]})" for i in _CCAS_INDEX))
#: whether a text names one of them: the same patterns with the leading "\bc" written "c(?<!\wc)", so that
#: the regex engine jumps from one "c" to the next instead of trying every position
_CCAS_ANY: Final = re.compile("c(?<!\\wc)(?:" + "|".join(_MENTIONS[i][0].removeprefix(r"\bc") for i in _CCAS_INDEX) + ")")

_APPLICANT_CUE: Final = KeywordMatcher([(p, "applicant") for p in split_alternatives(
    r"eligib\w*|beneficiaires?|peu(?:vent|t) (?:candidater|deposer|repondre|postuler|beneficier|presenter|"
    r"solliciter|porter|etre porte|faire une demande|demander|concourir|soumettre)|porteurs? de projets?|"
    r"porte(?:e|s|es)? par|qui peut|pour qui|destinataires?|ouvert(?:e|s|es)? (?:aux|a)\b|adresse (?:aux|a)\b|"
    r"candidats?|structures? (?:porteuses|beneficiaires)|destination (?:des|de)\b|reserve(?:e|s|es)? (?:aux|a)\b|"
    r"demandeurs?|destine(?:e|s|es)? (?:aux|a)\b|publics? (?:eligibles|vises|concernes)|qui peut candidater|"
    r"conditions? d'acces|peuvent en beneficier|who can apply|applicants?|structures? concernees|"
    r"seul(?:e|s|es)? (?:les|la|le)|concerne(?:s|es)?\s*:|must be|pour les (?:ccas|cias)\b|aux (?:ccas|cias)\b"
)], anchors=("eligib", "benefic", "peu", "porte", "qui", "destin", "ouvert", "adresse", "candidat", "structure",
             "reserve", "demandeur", "public", "condition", "appl", "seul", "concerne", "must", "ccas", "cias"))
_NEG_PREFIX: Final = re.compile(
    r"a l'exclusion (?:des|de|du)|\bsauf\b|\bhormis\b|\bexcepte\b|\ba l'exception (?:des|de|du)|\bhors\b|"
    r"(?:ne sont pas|non) (?:eligibles|admis|retenus)\s*:|\bexclu(?:e|s|es)?\s*:|\bexclusions?\s*:|"
    r"\bni (?:les|aux)\b|ne sont pas eligibles (?:les|aux)|\bnon eligibles?\s*:|"
    r"ne s'adresse pas (?:aux|a)\b|n'est pas ouvert(?:e)? (?:aux|a)\b|ne concerne pas\b"
)
_NEG_POSTFIX: Final = re.compile(
    r"ne sont pas (?:eligibles|admis|concernes|retenus|autorises)|n'(?:est|sont) pas eligibles?|"
    r"non eligibles?|(?:sont|est) exclu(?:e|s|es)?|ne peu(?:vent|t) pas|ne pourront pas|ne peuvent en aucun cas|"
    r"ne (?:sont|seront) pas (?:acceptes|recevables)|ineligibles?"
)
_CLAUSE_BREAK: Final = re.compile(r"[(;:]|\s-\s")
_PLACE: Final = re.compile(r"\b(?:du|de la|de l'|en|dans l[ae']|dans les|sur l[ae']|au sein d[ue]|a l'echelle d[ue]|par l[ae]|"
                           r"habitants? d[ue]s?|territoire d[ue]|de leur|de notre|de votre|de sa|de son)\s*$")
#: how the words of ``_PLACE`` end: the text before a mention ends (spaces aside) with one of these when
#: ``_PLACE`` matches there
_PLACE_ENDS: Final = ("du", "la", "l'", "en", "le", "les", "de", "des", "dus", "leur", "notre", "votre", "sa", "son")
#: how far before a mention ``_PLACE`` is searched
_PLACE_REACH: Final = 30
#: substrings every exclusion wording contains (the regexes are only run when one is present)
_NEG_PREFIX_ANCHORS: Final = ("exclu", "sauf", "hormis", "except", "hors", "pas ", "non ", "ni ")
_NEG_POSTFIX_ANCHORS: Final = ("pas ", "non ", "exclu", "ineligible")
_POSITIVE_CUE: Final = re.compile(r"\b(?:sont|est|seront) eligibles?|\beligibles?\s*:|\bpeu(?:vent|t) (?:candidater|deposer|"
                                  r"repondre|postuler|beneficier|presenter|solliciter)")
_PARTNER: Final = re.compile(
    r"(?:en (?:partenariat|lien|collaboration|relation|concertation|coordination) (?:etroite )?avec|avec l'appui"
    r" d[eu]|en associant|associ\w* (?:a|avec)|partenaires?|accompagn\w* par|orient\w* par|prescri\w*|avec le "
    r"soutien d[eu]|relais? (?:des|du)|sur orientation d[eu]|signale\w* par|identifi\w* par)"
    r"[^.;:]{0,40}$"
)
#: substrings one of which every partner wording contains
_PARTNER_ANCHORS: Final = ("avec", "associ", "partenaire", " par", "prescri", "relai", "orient")
#: how far before a mention ``_PARTNER`` is searched
_PARTNER_REACH: Final = 90
_RANK: Final = {"explicit": 4, "likely": 3, "via_commune": 2, "not_eligible": 1, "unknown": 0}


@dataclass(init=False)  # its own __init__ is compiled; the one @dataclass writes would be interpreted
class Eligibility:
    """CCAS eligibility: class, deciding sentence, rule name, detected audiences (schema.AUDIENCES)."""

    cls: str
    evidence: str | None
    rule: str
    audiences: list[str]

    def __init__(self, cls: str = "unknown", evidence: str | None = None, rule: str = "no_applicant_info",
                 audiences: list[str] | None = None) -> None:
        self.cls = cls
        self.evidence = evidence
        self.rule = rule
        self.audiences = [] if audiences is None else audiences


class _Mention:
    """One applicant mention: its group, audiences, whether it is negated, and the sentence it is in (a
    compiled class: a NamedTuple's constructor is interpreted)."""

    def __init__(self, group: str, audiences: tuple[str, ...], negative: bool, seg: str) -> None:
        self.group = group
        self.audiences = audiences
        self.negative = negative
        self.seg = seg


def _place_before(seg: str, start: int) -> bool:
    """Whether a place wording ("habitants du", "sur la") ends right before ``start`` (``_PLACE`` in the
    ``_PLACE_REACH`` characters before it; the regex only runs when the text there ends as it must)."""
    window = max(0, start - _PLACE_REACH)
    if not seg[window:start].rstrip().endswith(_PLACE_ENDS):
        return False
    return _PLACE.search(seg, window, start) is not None


def _partner_before(seg: str, start: int) -> bool:
    """Whether a partner wording ("en partenariat avec", "orientés par") comes shortly before ``start``
    (``_PARTNER`` in the ``_PARTNER_REACH`` characters before it, run only when one of its words is there)."""
    window = max(0, start - _PARTNER_REACH)
    before = seg[window:start]
    if not contains_any(before, _PARTNER_ANCHORS):
        return False
    return _PARTNER.search(seg, window, start) is not None


def _mentions(seg: str, original: str) -> list[_Mention]:
    out: list[_Mention] = []
    neg_from = None
    m = _NEG_PREFIX.search(seg) if contains_any(seg, _NEG_PREFIX_ANCHORS) else None
    if m:
        neg_from = m.start()
    post = _NEG_POSTFIX.search(seg) if contains_any(seg, _NEG_POSTFIX_ANCHORS) else None
    post_window = None
    if post:
        # the negated items are those of the clause just before "ne sont pas éligibles"
        starts = [c.end() for c in _POSITIVE_CUE.finditer(seg, 0, post.start())]
        starts.extend(c.end() for c in _CLAUSE_BREAK.finditer(seg, 0, post.start()))
        post_window = (max(starts, default=0), post.start())
    # each alternative of _CCAS_ACRONYMS is one group, so a match's last group tells its mention
    spans: list[tuple[int, Any]] = [(a.start(), _CCAS_INDEX[(a.lastindex or 0) - 1])
                                    for a in _CCAS_ACRONYMS.finditer(seg)] if _CCAS_ANY.search(seg) else []
    spans.extend((start, i) for start, _, i in _MENTION_MATCHER.finditer(seg))
    for start, i in sorted(spans):
        _, group, auds = _MENTIONS[i]
        if _partner_before(seg, start):
            continue
        if group in ("commune", "deptregion") and _place_before(seg, start):
            continue  # "habitants du département", "implantées sur la commune": a place, not an applicant
        negative = (neg_from is not None and start >= neg_from) or (
            post_window is not None and post_window[0] <= start < post_window[1])
        out.append(_Mention(group, auds, negative, original))
    return out


def classify_eligibility(text: str | None, labels: list[str] | None = None, *,
                         strict: bool = False) -> Eligibility:
    """Classify who may apply, from the eligibility text and/or the portal's audience labels.

    ``strict=True`` is for general descriptions: only applicant sentences count.
    """
    mentions: list[_Mention] = []
    if not (strict and text and _APPLICANT_CUE.search(fold(text)) is None):
        in_list = 0
        for original in segments(text or ""):
            seg = fold(original)
            cue = _APPLICANT_CUE.search(seg) is not None
            if strict and not cue and in_list <= 0:
                continue
            found = _mentions(seg, original)
            mentions.extend(found)
            if cue and (not found or seg.endswith(":")):
                in_list = 8
            elif in_list > 0:
                in_list = in_list - 1 if len(seg) < 160 else 0
    # portal labels after the text, so that the evidence is a sentence when there is one
    for label in labels or []:
        for part in str(label).split("|||"):
            if part.strip():
                mentions.extend(_label_mentions(part))
    return _decide(mentions)


@lru_cache(maxsize=4096)
def _label_mentions(part: str) -> tuple[_Mention, ...]:
    """Mentions of one portal label (cached: a portal's audience labels come from a short list)."""
    return tuple(_mentions(fold_label(part), part.strip()))


def _decide(mentions: list[_Mention]) -> Eligibility:
    audiences: list[str] = []
    for m in mentions:
        if not m.negative:
            for a in m.audiences:
                if a not in audiences:
                    audiences.append(a)
    pos = [m for m in mentions if not m.negative]
    neg = [m for m in mentions if m.negative]

    def first(ms: list[_Mention], prefix: str) -> _Mention | None:
        return next((m for m in ms if m.group.startswith(prefix)), None)

    if (hit := first(pos, "ccas")) is not None:
        return Eligibility("explicit", one_line(hit.seg), "names_ccas", audiences)
    if (hit := first(neg, "ccas")) is not None:
        return Eligibility("not_eligible", one_line(hit.seg), "ccas_excluded", audiences)
    likely = [m for m in pos if m.group.startswith("likely:")]
    public_excluded = next((m for m in neg if m.group.startswith(("likely:", "commune"))), None)
    if likely and public_excluded is not None and all(m.group == "likely:any_legal_person" for m in likely):
        # "toute structure, sauf les collectivités": the catch-all no longer covers a CCAS
        return Eligibility("not_eligible", one_line(public_excluded.seg), "public_bodies_excluded", audiences)
    if likely:
        hit = likely[0]
        return Eligibility("likely", one_line(hit.seg), hit.group.split(":", 1)[1], audiences)
    if (hit := first(pos, "commune")) is not None:
        return Eligibility("via_commune", one_line(hit.seg), "communes_or_epci_only", audiences)
    if (hit := first(neg, "likely:")) is not None:
        return Eligibility("not_eligible", one_line(hit.seg), "public_bodies_excluded", audiences)
    if pos:
        hit = pos[0]
        return Eligibility("not_eligible", one_line(hit.seg), "other_applicants_only", audiences)
    return Eligibility("unknown", None, "no_applicant_info", audiences)


def eligibility_from_sources(eligibility_text: str | None, labels: list[str] | None,
                             description: str | None) -> Eligibility:
    """The pipeline's order: the eligibility field and labels first, then applicant sentences of the
    description when those say nothing."""
    result = classify_eligibility(eligibility_text, labels)
    if result.cls == "unknown" and description:
        fallback = classify_eligibility(description, strict=True)
        if fallback.cls != "unknown":
            fallback.rule = f"description:{fallback.rule}"
            return fallback
    return result


def rank(cls: str) -> int:
    """Order of classes from most to least favourable to a CCAS (for sorting and filters)."""
    return _RANK.get(cls, 0)
