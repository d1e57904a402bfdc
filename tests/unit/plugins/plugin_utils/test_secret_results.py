"""answer_is_secret: the one decision that makes the actions seal an answer and hide the result.

End to end (sealing on the host, hidden output) is in tests/functional/test_sealed_secrets.py; here the
table itself: which modules and options answer a secret, and that anything else does not.
"""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._secret_results import answer_is_secret


@pytest.mark.parametrize("module_name, args", [
    ("imds.azure.identity_token", {"resource": "r"}),
    ("imds.azure.metadata_facts", {"include_user_data": "yes"}),
    ("imds.azure.metadata_info", {"path": "instance/compute/userData", "include_user_data": True}),
    ("imds.azure.metadata_info", {"path": "instance/compute", "include_user_data": "true"}),
    ("imds.azure.metadata_info", {"path": "identity/oauth2/token"}),
])
def test_secret_answers(module_name, args):
    assert answer_is_secret(module_name, args) is True


@pytest.mark.parametrize("module_name, args", [
    ("imds.azure.metadata_facts", {}),
    ("imds.azure.metadata_facts", {"include_user_data": False}),
    ("imds.azure.metadata_info", {"path": "instance/compute"}),
    ("imds.azure.metadata_info", {"path": "instance/compute/name"}),
    ("imds.azure.metadata_info", {"path": "../../etc"}),  # refused by the module before anything is sent
    ("imds.azure.metadata_info", {"path": 42}),
    ("imds.azure.scheduled_events", {"approve": True}),
    ("imds.azure.attestation_info", {}),
    ("imds.azure.unknown", {"include_user_data": True}),
])
def test_other_answers(module_name, args):
    assert answer_is_secret(module_name, args) is False
