from datetime import date

import pytest

from pipeline.schema import compute_status
from transforms.deadlines import extract_deadlines, parse_structured_date

AS_OF = date(2025, 11, 20)


@pytest.mark.parametrize("text, expected", [
    ("Date limite de dépôt : 16.09.2020", ["2020-09-16"]),
    ("Date limite de dépôt :16/09/2020", ["2020-09-16"]),
    ("Les dossiers sont à déposer jusqu'au 29 janvier 2026 à 23h59", ["2026-01-29"]),
    ("LUNDI 5 DECEMBRE 2016", ["2016-12-05"]),
    ("Clôture le 27 Février 2024", ["2024-02-27"]),
    ("Date limite : 1er septembre 2025", ["2025-09-01"]),
    ("Date limite : 08/11/2025", ["2025-11-08"]),
])
def test_single_dates(text, expected):
    info = extract_deadlines(text, as_of=AS_OF)
    assert info.kind == "single"
    assert info.deadlines == expected


def test_no_year_uses_weekday_and_as_of():
    # 11 February 2026 is a Wednesday; from November 2025 the next one is meant
    info = extract_deadlines("Candidatures jusqu'au mercredi 11 février", as_of=AS_OF)
    assert info.deadlines == ["2026-02-11"]
    assert info.flags == ["year_inferred"]  # and no weekday mismatch


def test_weekday_picks_the_matching_year():
    # 11 February 2025 was a Tuesday: "mardi 11 février" read in November 2025 means the past one
    info = extract_deadlines("Date limite : mardi 11 février", as_of=AS_OF)
    assert info.deadlines == ["2025-02-11"]
    assert info.status == "closed"


def test_range_opens_and_closes():
    info = extract_deadlines("Du 4 décembre 2024 au 17 janvier 2025", as_of=date(2024, 12, 10))
    assert info.opens_on == "2024-12-04"
    assert info.deadlines == ["2025-01-17"]
    assert info.status == "open"


def test_range_borrowing_month_and_year():
    info = extract_deadlines("Dépôt des candidatures du 4 au 17 janvier 2026", as_of=AS_OF)
    assert (info.opens_on, info.deadlines, info.status) == ("2026-01-04", ["2026-01-17"], "forthcoming")


def test_times():
    assert extract_deadlines("Date limite : 15 janvier 2026 à midi", as_of=AS_OF).time == "12:00"
    assert extract_deadlines("avant le 15/01/2026 12h00", as_of=AS_OF).time == "12:00"
    assert extract_deadlines("jusqu'au 3 mars 2026 à minuit", as_of=AS_OF).time == "23:59"
    assert extract_deadlines("jusqu'au 3 mars 2026", as_of=AS_OF).time is None


def test_sessions_are_multiple():
    info = extract_deadlines("Sessions de dépôt : 31 janvier, 31 mai et 30 septembre 2026", as_of=AS_OF)
    assert info.kind == "multiple"
    assert info.deadlines == ["2026-01-31", "2026-05-31", "2026-09-30"]
    assert info.next_deadline == "2026-01-31"


@pytest.mark.parametrize("text", [
    "Dépôt des dossiers au fil de l'eau", "Dispositif ouvert toute l'année", "Candidatures en continu",
    "Aide permanente", "Jusqu'à épuisement des crédits",
])
def test_rolling(text):
    info = extract_deadlines(text, as_of=AS_OF)
    assert (info.kind, info.status, info.deadlines) == ("rolling", "rolling", [])


def test_commission_permanente_is_not_rolling_nor_a_deadline():
    info = extract_deadlines("Dossiers examinés en commission permanente du 12 mars 2026", as_of=AS_OF)
    assert info.kind == "unknown"
    assert info.deadlines == []


