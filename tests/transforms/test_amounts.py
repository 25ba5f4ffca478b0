import pytest

from transforms.amounts import parse_amounts


@pytest.mark.parametrize("text, expected", [
    ("Min. 3.000 € par projet", (3000.0, None)),
    ("Subvention jusqu'à 150 000 euros", (None, 150000.0)),
    ("3 530 000 euros", (None, 3530000.0)),
    ("entre 5 000 et 20 000 €", (5000.0, 20000.0)),
    ("de 5 000 € à 20 000 €", (5000.0, 20000.0)),
    ("Aide plafonnée à 50 k€", (None, 50000.0)),
    ("1,5 M€", (None, 1500000.0)),
    ("Subvention forfaitaire de 5 000 €", (5000.0, 5000.0)),
    ("aide plafonnée à 30 000 € et 80 % des dépenses", (None, 30000.0)),
    ("2 millions d'euros", (None, 2000000.0)),
    ("communes de moins de 3 500 habitants, projets 2025", (None, None)),
    ("", (None, None)),
])
def test_amounts(text, expected):
    assert parse_amounts(text) == expected


def test_project_cost_floor_is_not_the_aid():
    assert parse_amounts("Projets d'un coût total supérieur à 50 000 € ; aide jusqu'à 20 000 €") == (None, 20000.0)
