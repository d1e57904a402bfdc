"""imds.azure.identity_token (and metadata_info on secret paths) through ansible-playbook at -vvvv.

The proof that a token never leaks: every byte Ansible wrote (stdout and stderr of the default
callback at -vvvv, the log_path file, the recorder callback's result dump) is searched for every
token the emulator issued. A control run shows the same capture does catch a token when a task
prints it, so the search can fail.
"""

from __future__ import annotations

import json

import pytest
from azure_imds_emulator.identities import Identities
from helpers.ansible_runner import module_play, run_playbook
from helpers.token_leaks import TOKEN_TASKS, captured

USER_IDENTITY = {"client_id": "11111111-2222-3333-4444-555555555555", "object_id": "aaaaaaaa-0000-0000-0000-000000000001",
                 "msi_res_id": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/"
                               "userAssignedIdentities/app"}
SYSTEM_IDENTITY = {"client_id": "be5947ed-3560-4afe-9504-59967a63f810", "object_id": "0f6a3c9e-3a43-4e63-9c4e-8b0a6f0b1c11"}


def play(*tasks: str) -> str:
    """A play on localhost with ``tasks`` (YAML task items, indented for the tasks list)."""
    return "- hosts: all\n  gather_facts: false\n  tasks:\n" + "\n".join(tasks)


def token_task(options: str = "", register: str = "vault_token", extra: str = "") -> str:
    """An identity_token task for Key Vault unless ``options`` (YAML lines) say otherwise."""
    lines = ["    - name: token", "      imds.azure.identity_token:"]
    lines += ["        " + line for line in (options or "resource: https://vault.azure.net").splitlines()]
    lines.append("      register: %s" % register)
    lines += ["      " + line for line in extra.splitlines()]
    return "\n".join(lines) + "\n"


def run_verbose(tmp_path, emulator, playbook: str):
    env = {"AZURE_IMDS_ENDPOINT": emulator.url, "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")}
    return run_playbook(tmp_path, playbook, env=env, args=["-vvvv", "-e", "imds_endpoint=%s" % emulator.url])


TOKEN_PLAYBOOK = play(TOKEN_TASKS)


def test_tokens_never_shown_yet_usable(tmp_path, make_emulator):
    emulator = make_emulator(rate_limit=None)
    run = run_verbose(tmp_path, emulator, TOKEN_PLAYBOOK)
    assert run.rc == 0, run.output
    issued = emulator.identities.issued_tokens
    assert len(issued) == 2
    text = captured(tmp_path, run)
    assert "<localhost> EXEC" in text or "ESTABLISH LOCAL CONNECTION" in text, "not a -vvvv capture"
    for token in issued:
        claims = token.split(".")[1]  # unique per token (time, audience, random jti)
        assert token not in text and claims not in text, "a token leaked into the output"
    for name in ("token", "raw token path", "use it"):
        assert "censored" in json.dumps(run.task(name)["result"])
    # The next task really used the token.
    used = emulator.requests_to("/metadata/identity/info")
    assert used and used[-1].headers["authorization"] == "Bearer " + issued[0]


def test_the_capture_catches_a_printed_token(tmp_path, make_emulator):
    """Control: a task that prints the token puts it in the capture, so the test above can fail."""
    emulator = make_emulator(rate_limit=None)
    playbook = play(token_task(), """    - name: careless
      ansible.builtin.debug:
        msg: "{{ vault_token.access_token }}"
""")
    run = run_verbose(tmp_path, emulator, playbook)
    assert run.rc == 0, run.output
    assert emulator.identities.issued_tokens[0] in captured(tmp_path, run)


IDENTITIES = {"systemAssigned": None, "userAssigned": [USER_IDENTITY]}


