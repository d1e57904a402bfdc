# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Compile this collection's module_utils once, not twice, when a module runs from AnsiballZ.

AnsiballZ runs a module from a zip archive of its sources. CPython's zipimport compiles
a module's source twice: once while it finds the module (``get_filename`` builds the
code to learn the file name) and again to run it (CPython issue gh-141276, open in
3.14). Compiling is most of what importing costs, and importing is most of what
``metadata_facts`` costs beyond ``ansible.builtin.ping``.

``compile_once()`` puts a finder first on ``sys.meta_path`` that answers only for the
plain modules of this directory (``plugins/module_utils/_*.py``), and only when the first
place Python would look for them is a zip archive: it reads the source through the
archive's own ``zipimporter`` and compiles it once, with the file name zipimport would
give, so tracebacks and coverage read the same. It does nothing unless
this file was itself imported from an archive: on the controller, in unit tests and in
an exploded AnsiballZ module, imports are left to Python.
"""

import sys
import zipimport
from importlib.machinery import ModuleSpec

PACKAGE_PREFIX = __name__.rpartition(".")[0] + "."


class _SourceLoader(object):
    """Runs one module from source read out of the archive."""

    def __init__(self, source, filename):
        self._source = source
        self._filename = filename

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        code = compile(self._source, self._filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used

    def get_source(self, fullname):  # pylint: disable=unused-argument
        """For linecache: tracebacks show the lines, as they do with zipimport."""
        return self._source


class _CompileOnceFinder(object):
    """Finds this package's modules inside a zip archive; leaves everything else to the next finder."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        # Only the first place Python would look: if that is not an archive holding the module,
        # the normal search (directories, later entries, compiled files) decides, as before.
        if not path or not fullname.startswith(PACKAGE_PREFIX):
            return None
        entry = path[0]
        try:
            archive = zipimport.zipimporter(entry)
            if archive.is_package(fullname):
                return None
            source = archive.get_source(fullname)
        except (zipimport.ZipImportError, OSError):
            return None
        if source is None:  # compiled only (.pyc): zipimport knows how
            return None
        filename = "%s/%s.py" % (entry.rstrip("/"), fullname.rpartition(".")[2])
        spec = ModuleSpec(fullname, _SourceLoader(source, filename), origin=filename)
        spec.has_location = True
        return spec


def compile_once():
    """Install the finder, once, if this module came out of a zip archive (an AnsiballZ run)."""
    if not isinstance(globals().get("__loader__"), zipimport.zipimporter):
        return
    if not any(isinstance(finder, _CompileOnceFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CompileOnceFinder())
