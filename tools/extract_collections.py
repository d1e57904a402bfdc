"""Unpack named collections from the `ansible` wheel: extract_collections.py WHEEL DEST NAME..."""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path


def main(wheel: str, dest: str, names: list) -> int:
    destination = Path(dest)
    prefixes = ["ansible_collections/%s/" % name.replace(".", "/") for name in names]
    with zipfile.ZipFile(wheel) as archive:
        for prefix in prefixes:
            target = destination / prefix[len("ansible_collections/"):]
            if target.exists():
                shutil.rmtree(target)
        members = [m for m in archive.namelist() if any(m.startswith(p) for p in prefixes)]
        if not members:
            print("no %s in %s" % (", ".join(names), wheel), file=sys.stderr)
            return 1
        for member in members:
            path = destination / member[len("ansible_collections/"):]
            if member.endswith("/"):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(path, "wb") as target_file:
                shutil.copyfileobj(source, target_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
