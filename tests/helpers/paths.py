"""Where things are: this checkout, the shared IMDS facts beside it, the set-up cache."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def _shared_dir() -> Path:
    """../shared/imds beside this checkout; for the copy that tools/collection_copy.sh makes under
    .cache/sanity (ansible-test units), beside the checkout it was copied from."""
    beside = ROOT.parent / "shared" / "imds"
    copied_from = ROOT.parents[4] if len(ROOT.parents) > 4 and ROOT.parents[3].name == ".cache" else None
    if not beside.exists() and copied_from is not None:
        return copied_from.parent / "shared" / "imds"
    return beside


SHARED = _shared_dir()
SAMPLES = SHARED / "samples"
FIELD_SAMPLES = SHARED / "field-samples"
SPEC = SHARED / "spec" / "imds-2023-07-01.json"
CACHE = ROOT / ".cache"
COLLECTIONS_PATH = CACHE / "collections"
# tools/setup.sh links this checkout here, as the collection ansible-playbook and the unit tests load.
LINKED_COLLECTION = COLLECTIONS_PATH / "ansible_collections" / "imds" / "azure"
NETGUARD_DIR = TESTS / "netguard"
CALLBACK_DIR = TESTS / "helpers" / "callback_plugins"
VENV_BIN = Path(sys.executable).parent
EMULATOR_SERVE = [str(VENV_BIN / "azure-imds-emulator"), "serve"]
PYTHON = sys.executable
# Set by `make pytest` and the matrix: a missing piece fails the test instead of skipping it.
STRICT_ENV = "IMDS_AZURE_TESTS_STRICT"


def is_shared(path) -> bool:
    return Path(path).resolve().is_relative_to(SHARED.resolve())


def missing_shared(path) -> None:
    """Skip (or, when strict, fail) the calling test module: the shared IMDS facts are not beside this checkout."""
    import os  # pylint: disable=import-outside-toplevel
    import pytest  # pylint: disable=import-outside-toplevel
    message = ("needs the shared IMDS facts (%s is missing): put the `shared` directory beside this checkout, "
               "as %s" % (path, SHARED.parent))
    if os.environ.get(STRICT_ENV):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def require_collections() -> None:
    """Fail the calling test: ansible-playbook tests need the collections that tools/setup.sh unpacks."""
    if not LINKED_COLLECTION.exists():
        import pytest  # pylint: disable=import-outside-toplevel
        pytest.fail("needs the collections of the set-up (%s is missing): run `bash tools/setup.sh` or any "
                    "`make` target" % (COLLECTIONS_PATH / "ansible_collections"), pytrace=False)
    if not collection_linked_here():  # ansible-playbook would run another checkout's collection
        import pytest  # pylint: disable=import-outside-toplevel
        pytest.fail("%s leads to %s, not to this checkout (%s): run `bash tools/setup.sh` here to relink it"
                    % (LINKED_COLLECTION, LINKED_COLLECTION.resolve(), ROOT), pytrace=False)


def collection_linked_here() -> bool:
    """The set-up's link exists and leads to this checkout (one copied from another worktree leads there)."""
    return LINKED_COLLECTION.exists() and LINKED_COLLECTION.resolve() == ROOT.resolve()
