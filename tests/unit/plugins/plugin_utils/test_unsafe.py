"""Values from IMDS are never templated: plain data on 2.19+, wrap_var before that."""

from __future__ import annotations

from ansible.release import __version__
from ansible_collections.imds.azure.plugins.plugin_utils._unsafe import (
    HAS_DATA_TAGGING,
    _has_data_tagging,
    mark_unsafe,
)


def test_version_rule():
    assert not _has_data_tagging("2.16.14") and not _has_data_tagging("2.18.0")
    assert _has_data_tagging("2.19.0b1") and _has_data_tagging("2.20.1") and _has_data_tagging("3.0.0")
    assert HAS_DATA_TAGGING == _has_data_tagging(__version__)


def test_marked_values_are_not_templated():
    from ansible.template import Templar  # pylint: disable=import-outside-toplevel
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel

    def trusted(expression: str) -> str:
        """The play's own template text (trusted on 2.19+ only when marked so)."""
        if not HAS_DATA_TAGGING:
            return expression
        from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel,no-name-in-module
        return trust_as_template(expression)

    value = mark_unsafe({"tags": {"Note": "{{ 6 * 7 }}"}, "list": ["{{ 1 + 1 }}"]})
    assert value == {"tags": {"Note": "{{ 6 * 7 }}"}, "list": ["{{ 1 + 1 }}"]}
    templar = Templar(loader=DataLoader(), variables={"v": value})
    assert templar.template(trusted("{{ v.tags.Note }}")) == "{{ 6 * 7 }}"
    assert templar.template(trusted("{{ v.list[0] }}")) == "{{ 1 + 1 }}"
    assert templar.template(trusted("{{ 6 * 7 }}")) in (42, "42")  # the test itself can tell
