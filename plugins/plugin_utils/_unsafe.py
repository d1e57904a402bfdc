# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Mark values from IMDS as never to be templated, on every supported ansible-core line.

ansible-core 2.19 on (data tagging): a string is templated only when it carries trust, and
values decoded with plain ``json.loads`` carry none, so they are used as they are.
ansible-core before 2.19 templates every plain ``str``: each value is wrapped with
``wrap_var`` (``AnsibleUnsafeText`` and friends), which plays and ``compose`` never template.
"""

from __future__ import annotations

from ansible.release import __version__ as ANSIBLE_VERSION


def _has_data_tagging(version: str) -> bool:
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (2, 19)


HAS_DATA_TAGGING = _has_data_tagging(ANSIBLE_VERSION)

if HAS_DATA_TAGGING:
    def mark_unsafe(value: object) -> object:
        """Plain decoded data is untrusted on this ansible-core already."""
        return value
else:  # pragma: no cover - exercised by the matrix on ansible-core 2.16-2.18
    from ansible.utils.unsafe_proxy import wrap_var

    mark_unsafe = wrap_var
