"""Print the mutation score of each file of a finished mutmut 3 run, and of all of them together.

Usage: mutation_score.py MUTANTS_DIR FILE...   (FILE as given to mutmut's source_paths)
Score = killed / (all mutants that were checked); "no tests" and survivors count against it.
Exit status 1 when the files together score under 85 % or one of them under 75 % (issue 12).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TOTAL_TARGET = 85.0
FILE_TARGET = 75.0
KILLED = {1, 3, 37}  # tests failed (or pytest broke), or the type checker caught it


def counts(meta: Path) -> tuple:
    exit_codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    checked = [code for code in exit_codes.values() if code is not None]
    survivors = sorted(name for name, code in exit_codes.items() if code not in KILLED and code is not None)
    return sum(code in KILLED for code in checked), len(checked), len(exit_codes), survivors


def main(mutants: str, files: list) -> int:
    total_killed = total_checked = 0
    failed = False
    for name in files:
        killed, checked, generated, survivors = counts(Path(mutants) / (name + ".meta"))
        score = 100.0 * killed / checked if checked else 0.0
        failed |= score < FILE_TARGET
        total_killed += killed
        total_checked += checked
        print("%-40s %5.1f %%  (%d of %d killed, %d generated)" % (name, score, killed, checked, generated))
        for survivor in survivors:
            print("    survived: %s" % survivor)
    total = 100.0 * total_killed / total_checked if total_checked else 0.0
    failed |= total < TOTAL_TARGET
    print("%-40s %5.1f %%  (%d of %d killed; targets: %.0f %% together, %.0f %% per file)"
          % ("together (%d files)" % len(files), total, total_killed, total_checked, TOTAL_TARGET, FILE_TARGET))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
