"""``python -m pipeline.readme``: rewrite the README's source table from the spider declarations."""

from __future__ import annotations

import re

from pipeline.commands import sources_markdown
from pipeline.settings import PROJECT_ROOT


def main() -> None:
    path = PROJECT_ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    new = re.sub(r"(<!-- sources:start -->\n).*?(<!-- sources:end -->)",
                 lambda m: m.group(1) + sources_markdown() + "\n" + m.group(2), text, flags=re.S)
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