def test_distractors_are_skipped():
    text = ("Publié le 03/02/2025. Prise de contact avant le 1er décembre 2025. "
            "Date limite de dépôt : 15 janvier 2026. Les projets devront démarrer avant le 30 juin 2026.")
    info = extract_deadlines(text, as_of=AS_OF)
    assert info.deadlines == ["2026-01-15"]
    assert info.evidence == "Date limite de dépôt : 15 janvier 2026."


def test_extension_replaces_earlier_deadline():
    info = extract_deadlines("Date limite : 15 mars 2025, prolongée jusqu'au 30 avril 2025", as_of=AS_OF)
    assert info.deadlines == ["2025-04-30"]
    assert "extended" in info.flags


def test_strict_mode_needs_a_cue():
    text = "Le programme a été créé le 12 mars 2021. Les candidatures doivent être envoyées avant le 2 février 2026."
    assert extract_deadlines(text, as_of=AS_OF, strict=True).deadlines == ["2026-02-02"]
    assert extract_deadlines("Réunion le 12 mars 2026.", as_of=AS_OF, strict=True).deadlines == []


def test_structured_paris_midnight_in_utc():
    info = extract_deadlines(None, as_of=date(2023, 8, 1), structured_deadlines=["2023-09-04T22:00:00+00:00"])
    assert info.deadlines == ["2023-09-05"]


def test_structured_wins_and_disagreement_is_flagged():
    info = extract_deadlines("Date limite : 1er mars 2026", as_of=AS_OF, structured_deadlines=["2026-03-15"])
    assert info.deadlines == ["2026-03-15"]
    assert "text_disagrees:2026-03-01" in info.flags


def test_structured_beats_stale_status_label():
    info = extract_deadlines(None, as_of=AS_OF, structured_deadlines=["2025-10-01T17:00:00+02:00"],
                             status_label="Open")
    assert info.status == "closed"
    assert any(f.startswith("status_label_disagrees") for f in info.flags)


def test_status_label_used_without_dates():
    assert extract_deadlines("", as_of=AS_OF, status_label="Clôturé").status == "closed"
    assert extract_deadlines("", as_of=AS_OF, status_label="Forthcoming").status == "forthcoming"


def test_bad_structured_value_is_flagged_not_raised():
    info = extract_deadlines("", as_of=AS_OF, structured_deadlines=["bientôt"])
    assert info.deadlines == [] and info.flags == ["bad_structured_date:bientôt"]


def test_parse_structured_formats():
    assert parse_structured_date("30/10/2026") == date(2026, 10, 30)
    assert parse_structured_date("2026-10-30") == date(2026, 10, 30)
    assert parse_structured_date("2026-10-30T23:30:00Z") == date(2026, 10, 31)
    with pytest.raises(ValueError):
        parse_structured_date("n/a")


@pytest.mark.parametrize("deadlines, opens, expected", [
    (["2025-11-20"], None, "closing_soon"),
    (["2025-12-04"], None, "closing_soon"),
    (["2025-12-05"], None, "open"),
    (["2025-11-19"], None, "closed"),
    (["2025-11-01", "2026-03-01"], None, "open"),
    (["2026-03-01"], "2025-12-01", "forthcoming"),
    ([], None, "unknown"),
])
def test_compute_status(deadlines, opens, expected):
    kind = "single" if deadlines else "unknown"
    assert compute_status(kind, deadlines, opens, AS_OF) == expected


def test_compute_status_rolling():
    assert compute_status("rolling", [], None, AS_OF) == "rolling"
    assert compute_status("rolling", [], "2026-01-01", AS_OF) == "forthcoming"


@pytest.mark.parametrize("label, status", [
    ("Open For Submission", "open"), ("Forthcoming", "forthcoming"), ("Closed", "closed"), ("Clôturé", "closed"),
    ("À venir", "forthcoming"), ("Ouvert", "open"), ("En continu", "rolling"), ("Inconnu", "unknown"),
])
def test_portal_status_words_without_dates(label, status):
    assert extract_deadlines("", as_of=AS_OF, status_label=label).status == status
