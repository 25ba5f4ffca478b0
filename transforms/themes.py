"""Themes (AT's 9 slugs) and categories (AT's category names) of a call, with the words that triggered them.

Keywords are matched as whole words (or their plural in "s") on folded text (title weighs most, then
summary, then description); source tags go through the mapping files (``labels.map_labels(source,
"themes", …)``) and count as strong evidence. The primary theme (first of ``themes``) is the one with the
highest score; ties keep the order of ``schema.THEMES`` (the CCAS core first).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from pipeline import schema
from transforms.labels import load_mapping, map_labels
from transforms.text import KeywordMatcher, fold, split_alternatives

SOL: Final = "solidarites-lien-social"
URB: Final = "urbanisme-logement-amenagement"
CUL: Final = "culture-patrimoine-sports"
NAT: Final = "nature-environnement-risques"
ECO: Final = "developpement-economique"
MOB: Final = "mobilite-transports"
ENE: Final = "energies-dechets"
EAU: Final = "eau-milieux-aquatiques"
SUP: Final = "fonctions-support"

#: (folded keyword regex, theme, category or None, weight)
LEXICON: Final[list[tuple[str, str, str | None, float]]] = [
    # solidarités / lien social — the CCAS core
    (r"personnes? agees?|seniors?|vieillissement|bien vieillir|retraites?|perte d'autonomie|autonomie des "
     r"personnes|residences? autonomie|ehpad|aines|grand age|aidants?|prevention de la perte", SOL,
     "Personnes âgées", 2),
    (r"jeunes(?:se)?|adolescents?|neet|etudiants? precaires?", SOL, "Jeunesse", 1.5),
    (r"familles?|parentalite|enfance|petite enfance|enfants?|creches?|monoparenta\w*", SOL, "Famille et enfance",
     1.5),
    (r"handicap\w*|personnes? en situation de handicap|inclusion des personnes handicapees|aidants familiaux|"
     r"habitat inclusif|disabilit\w*|persons with disabilities", SOL, "Handicap", 2),
    (r"older people|elderly|long-term care|ageing|aging|older persons|community-based care", SOL,
     "Personnes âgées", 2),
    (r"social inclusion|vulnerable groups|social services|social protection|social rights|"
     r"third-country nationals|migrants?|refugees?|integration|roma|accompagnement social|"
     r"travailleurs? sociaux|social (?:care|welfare)", SOL, "Cohésion sociale et inclusion", 1.5),
    (r"egalite des chances|egalite femmes-hommes|egalite entre les femmes et les hommes|discriminations?|"
     r"quartiers prioritaires|qpv|politique de la ville", SOL, "Egalité des chances", 1.5),
    (r"acces aux droits|non-recours|france services|acces aux services|maisons? de services", SOL,
     "Accès aux services", 2),
    (r"cohesion sociale|inclusion sociale|insertion sociale|lien social|isolement|solidarit\w*|exclusion sociale"
     r"|action sociale|intervention sociale|travail social|mediation sociale|vivre ensemble", SOL,
     "Cohésion sociale et inclusion", 1.5),
    (r"citoyennete|participation citoyenne|benevolat|engagement citoyen|service civique|democratie "
     r"participative", SOL, "Citoyenneté", 1),
    (r"sante|sante mentale|prevention sante|acces aux soins|addictions?|nutrition|contrat local de sante|"
     r"medico-social\w*|sanitaire|ars\b", SOL, "Santé", 1.5),
    (r"education|illettrisme|savoirs de base|alphabetisation|francais langue etrangere|fle\b|"
     r"accompagnement a la scolarite|reussite educative|decrochage scolaire", SOL,
     "Education et renforcement des compétences", 1),
    (r"aide alimentaire|alimentation|precarite alimentaire|epiceries? (?:sociales?|solidaires?)|banques? alimentaires?|"
     r"restauration collective|projets? alimentaires? territoriaux|pat\b|repas|denrees", SOL, "Alimentation", 1.5),
    (r"precarite|pauvrete|grande exclusion|sans-abri\w*|sans abri|sans domicile|hebergement d'urgence|mise a l'abri|"
     r"personnes a la rue|grand froid|accueils? de jour|maraudes?|hebergement (?:social|d'insertion|des personnes)|"
     r"poverty|homeless\w*|"
     r"demunis|personnes? vulnerables|publics? fragiles|publics? vulnerables|"
     r"lutte contre l'exclusion|aide sociale", SOL, "Lutte contre la précarité", 2),
    (r"minima sociaux|rsa|allocataires", SOL, "Lutte contre la précarité", 1),
    (r"inclusion numerique|fracture numerique|mediation numerique|conseillers? numeriques?|illectronisme|"
     r"aidants? numeriques?", SOL, "Inclusion numérique", 2.5),
    (r"securite|prevention de la delinquance|violences? (?:conjugales|faites aux femmes|intrafamiliales|sexistes|"
     r"sexuelles)|femmes victimes|victimes de violences|gender-based violence|"
     r"aide aux victimes", SOL, "Sécurité", 1),
    (r"protection animale|animaux errants|bien-etre animal", SOL, "Protection animale", 2),
    # urbanisme / logement / aménagement
    (r"logements?|habitat|hlm|bailleurs? sociaux|logement d'abord|residences? sociales?|housing|"
     r"pensions? de famille|habitat indigne|copropriete\w*|insalubr\w*|foyers? de jeunes travailleurs|fjt|"
     r"intermediation locative", URB, "Logement et habitat", 1.5),
    (r"accessibilite|mise en accessibilite", URB, "Accessibilité", 1.5),
    (r"equipements? publics?|batiments? publics?|equipements? communaux", URB, "Equipement public", 1),
    (r"espaces? publics?|places? publiques?|amenagement urbain|requalification", URB, "Espace public", 1),
    (r"urbanisme|amenagement du territoire|plu\b|plui\b|revitalisation des centres|centres?-bourgs?|"
     r"petites villes de demain|action coeur de ville|amenagement", URB, None, 1),
    (r"friches?", URB, "Friche", 1.5),
    (r"foncier\w*", URB, "Foncier", 1),
    (r"cimetieres?|funeraire", URB, "Cimetières et funéraire", 2),
    (r"voirie|reseaux divers|voies? communales|voies? rurales|routes?|routier\w*|chaussees?|ouvrages? d'art|"
     r"ponts?|trottoirs?|carrefours?", URB, "Voirie et réseaux", 1.5),
    (r"centres?-villes?|coeurs? de ville|immobilier\w*|promoteurs?|renouvellement urbain|"
     r"renovation des (?:qpv|quartiers)", URB, None, 1),
    (r"rehabilitation|renovation urbaine|anru", URB, "Réhabilitation", 1),
    (r"construction|batiments?", URB, "Bâtiments et construction", 0.5),
    (r"espaces? verts?|jardins? partages?|jardins? familiaux|vegetalisation", URB, "Espaces verts", 1),
    # culture / patrimoine / sports
    (r"culture\w*|culturel\w*|artistiques?|creation artistique|education artistique|eac\b", CUL,
     "Culture et identité collective", 1.5),
    (r"patrimoine|monuments? historiques?|restauration d'edifices", CUL, "Patrimoine et monuments historiques",
     2),
    (r"spectacle vivant|theatre|musique|danse|cirque|arts de la rue", CUL, "Spectacle vivant", 1.5),
    (r"bibliotheques?|mediatheques?|lecture publique|livres?", CUL, "Bibliothèques et livres", 1.5),
    (r"musees?", CUL, "Musée", 2),
    (r"sports?|sporti\w*|activites? physiques?|equipements? sportifs?|loisirs", CUL, "Sports et loisirs", 1.5),
    (r"arts plastiques|photographie", CUL, "Arts plastiques et photographie", 2),
    (r"medias?|journalisme|radio|education aux medias", CUL, "Médias et communication", 1),
    (r"tourisme|touristiques?", ECO, "Tourisme", 1),
    # nature / environnement
    (r"biodiversite|especes?|natura 2000|trame verte|ecosystemes?|faune|flore|milieux naturels|"
     r"patrimoines? naturels?|parcs? naturels?|espaces? naturels?", NAT,
     "Biodiversité", 1.5),
    (r"forets?|forestier\w*|bois\b", NAT, "Forêts", 1),
    (r"qualite de l'air|pollution de l'air", NAT, "Qualité de l'air", 2),
    (r"risques? naturels?|inondations?|submersion|secheresse|adaptation au changement climatique|"
     r"canicules?|vagues? de chaleur", NAT, "Risques naturels", 1.5),
    (r"environnement\w*|transition ecologique|ecologi\w*|education a l'environnement|climat\w*", NAT, None, 1),
    (r"sols?\b|pollution des sols", NAT, "Sols", 0.5),
    # développement économique
    (r"economie sociale et solidaire|\bess\b|innovation sociale|entrepreneuriat social|utilite sociale", ECO,
     "Economie sociale et solidaire", 1.5),
    (r"emploi|insertion professionnelle|insertion par l'activite economique|iae\b|retour a l'emploi|"
     r"demandeurs? d'emploi|chomage|chantiers? d'insertion|territoires zero chomeur", ECO, "Emploi", 1.5),
    (r"formation professionnelle|formations?|competences professionnelles|apprentissage", ECO,
     "Formation professionnelle", 1),
    (r"agricult\w*|agroalimentaire|exploitations? agricoles?|elevage", ECO, "Agriculture et agroalimentaire", 1.5),
    (r"economie circulaire|reemploi|reparation|ressourceries?", ECO, "Economie circulaire", 1.5),
    (r"circuits? courts?|economie locale|producteurs locaux", ECO, "Economie locale et circuits courts", 1.5),
    (r"commerces?|commerciale?s?|artisanat|artisan\w*|developpement commercial|activites economiques", ECO,
     "Commerces et services", 1.5),
    (r"innovation|recherche|r&d|recherche et developpement", ECO, "Innovation, créativité et recherche", 0.8),
    (r"entreprises?|developpement economique|creation d'entreprises?|industrie\w*|attractivite economique|"
     r"pme|tpe", ECO, None, 1),
    (r"numerique|digital\w*|numerisation|transformation numerique|intelligence artificielle|donnees", ECO,
     "Technologies numériques et numérisation", 0.8),
    (r"tiers-lieux?|tiers lieux?|fablabs?|espaces? de coworking", ECO, "Tiers-lieux", 2),
    (r"international\w*|cooperation europeenne|cooperation transfrontaliere|interreg", ECO, "International", 1),
    # mobilité
    (r"mobilite solidaire|mobilite inclusive|mobilite pour tous|garages? solidaires?|transport a la demande|"
     r"plateformes? de mobilite|permis de conduire", MOB, "Mobilité pour tous", 2),
    (r"mobilites?|transports?|deplacements?", MOB, None, 1),
    (r"velos?|cyclables?|marche a pied|modes actifs", MOB,
     "Modes actifs : vélo, marche et aménagements associés", 1.5),
    (r"covoiturage|autopartage|mobilite partagee", MOB, "Mobilité partagée", 2),
    (r"transports? collectifs?|transports? en commun", MOB, "Transports collectifs et optimisation des trafics "
     r"routiers", 1.5),
    # énergies / déchets
    (r"precarite energetique|renovation energetique|economies? d'energie|sobriete energetique|efficacite "
     r"energetique|cheques? energie|isolation thermique|passoires? thermiques?", ENE,
     "Economie d'énergie et rénovation énergétique", 2),
    (r"dechets?|recyclage|tri\b|biodechets|compostage|valorisation des dechets|depots? sauvages?", ENE,
     "Recyclage et valorisation des déchets", 1.5),
    (r"transition energetique|energies? renouvelables?|photovolta\w*|solaire|eolien\w*|methanisation|"
     r"hydrogene|energie\w*", ENE, "Transition énergétique", 1),
    (r"reseaux? de chaleur|chaleur renouvelable", ENE, "Réseaux de chaleur", 2),
    (r"bas carbone|decarbonation|empreinte carbone|emissions de gaz a effet de serre", ENE,
     "Réduction de l'empreinte carbone", 1.5),
    # eau
    (r"eau potable|ressource en eau", EAU, "Eau potable", 2),
    (r"assainissement|eaux usees", EAU, "Assainissement des eaux", 2),
    (r"cours d'eau|rivieres?|zones? humides|milieux aquatiques|gemapi", EAU, "Cours d'eau / canaux / plans d'eau",
     1.5),
    (r"eaux? pluviales?|eau de pluie", EAU, "Eau de pluie", 2),
    (r"mers?|oceans?|littoral|marin\w*", EAU, "Mers et océans", 1),
    # fonctions support
    (r"ingenierie|appui methodologique|assistance a maitrise d'ouvrage|amo\b|etudes? de faisabilite|"
     r"diagnostics?|evaluation", SUP, "Appui méthodologique", 0.7),
    (r"accompagn\w* (?:les|des) collectivites|conseil aux collectivites|assistance technique|appui technique|"
     r"conseil et (?:d')?accompagnement|expertise", SUP, "Appui méthodologique", 1),
    (r"mise en reseau|animation territoriale|animation de reseaux?|essaimage|capitalisation", SUP,
     "Animation et mise en réseau", 1),
    (r"valorisation d'actions|prix|trophees|concours", SUP, "Valorisation d'actions", 0.5),
]


#: each keyword is a whole word, or its plural in "s" ("mer" is not the start of "merci", nor "pont" of
#: "Pontoise"; "emploi" matches "emplois")
_LEXICON_MATCHER: Final = KeywordMatcher([("|".join(rf"{alt}s?\b" for alt in split_alternatives(p)), i)
                                          for i, (p, _, _, _) in enumerate(LEXICON)])


_FIELD_WEIGHTS: Final = (("title", 3.0), ("summary", 2.0), ("description", 1.0))
_TAG_WEIGHT: Final = 4.0
_THEME_ORDER: Final = {t: i for i, t in enumerate(schema.THEMES)}


@lru_cache(maxsize=1)
def _canonical_categories() -> dict[str, str]:
    names: dict[str, str] = {}
    for values in (load_mapping("at", "themes") or {}).values():
        for v in values:
            cat = v.partition("/")[2]
            if cat:
                names.setdefault(fold(cat), cat)
    for _, _, lexicon_cat, _ in LEXICON:
        if lexicon_cat:
            names.setdefault(fold(lexicon_cat), lexicon_cat)
    return names


@lru_cache(maxsize=1024)
def canonical_category(name: str) -> str:
    """Aides-territoires' spelling of a category ("Économie d’énergie…" → "Economie d'énergie…"). Cached:
    the tags of a source come from a short list."""
    return _canonical_categories().get(fold(name), name)


@dataclass(init=False)  # its own __init__ is compiled; the one @dataclass writes would be interpreted
class ThemeResult:
    """Themes (primary first), categories (AT names), trigger words per theme, unmapped source tags."""

    themes: list[str]
    categories: list[str]
    evidence: list[str]
    unmapped: list[str]

    def __init__(self, themes: list[str] | None = None, categories: list[str] | None = None,
                 evidence: list[str] | None = None, unmapped: list[str] | None = None) -> None:
        self.themes = [] if themes is None else themes
        self.categories = [] if categories is None else categories
        self.evidence = [] if evidence is None else evidence
        self.unmapped = [] if unmapped is None else unmapped


class _Tally:
    """Scores of themes and categories, and up to six trigger words per theme."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = {}
        self.cat_scores: dict[str, float] = {}
        self.cat_theme: dict[str, str] = {}
        self.evidence: dict[str, list[str]] = {}

    def add(self, theme: str, cat: str | None, weight: float, word: str) -> None:
        self.scores[theme] = self.scores.get(theme, 0.0) + weight
        if cat:
            self.cat_scores[cat] = self.cat_scores.get(cat, 0.0) + weight
            self.cat_theme.setdefault(cat, theme)
        words = self.evidence.setdefault(theme, [])
        if word not in words and len(words) < 6:
            words.append(word)


