"""Literal blocks of the guide pages, for tests that run them as written."""

from __future__ import annotations

import re
from pathlib import Path


def guide_block(guide: Path, label: str) -> str:
    """The literal block that follows ``.. _ansible_collections.imds.azure.docsite.<label>:`` and one
    paragraph in ``guide``, without its indentation."""
    text = guide.read_text(encoding="utf-8")
    anchor = r"\.\. _ansible_collections\.imds\.azure\.docsite\.%s:\n\n[^\n]*(?:\n[^\n]+)*\n\n" % re.escape(label)
    match = re.search(anchor + r"\.\. code-block:: \w+\n\n((?:    .*\n|\n)+)", text)
    assert match, "block %s not found in %s" % (label, guide)
    return "\n".join(line[4:] for line in match.group(1).rstrip("\n").splitlines()) + "\n"
