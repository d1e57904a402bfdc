# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The JSON files the inventory plugin reads (``paths``): which files, which host, their JSON."""

from __future__ import annotations

import os

from ansible_collections.imds.azure.plugins.plugin_utils._fact_records import FactRecordError, decoded_json

# An IMDS instance document is a few KiB; a file far larger is not one.
MAX_FILE_BYTES = 16 * 1024 * 1024


class PathError(ValueError):
    """A ``paths`` entry that is neither a file nor a directory."""


def files_of(path: str) -> list:
    """The files a ``paths`` entry stands for: itself, or the regular files of a directory, hidden ones skipped."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith("."))
        return [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]
    if os.path.isfile(path):
        return [path]
    if not os.path.lexists(path):
        raise PathError("paths entry %r does not exist: correct the path, or write the files there first "
                        "(ansible-playbook imds.azure.save_facts -e imds_facts_dir=<that path>)" % path)
    raise PathError("paths entry %r is neither a file nor a directory" % path)


def host_of_file(file_path: str) -> str:
    """The host a file stands for: its name without a trailing ``.json``."""
    name = os.path.basename(file_path)
    return name[:-len(".json")] if name.endswith(".json") else name


def read_capped(path: str, too_large: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path``, or FactRecordError(``too_large`` % {size, limit}) when it holds more than ``max_bytes``."""
    with open(path, "rb") as handle:
        # The size first: read(max_bytes + 1) would allocate that much for every file.
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise FactRecordError(too_large % {"size": size, "limit": max_bytes})
        return handle.read()


def read_json_file(path: str, max_bytes: int = MAX_FILE_BYTES):
    """The decoded JSON of ``path`` (plain ``json``: no template trust), or FactRecordError saying what is wrong."""
    raw = read_capped(path, "the file is %(size)d bytes, more than the %(limit)d an IMDS document can be", max_bytes)
    return decoded_json(raw, "the file")
