"""Make this checkout importable as ``ansible_collections.imds.azure`` without any set-up."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from helpers import paths


def importable_root() -> Path:
    """A directory holding ``ansible_collections/imds/azure`` that is this checkout.

    Under ansible-test the checkout already sits in such a tree; after tools/setup.sh,
    .cache/collections has a link (used when it leads here); otherwise a link in a temporary directory, removed at exit.
    """
    if paths.ROOT.parent.name == "imds" and paths.ROOT.parent.parent.name == "ansible_collections":
        return paths.ROOT.parents[2]
    if paths.collection_linked_here():
        return paths.COLLECTIONS_PATH
    temporary = Path(tempfile.mkdtemp(prefix="imds-azure-collection-"))
    atexit.register(shutil.rmtree, temporary, True)
    (temporary / "ansible_collections" / "imds").mkdir(parents=True)
    (temporary / "ansible_collections" / "imds" / "azure").symlink_to(paths.ROOT)
    return temporary
