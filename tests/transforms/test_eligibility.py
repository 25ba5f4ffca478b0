import pytest

from transforms.eligibility import classify_eligibility, eligibility_from_sources


@pytest.mark.parametrize("text, cls, rule", [
    ("Associations ; Communes, CCAS ;", "explicit", "names_ccas"),
    ("Peuvent candidater les centres communaux d'action sociale.", "explicit", "names_ccas"),
    ("Bénéficiaires : CCAS/CIAS dans certains cas", "explicit", "names_ccas"),
    ("Sont éligibles : les communes et les CCIAS", "explicit", "names_ccas"),
    ("Sont éligibles les collectivités et leurs établissements publics.", "likely",
     "collectivities_and_their_bodies"),
    ("Toute personne morale de droit public", "likely", "public_bodies"),
    ("Établissements et services sociaux et médico-sociaux", "likely", "social_services"),
    ("Peuvent candidater les communes et les EPCI.", "via_commune", "communes_or_epci_only"),
    ("Établissements publics de coopération intercommunale (EPCI)", "via_commune", "communes_or_epci_only"),
    ("Les associations loi 1901.", "not_eligible", "other_applicants_only"),
    ("Les associations sont éligibles, les CCAS ne sont pas éligibles.", "not_eligible", "ccas_excluded"),
    ("Cet appel soutient les personnes âgées isolées.", "unknown", "no_applicant_info"),
])
def test_classes(text, cls, rule):
    result = classify_eligibility(text)
    assert (result.cls, result.rule) == (cls, rule)


def test_evidence_is_the_deciding_sentence():
    text = "L'appel vise l'inclusion numérique. Sont éligibles : les communes et leurs CCAS. Dépôt en ligne."
    result = classify_eligibility(text)
    assert result.evidence == "Sont éligibles : les communes et leurs CCAS."
    assert result.audiences == ["commune", "ccas"]


def test_partner_mention_is_not_an_applicant():
    result = classify_eligibility("Les associations, en partenariat avec le CCAS de leur commune.")
    assert result.cls == "not_eligible"


def test_structured_labels():
    assert classify_eligibility(None, ["Associations|||Collectivité ou institution - Autre (GIP, EPA…)"]).cls \
        == "likely"
    assert classify_eligibility(None, ["Collectivité Territoriale & Entité Affiliée"]).cls == "likely"
    assert classify_eligibility(None, ["Communes", "Intercommunalités / Pays"]).cls == "via_commune"


def test_description_fallback_is_strict():
    desc = "Le CCAS de la ville a inspiré ce dispositif. Bénéficiaires : les associations."
    result = eligibility_from_sources(None, None, desc)
    assert result.cls == "not_eligible"
    assert result.rule == "description:other_applicants_only"


def test_case_and_accents_do_not_matter():
    assert classify_eligibility("ÉLIGIBLES : CENTRES COMMUNAUX D’ACTION SOCIALE").cls == "explicit"
