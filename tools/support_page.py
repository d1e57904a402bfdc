"""Write one ansible-core line's row of the support guide page (``make matrix`` calls this per line).

    support_page.py PAGE LINE RELEASE CONTROLLER_PYTHON "MODULE_PYTHONS" "RESULT"

The page is a list-table with one row per line; the row of LINE is replaced, the others are kept,
so a run of one line (``tools/matrix.sh 2.18``) updates only what it measured.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CELLS = 5  # line, release, controller Python, module Pythons, result


def row(line: str, release: str, controller: str, modules: str, result: str) -> list[str]:
    values = [line, release, controller, modules, result]
    return ["   * - %s" % values[0]] + ["     - %s" % value for value in values[1:]]


def replace_row(page: str, new_row: list[str]) -> str:
    lines = page.splitlines()
    start = next((i for i, text in enumerate(lines) if text == new_row[0]), None)
    if start is None:
        raise SystemExit("support_page: no row for %r in the page; add one by hand first" % new_row[0].split()[-1])
    if not all(re.match(r"^     - ", text) for text in lines[start + 1:start + CELLS]):
        raise SystemExit("support_page: the row after %r is not %d cells" % (new_row[0], CELLS))
    lines[start:start + CELLS] = new_row
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 7:
        raise SystemExit(__doc__)
    page = Path(argv[1])
    cells = [" ".join(value.split()) for value in argv[2:]]
    modules = cells[3].split()
    cells[3] = "%s - %s" % (modules[0], modules[-1]) if modules else "none"
    page.write_text(replace_row(page.read_text(encoding="utf-8"), row(*cells)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
