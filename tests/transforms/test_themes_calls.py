from transforms.calls import is_call_for_projects
from transforms.themes import classify_themes


def test_primary_theme_and_evidence():
    result = classify_themes({"title": "Bien vieillir à domicile",
                              "description": "Lutter contre l'isolement des personnes âgées."})
    assert result.themes[0] == "solidarites-lien-social"
    assert "Personnes âgées" in result.categories
    assert result.evidence[0].startswith("solidarites-lien-social:")



def test_keywords_are_whole_words_or_their_plural():
    # "mer" (Mers et océans), "pont" (Voirie), "route": not the first letters of a longer word
    for text in ("Merci de déposer votre dossier avant le mercredi 4 mars.", "Commune de Pontoise",
                 "Routeurs wifi"):
        assert classify_themes({"description": text}).themes == [], text
    # "media" is not the start of "médiation", nor "recherche" of "recherchent"
    result = classify_themes({"description": "Actions de médiation pour les porteurs qui recherchent un lieu."})
    assert "Médias et communication" not in result.categories
    assert "Innovation, créativité et recherche" not in result.categories
    result = classify_themes({"title": "Emplois et innovations numériques"})
    assert result.themes == ["developpement-economique"]
    assert {"Emploi", "Innovation, créativité et recherche"} <= set(result.categories)
    assert classify_themes({"title": "Rénovation des ponts communaux"}).categories == ["Voirie et réseaux"]

def test_tags_are_mapped_and_unknown_tags_reported():
    result = classify_themes({"title": "Aide"}, tags=["Solidarités / lien social|Handicap", "Zzz"])
    assert result.themes == ["solidarites-lien-social"]
    assert result.categories == ["Handicap"]
    assert result.unmapped == ["Zzz"]


def test_call_detection_whole_words():
    assert is_call_for_projects("Appel à projets « Bien vieillir »")
    assert is_call_for_projects("AMI Tiers-lieux solidaires")
    assert is_call_for_projects("Appel à manifestation d'intérêt pour l'habitat inclusif")
    assert not is_call_for_projects("Soutien aux familles et à l'amiante")
    assert not is_call_for_projects("Aide à la dynamique associative", "Ami des familles")
    assert is_call_for_projects("Aide", label=True)
    assert not is_call_for_projects("Appel à projets", label=False)
