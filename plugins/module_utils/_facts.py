# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Shape an ``/metadata/instance`` document into the ``azure_imds`` fact."""

from typing import Optional

from ansible_collections.imds.azure.plugins.module_utils._path_rules import without_user_data
from ansible_collections.imds.azure.plugins.module_utils._tags import tags_from_compute

FACT_NAME = "azure_imds"


class InstanceDocumentError(ValueError):
    """The instance document does not have the shape IMDS documents."""


def build_fact(document, api_version: Optional[str], include_user_data: bool = False) -> dict:
    """Return ``{compute, network, tags, api_version}``.

    ``compute`` and ``network`` are the document's own objects, unchanged except
    that the user data (``userData``, ``customData``) is dropped unless asked for: facts are cached
    and logged, and user data often holds secrets. A missing section becomes ``{}``
    (IMDS omits ``compute`` for some classic VMs); a section of the wrong type is an error.
    """
    if not isinstance(document, dict):
        raise InstanceDocumentError("the instance document is a JSON %s, not an object" % type(document).__name__)
    sections = {}
    for key in ("compute", "network"):
        value = document.get(key, {})
        if not isinstance(value, dict):
            raise InstanceDocumentError("'%s' is a JSON %s, not an object" % (key, type(value).__name__))
        sections[key] = value
    compute = sections["compute"]
    if not include_user_data:
        compute = without_user_data(compute)
    return {
        "compute": compute,
        "network": sections["network"],
        "tags": tags_from_compute(compute),
        "api_version": api_version,
    }
