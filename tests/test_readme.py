"""The README's source table is generated from the spiders and must stay in sync."""

import re

from pipeline.commands import sources_markdown
from pipeline.settings import PROJECT_ROOT


def test_readme_source_table_matches_the_spiders() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- sources:start -->\n(.*?)<!-- sources:end -->", text, re.S)
    assert block, "README lacks the sources block"
    assert block.group(1).strip() == sources_markdown().strip(), (
        "README source table is stale: run `aap sources --markdown` and paste it between the markers")


def test_readme_names_the_test_command() -> None:
    assert "make test" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
