from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import schema
from transforms.normalize import to_record, to_records

META = {"source_level": "regional", "funder": "Région Île-de-France",
        "perimeter": {"scale": "region", "regions": ["11"], "departments": [], "label": "Île-de-France"},
        "platform": "opendatasoft"}


def _item(**kw):
    base = {"source": "demo_region", "native_id": "42", "url": "https://www.iledefrance.fr/aides/bien-vieillir",
            "title": "Appel à projets Bien vieillir en Île-de-France"}
    base.update(kw)
    return base


def test_full_record():
    item = _item(deadlines=["2023-09-04T22:00:00+00:00"],
                 deadline_text="Date limite : 5 septembre 2023 à 12h00",
                 audience_labels="Associations|||Communes|||Label inconnu",
                 description="Soutenir les seniors isolés. Subvention jusqu'à 20 000 €.",
                 type_labels=["Subvention"], perimeter_label="Essonne")
    rec = to_record(item, META, date(2023, 8, 1))
    assert tuple(rec) == schema.RECORD_FIELDS
    assert rec["id"] == "demo_region:42"
    assert rec["deadlines"] == ["2023-09-05"] and rec["deadline_time"] == "12:00"
    assert rec["status"] == "open" and rec["deadline_kind"] == "single"
    assert rec["funder"] == "Région Île-de-France"
    assert (rec["perimeter_scale"], rec["perimeter_departments"]) == ("department", ["91"])
    assert rec["ccas_eligibility"] == "via_commune"
    assert rec["audiences"] == ["commune", "association"]
    assert rec["unmapped_labels"] == ["Label inconnu"]
    assert rec["aid_types"] == ["grant"]
    assert rec["amount_max"] == 20000.0
    assert rec["themes"][0] == "solidarites-lien-social"
    assert rec["is_call_for_projects"] is True
    assert rec["content_hash"] and rec["calendar_hash"]


def test_calendar_change_changes_only_calendar_hash():
    a = to_record(_item(deadline_text="Date limite : 1er mars 2026"), META, date(2025, 11, 1))
    b = to_record(_item(deadline_text="Date limite : 1er mars 2026", deadlines=["2026-03-15"]), META,
                  date(2025, 11, 1))
    assert a["calendar_hash"] != b["calendar_hash"]
    assert a["content_hash"] == b["content_hash"]


def test_description_used_when_no_deadline_field():
    rec = to_record(_item(description="Publié le 2 janvier 2026. Candidatures jusqu'au 10 mars 2026."), META,
                    date(2026, 1, 5))
    assert rec["deadlines"] == ["2026-03-10"]


@pytest.mark.parametrize("item, reason", [
    ({"source": "x", "url": "https://a.fr"}, "lacks title"),
    ("not a dict", "not an object"),
    ({"source": "x", "url": "https://a.fr", "title": "t", "colour": 1}, "unknown fields colour"),
    ({"source": "x", "url": "ftp://a.fr", "title": "t"}, "not http"),
])
def test_invalid_items_raise_validation_error(item, reason):
    with pytest.raises(schema.ValidationError, match=reason):
        to_record(item, META, date(2025, 1, 1))


def test_bad_meta():
    with pytest.raises(schema.ValidationError, match="source_level"):
        to_record(_item(), {"source_level": "planet"}, date(2025, 1, 1))


def test_messy_types_do_not_crash():
    rec = to_record(_item(audience_labels=["", None, 3], theme_labels="Solidarités / lien social",
                          deadlines="30/10/2026", description=["<p>Texte</p>", "<b>HTML</b>"]),
                    META, date(2026, 1, 1))
    assert rec["deadlines"] == ["2026-10-30"]
    assert rec["description"] == "Texte\n\nHTML" or "Texte" in rec["description"]


def test_description_read_when_deadline_field_is_not_a_date():
    rec = to_record(_item(deadline_text="Ponctuelle",
                          description="Les dossiers sont à déposer avant le 12 mars 2027. Réunion le 2 février 2027."),
                    META, date(2026, 11, 25))
    assert rec["deadlines"] == ["2027-03-12"]
    assert "deadline_from_description" in rec["deadline_flags"]


RAW_VALUES = st.one_of(st.none(), st.text(max_size=40), st.integers(), st.booleans(),
                       st.lists(st.text(max_size=20), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([f for f in schema.RAW_FIELDS if f not in ("source", "url", "title")]),
                       RAW_VALUES, max_size=10), st.text(min_size=1, max_size=40))
def test_any_item_gives_a_record_or_a_validation_error(extra, title):
    item = _item(title=title, **extra)
    try:
        rec = to_record(item, META, date(2026, 1, 1))
    except schema.ValidationError as exc:
        assert str(exc)
    else:
        assert tuple(rec) == schema.RECORD_FIELDS


class _Unreadable:
    """A value whose text cannot be read: what a bug in an extractor's input handling looks like."""

    def __str__(self):
        raise RuntimeError("unreadable value")


def _outcome(make):
    try:
        return make()
    except Exception as exc:  # noqa: BLE001 — the outcome compared is the exception itself
        return f"{type(exc).__name__}: {exc}"


def test_a_batch_gives_each_item_what_it_gives_alone():
    """Each extractor runs over the whole batch before the next one: an item that fails (invalid, an
    extractor's exception, a text that cannot be read) fails alone, with its own reason, in its place."""
    items = [
        _item(native_id="1", deadline_text="Date limite : 5 septembre 2026", description="Aide aux seniors."),
        {"source": "demo_region", "url": "https://www.iledefrance.fr/aides/x"},  # no title
        _item(native_id="3", deadlines=[_Unreadable()]),  # the deadlines extractor raises
        _item(native_id="4", description="Accompagner les familles monoparentales. Jusqu'à 15 000 €."),
        _item(native_id="5", title=_Unreadable()),  # raises before any extractor
        _item(native_id="6", perimeter_label=_Unreadable()),  # raises after them
        _item(native_id="7", deadline_text="Ponctuelle", description="Dépôt avant le 12 mars 2027."),
    ]
    batch = [r if isinstance(r, dict) else f"{type(r).__name__}: {r}"
             for r in to_records(items, META, date(2026, 6, 1))]
    alone = [_outcome(lambda item=item: to_record(item, META, date(2026, 6, 1))) for item in items]
    assert batch == alone
    assert [r["native_id"] if isinstance(r, dict) else r for r in batch] == [
        "1", "ValidationError: raw item lacks title",
        "ValidationError: deadlines failed: RuntimeError: unreadable value", "4",
        "RuntimeError: unreadable value", "ValidationError: perimeter failed: RuntimeError: unreadable value", "7"]
    assert batch[-1]["deadlines"] == ["2027-03-12"]


def test_a_batch_with_bad_meta_fails_every_item():
    assert [str(r) for r in to_records([_item(), _item(native_id="2")], {"source_level": "planet"},
                                       date(2025, 1, 1))] == ["source meta source_level='planet' not in vocabulary"] * 2
