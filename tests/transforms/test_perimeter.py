from transforms.perimeter import departments, regions, resolve_perimeter

IDF = {"scale": "region", "regions": ["11"], "departments": [], "label": "Île-de-France"}


def test_reference_table_sizes():
    assert len(regions()) == 18
    assert len(departments()) == 101
    assert {r for _, r in departments().values()} == set(regions())


def test_names_and_aliases():
    assert resolve_perimeter("Drôme", IDF)["departments"] == ["26"]
    assert resolve_perimeter("Département de la Manche", IDF)["regions"] == ["28"]
    assert resolve_perimeter("Loire-Atlantique", IDF)["departments"] == ["44"]
    pdl = resolve_perimeter("Région Pays de la Loire", IDF)
    assert (pdl["scale"], pdl["regions"]) == ("region", ["52"])
    assert resolve_perimeter("Rhône-Alpes", IDF)["regions"] == ["84"]
    assert resolve_perimeter("Région Sud", IDF)["regions"] == ["93"]


def test_scales():
    assert resolve_perimeter("France", IDF)["scale"] == "national"
    assert resolve_perimeter("Union européenne", IDF)["scale"] == "europe"
    assert resolve_perimeter("Ardèche, Drôme", IDF)["scale"] == "other"
    cc = resolve_perimeter("Communauté de communes du Val de Drôme", IDF)
    assert (cc["scale"], cc["departments"]) == ("epci", ["26"])


def test_unknown_label_keeps_default():
    out = resolve_perimeter("Quelque part", IDF)
    assert (out["scale"], out["regions"], out["label"]) == ("region", ["11"], "Quelque part")
    assert out["departments"] == ["75", "77", "78", "91", "92", "93", "94", "95"]
    assert resolve_perimeter(None, None)["scale"] == "other"
