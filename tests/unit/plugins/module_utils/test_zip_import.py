"""_zip_import: this collection's module_utils compiled once when they run from a zip archive, as AnsiballZ
ships them. Each case runs in a fresh Python, so that the finder it installs stays there."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from ansible_collections.imds.azure.plugins.module_utils import _zip_import
from helpers.python_probe import run_python

COLLECTION = Path(__file__).resolve().parents[4]
PACKAGE_DIR = "ansible_collections/imds/azure/plugins/module_utils"

# Loads _client from the archive with compile() counted per file, then reports what happened.
PROBE = r"""
import builtins, collections, json, sys, traceback
sys.path.insert(0, sys.argv[1])
compiled = collections.Counter()
real_compile = builtins.compile

def counting_compile(source, filename, *args, **kwargs):
    compiled[filename.rpartition("/")[2]] += 1
    return real_compile(source, filename, *args, **kwargs)

builtins.compile = counting_compile
from ansible_collections.imds.azure.plugins.module_utils import _zip_import
_zip_import.compile_once()
_zip_import.compile_once()
from ansible_collections.imds.azure.plugins.module_utils import _client
builtins.compile = real_compile
try:
    _client.metadata_path("instance/../secrets")
except Exception:
    shown = traceback.format_exc()
try:
    import ansible_collections.imds.azure.plugins.module_utils._not_in_the_archive
    missing = "imported"
except ImportError as exc:
    missing = type(exc).__name__
print(json.dumps({
    "compiled": compiled,
    "finders": sum(type(f).__name__ == "_CompileOnceFinder" for f in sys.meta_path),
    "client_file": _client.__file__,
    "client_loader": type(_client.__loader__).__name__,
    "traceback": shown,
    "missing": missing,
}))
"""


def archive_of_module_utils(tmp_path: Path) -> Path:
    """A zip holding this collection's module_utils under ansible_collections/..., as AnsiballZ lays them out."""
    archive = tmp_path / "payload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for package in ("ansible_collections", "ansible_collections/imds", "ansible_collections/imds/azure",
                        "ansible_collections/imds/azure/plugins", PACKAGE_DIR):
            bundle.writestr(package + "/__init__.py", "")
        for source in sorted((COLLECTION / "plugins" / "module_utils").glob("_*.py")):
            bundle.write(source, "%s/%s" % (PACKAGE_DIR, source.name))
    return archive


def test_each_module_from_the_archive_is_compiled_once(tmp_path):
    found = run_python(PROBE, str(archive_of_module_utils(tmp_path)))
    # _client and everything it imports came through the finder: one compile each.
    for name in ("_client.py", "_transport.py", "_errors.py", "_path_rules.py", "_api_versions.py"):
        assert found["compiled"][name] == 1, found["compiled"]
    assert found["client_loader"] == "_SourceLoader"
    assert found["finders"] == 1


def test_modules_from_the_archive_look_as_zipimport_makes_them(tmp_path):
    archive = archive_of_module_utils(tmp_path)
    found = run_python(PROBE, str(archive))
    assert found["client_file"] == "%s/%s/_client.py" % (archive, PACKAGE_DIR)
    # linecache reads the source through the loader: a traceback shows the line that raised.
    assert 'File "%s/%s/_client.py"' % (archive, PACKAGE_DIR) in found["traceback"]
    assert "raise ImdsRequestError(" in found["traceback"]
    assert "Invalid IMDS path segment '..'" in found["traceback"]
    # A name the archive does not hold is still an ordinary ImportError.
    assert found["missing"] == "ModuleNotFoundError"


def test_nothing_is_installed_when_the_module_utils_come_from_a_directory():
    """The controller and the unit tests import from directories: the import system is left alone."""
    before = list(sys.meta_path)
    _zip_import.compile_once()
    assert sys.meta_path == before


def test_the_finder_answers_only_for_this_package(tmp_path):
    archive = archive_of_module_utils(tmp_path)
    finder = _zip_import._CompileOnceFinder()  # pylint: disable=protected-access
    inside = "%s/%s" % (archive, PACKAGE_DIR)
    assert finder.find_spec("ansible_collections.imds.azure.plugins.module_utils._client", [inside]) is not None
    assert finder.find_spec("json", None) is None
    assert finder.find_spec("ansible_collections.other.coll.plugins.module_utils._client", [inside]) is None
    assert finder.find_spec("ansible_collections.imds.azure.plugins.module_utils._client",
                            [str(COLLECTION / "plugins" / "module_utils")]) is None


def test_the_finder_looks_only_where_python_would_look_first(tmp_path):
    """With a directory first on the package path, Python would load the directory's copy: so must we."""
    archive = archive_of_module_utils(tmp_path)
    finder = _zip_import._CompileOnceFinder()  # pylint: disable=protected-access
    first_a_directory = [str(COLLECTION / "plugins" / "module_utils"), "%s/%s" % (archive, PACKAGE_DIR)]
    assert finder.find_spec("ansible_collections.imds.azure.plugins.module_utils._client", first_a_directory) is None
