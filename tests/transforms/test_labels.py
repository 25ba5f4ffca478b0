from pathlib import Path

import pytest

from transforms.labels import MAPPINGS_DIR, MappingError, load_mapping, map_labels


def test_generic_at_labels():
    values, unmapped = map_labels("some_source_without_files", "audiences",
                                  ["Communes", "ÉTABLISSEMENTS PUBLICS (écoles, bibliothèques…) / Services de l'État",
                                   "Inconnu"])
    assert values == ["commune", "public_org"]
    assert unmapped == ["Inconnu"]


def test_types_and_themes():
    assert map_labels("x", "types", ["Subvention", "Ingénierie technique"])[0] == ["grant", "technical_engineering"]
    assert map_labels("x", "themes", ["Solidarités / lien social|Personnes âgées"])[0] == \
        ["solidarites-lien-social/Personnes âgées"]


@pytest.mark.parametrize("path", sorted(MAPPINGS_DIR.glob("*__*.csv")), ids=lambda p: p.name)
def test_every_mapping_file_loads(path: Path):
    source, kind = path.stem.split("__", 1)
    assert load_mapping(source, kind)


def test_bad_value_is_reported(tmp_path):
    (tmp_path / "demo__audiences.csv").write_text("source_label,aap_values\nFoo,martians\n", encoding="utf-8")
    with pytest.raises(MappingError, match="martians"):
        load_mapping("demo", "audiences", tmp_path)