def classify_themes(text: str | dict | None, tags: list[str] | None = None,
                    source: str | None = None) -> ThemeResult:
    """Themes of a call. ``text`` is either one string or ``{"title", "summary", "description"}``."""
    parts = text if isinstance(text, dict) else {"description": text or ""}
    tally = _Tally()
    scores, cat_scores, cat_theme, evidence = tally.scores, tally.cat_scores, tally.cat_theme, tally.evidence
    tag_values, unmapped = map_labels(source or "at", "themes", [str(t) for t in tags or []])
    for value in tag_values:
        theme, _, tag_cat = value.partition("/")
        cat = canonical_category(tag_cat) if tag_cat else None
        tally.add(theme, cat, _TAG_WEIGHT, f"tag:{cat or theme}")
    # one pass over all fields joined; a match's position tells its field (unmapped tags read as a title)
    texts = [(fold(str(parts.get(name) or "")), w) for name, w in _FIELD_WEIGHTS]
    if unmapped:
        texts.append((fold(" ; ".join(unmapped)), _FIELD_WEIGHTS[0][1]))
    joined = " | ".join(t for t, _ in texts)
    ends: list[int] = []
    pos = 0
    for t, _ in texts:
        pos += len(t) + 3
        ends.append(pos)
    for entry, matches in _LEXICON_MATCHER.find_all(joined).items():
        counts: dict[float, int] = {}
        for start, _word in matches:
            fw = texts[bisect_right(ends, start)][1]
            counts[fw] = counts.get(fw, 0) + 1
        _, theme, cat, weight = LEXICON[entry]
        # diminishing returns on repeated words
        tally.add(theme, cat, sum(fw * weight * min(n, 3) ** 0.5 for fw, n in counts.items()), matches[0][1])
    ranked = sorted(scores, key=lambda t: (-scores[t], _THEME_ORDER.get(t, 99)))
    if ranked:
        top = scores[ranked[0]]
        ranked = [t for t in ranked if scores[t] >= max(top * 0.25, 1.0)]
    cats = sorted((c for c in cat_scores if cat_theme[c] in ranked),
                  key=lambda c: (-cat_scores[c], c))
    ev = [f"{t}: {', '.join(evidence[t])}" for t in ranked]
    return ThemeResult(themes=ranked, categories=cats, evidence=ev, unmapped=unmapped)