@pytest.mark.parametrize("selector, outcome", [
    ({}, USER_IDENTITY["client_id"]),  # the only user-assigned identity
    ({"client_id": USER_IDENTITY["client_id"]}, USER_IDENTITY["client_id"]),
    ({"object_id": USER_IDENTITY["object_id"]}, USER_IDENTITY["client_id"]),
    ({"msi_res_id": USER_IDENTITY["msi_res_id"]}, USER_IDENTITY["client_id"]),
    ({"client_id": "99999999-9999-9999-9999-999999999999"}, "Identity not found"),
])
def test_identity_selectors(tmp_path, make_emulator, selector, outcome):
    emulator = make_emulator(identities=IDENTITIES)
    options = "resource: https://management.azure.com/" + "".join(
        "\n%s: %s" % (key, json.dumps(value)) for key, value in selector.items())
    playbook = play(token_task(options, register="token", extra="ignore_errors: true"), """    - name: show client
      ansible.builtin.debug:
        msg: "{{ token.client_id | default(token.msg) }}"
""")
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.rc == 0, run.output
    assert outcome in run.task("show client")["result"]["msg"]
    if outcome == "Identity not found":
        failed = run.task("token")
        assert failed["status"] == "failed" and failed["result"]["status"] == 400
        assert "client_id, object_id or msi_res_id" in failed["result"]["msg"]
        assert [r.status for r in emulator.requests] == [400]  # 400 is never retried


def test_selectors_are_mutually_exclusive(tmp_path, emulator):
    playbook = play(token_task("resource: https://management.azure.com/\nclient_id: a\nobject_id: b",
                               extra="ignore_errors: true"))
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.task("token")["status"] == "failed"
    assert "mutually exclusive" in run.task("token")["result"]["msg"]
    assert not emulator.requests


def test_identity_404_at_start_up_is_retried(tmp_path, make_emulator):
    from azure_imds_emulator.faults import Fault  # pylint: disable=import-outside-toplevel
    emulator = make_emulator(rate_limit=None)
    emulator.add_fault(Fault(status=404, path="/metadata/identity/oauth2/token", count=1))
    playbook = play(token_task("resource: https://management.azure.com/"))
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.rc == 0, run.output
    assert [r.status for r in emulator.requests_to("/metadata/identity")] == [404, 200]


def test_error_from_a_token_path_quotes_nothing(tmp_path, make_emulator):
    """A broken answer on the token path: the error names path and status, and quotes nothing of it."""
    from azure_imds_emulator.faults import Fault  # pylint: disable=import-outside-toplevel
    emulator = make_emulator(rate_limit=None, identities=Identities(SYSTEM_IDENTITY))
    emulator.add_fault(Fault(kind="malformed", path="/metadata/identity/oauth2/token"))
    playbook = module_play("imds.azure.metadata_info", "path: identity/oauth2/token\n"
                           "query: {resource: 'https://management.azure.com/'}", name="token", ignore_errors=True)
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    result = run.task("token")["result"]
    assert run.task("token")["status"] == "failed" and "/metadata/identity/oauth2/token" in result["msg"]
    assert "examplevmname" not in result["msg"] and "not quoted" in result["msg"]


def test_async_is_refused_for_secret_answers(tmp_path, make_emulator):
    """An async job's result reaches callbacks through async_status, which no action plugin can hide."""
    emulator = make_emulator(rate_limit=None)
    playbook = play(token_task(extra="async: 30\npoll: 1\nignore_errors: true"), """    - name: raw token path
      imds.azure.metadata_info:
        path: identity/oauth2/token
        query:
          resource: https://management.azure.com/
      async: 30
      poll: 1
      ignore_errors: true

    - name: not secret
      imds.azure.metadata_info:
        path: instance/compute/vmId
        format: text
      async: 30
      poll: 1
""")
    run = run_playbook(tmp_path, playbook, env={"AZURE_IMDS_ENDPOINT": emulator.url})
    assert run.rc == 0, run.output
    for name in ("token", "raw token path"):
        task = run.task(name)
        assert task["status"] == "failed" and "does not support async for a secret answer" in task["result"]["msg"]
    assert not emulator.identities.issued_tokens and not emulator.requests_to("/metadata/identity")
    assert run.task("not secret")["status"] == "ok"  # async itself still works for what is not secret
