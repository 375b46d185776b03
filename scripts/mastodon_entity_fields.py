#!/usr/bin/env python3
"""Writes the fixture crates/holdfast-api/tests/mastodon_entity_fields.json:
for every entity the Mastodon documentation describes, the names of its
documented fields (the `### \`field\`` headings; nested fields keep the
docs' bracket form, `source[privacy]`).

The project's own tests read the fixture, so they do not need the docs
repository. Re-run after updating the docs:

    scripts/mastodon_entity_fields.py [DOCS_CONTENT_EN]   (default /work/mastodon-docs/content/en)
"""

import json
import pathlib
import re
import sys

DOCS = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/work/mastodon-docs/content/en")
OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/holdfast-api/tests/mastodon_entity_fields.json"
# Entities documented on a methods page rather than under entities/.
METHOD_PAGES = ["methods/grouped_notifications.md"]

SECTION = re.compile(r"^## (.+?)\s*$")
FIELD = re.compile(r"^###+ `([^`]+)`")


def section_name(heading: str, stem: str):
    """`Attributes` is the page's own entity; `X attributes` or `X entity` another one."""
    text = re.sub(r"\{[^}]*\}", "", heading).replace("`", "").strip()
    if text == "Attributes":
        return stem
    m = re.fullmatch(r"(\S+) (?:entity attributes|attributes|entity)", text)
    return m.group(1) if m else None


def parse(path: pathlib.Path, stem, entities: dict):
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = SECTION.match(line)
        if m:
            current = section_name(m.group(1), stem)
            if current is not None:
                entities.setdefault(current, [])
            continue
        m = FIELD.match(line)
        if m and current is not None and m.group(1) not in entities[current]:
            entities[current].append(m.group(1))


def main():
    entities: dict = {}
    for path in sorted((DOCS / "entities").glob("*.md")):
        parse(path, path.stem, entities)
    for page in METHOD_PAGES:
        parse(DOCS / page, None, entities)
    entities = {k: sorted(v) for k, v in sorted(entities.items()) if v}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(entities, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(entities)} entities")


if __name__ == "__main__":
    main()
