"""imds.azure.identity_token (and metadata_info on the token path) on a "Windows" host: tokens never shown.

The Windows host takes the controller-side path: the client runs on the controller and every attempt is a
run of win_imds_attempt on the host (its Python double here), whose result carries the raw answer, token
included, base64 encoded. The host's connection is a test double of ansible.builtin.winrm's printing: at
-vvvvv winrm prints every command's raw output unless the play context says no_log. So the capture here
(stdout and stderr at -vvvvv, the log_path file, the recorder callback's results) is searched for every
issued token, its claims part, and its base64 forms. Controls show that the same capture finds a token,
base64 encoded, when an attempt's output is printed, so the searches can fail.
"""

from __future__ import annotations

import base64
import json

import pytest
from helpers.ansible_runner import run_playbook
from helpers.token_leaks import TOKEN_TASKS, captured, leaked
from doubles.windows_double import HOSTS, inventory_file

# A "Windows" host whose connection prints raw command output at -vvvvv, as WinRM does.
PRINTING_CONNECTION = {"ansible_connection": "imds_test.windows_double.winrm_logging"}
TOKEN_PATH = "/metadata/identity/oauth2/token"


def run_verbose(tmp_path, collections: str, emulators: dict, tasks: str):
    """``tasks`` on the hosts of ``emulators`` at -vvvvv, each host with its own endpoint in the task environment."""
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()},
                               extra={"win1": PRINTING_CONNECTION})
    playbook = ("- hosts: all\n  gather_facts: false\n  environment:\n"
                '    AZURE_IMDS_ENDPOINT: "{{ imds_endpoint }}"\n  tasks:\n' + tasks)
    env = {"ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")}
    return run_playbook(tmp_path, playbook, inventory=inventory, env=env, args=["-vvvvv", "--forks", "2"])


def test_tokens_never_shown_on_windows_yet_usable(tmp_path, windows_collections, make_emulator):
    emulator = make_emulator(rate_limit=None)
    run = run_verbose(tmp_path, windows_collections, {"win1": emulator}, TOKEN_TASKS)
    assert run.rc == 0, run.output
    issued = emulator.identities.issued_tokens
    assert len(issued) == 2
    # Both token requests went the Windows way (only win_imds_attempt asks the server to close).
    assert [r.headers.get("connection") for r in emulator.requests_to(TOKEN_PATH)] == ["close", "close"]
    text = captured(tmp_path, run)
    assert "WINRM RESULT" in text and "<censored due to no log>" in text, "not a -vvvvv capture of the attempts"
    for token in issued:
        assert not leaked(token, text), "a token leaked into the output"
        assert not leaked(token.split(".")[1], text), "a token's claims leaked into the output"
    for name in ("token", "raw token path", "use it"):
        assert "censored" in json.dumps(run.task(name, "win1")["result"])
    used = emulator.requests_to("/metadata/identity/info")
    assert used and used[-1].headers["authorization"] == "Bearer " + issued[0]


def attempt_task(emulator) -> str:
    """win_imds_attempt run directly, for a token, with nothing hidden: what the identity path must never show."""
    address, port = emulator.url.rsplit("/", 1)[1].split(":")
    request = ("GET %s?api-version=2018-02-01&resource=https%%3A%%2F%%2Fvault.azure.net HTTP/1.1\r\n"
               "Host: %s:%s\r\nMetadata: true\r\nConnection: close\r\n\r\n" % (TOKEN_PATH, address, port))
    return """    - name: careless attempt
      imds.azure.win_imds_attempt:
        address: %s
        port: %s
        request: %s
        connect_timeout_ms: 2000
        read_timeout_ms: 10000
        max_bytes: 1114112
""" % (address, port, base64.b64encode(request.encode()).decode())


def test_the_capture_catches_an_attempt_that_shows_a_token(tmp_path, windows_collections, make_emulator):
    """Control: an attempt's own output (WINRM RESULT at -vvvvv and its task result) holds the token, base64
    encoded, and the searches above find it; so they would find a leak of the identity path's attempts."""
    emulator = make_emulator(rate_limit=None)
    run = run_verbose(tmp_path, windows_collections, {"win1": emulator}, attempt_task(emulator))
    assert run.rc == 0, run.output
    [token] = emulator.identities.issued_tokens
    text = captured(tmp_path, run)
    assert token not in text  # only base64 encoded
    assert leaked(token, text) and leaked(token.split(".")[1], text)
    assert "<censored due to no log>" not in text


def test_secret_attempts_hidden_other_attempts_printed(tmp_path, windows_collections, make_emulator):
    """Control: only the attempts of secret answers are hidden, and no_log ends with them: metadata_facts'
    attempt after a token task prints as usual, so does user data's raw answer not when it is left out."""
    emulator = make_emulator(rate_limit=None)
    tasks = """    - name: token
      imds.azure.identity_token:
        resource: https://vault.azure.net
    - name: facts
      imds.azure.metadata_facts:
"""
    run = run_verbose(tmp_path, windows_collections, {"win1": emulator}, tasks)
    assert run.rc == 0, run.output
    text = captured(tmp_path, run)
    assert "<censored due to no log>" in text  # the token's attempt
    assert leaked("examplevmname", text)  # the compute name, inside the printed facts attempt's base64 answer
    [token] = emulator.identities.issued_tokens
    assert not leaked(token, text)


def test_user_data_on_windows_hidden(tmp_path, windows_collections, make_emulator):
    """metadata_info's other secret, user data: hidden result, hidden attempt, still registered."""
    profile = json.loads(json.dumps(make_emulator().profile))
    secret = base64.b64encode(b"join-token 4f9a2c71d3e8b605").decode()
    profile["compute"]["userData"] = secret
    emulator = make_emulator(profile=profile, rate_limit=None)
    tasks = """    - name: user data
      imds.azure.metadata_info:
        path: instance/compute/userData
        format: text
        include_user_data: true
      register: user_data
    - name: registered
      ansible.builtin.assert:
        that: (user_data.text | b64decode).startswith('join-token ')
        quiet: true
"""
    run = run_verbose(tmp_path, windows_collections, {"win1": emulator}, tasks)
    assert run.rc == 0, run.output
    text = captured(tmp_path, run)
    assert "<censored due to no log>" in text and "censored" in json.dumps(run.task("user data", "win1")["result"])
    assert not leaked(secret, text)
    assert emulator.requests[-1].headers.get("connection") == "close"


MARKER = "MARKERq7Zx2SECRETw9Kp4TOKENv3Lm8"


def raw_answer(status: str, content_type: str, body: str, length: int | None = None) -> bytes:
    data = body.encode()
    return ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
        status, content_type, len(data) if length is None else length)).encode() + data


BROKEN_ANSWERS = {
    "malformed JSON": raw_answer("200 OK", "application/json", '{"access_token": "%s", ' % MARKER),
    "error description": raw_answer("400 Bad Request", "application/json",
                                    '{"error": "invalid_request", "error_description": "%s"}' % MARKER),
    "HTML page": raw_answer("500 Internal Server Error", "text/html", "<html><p>%s</p></html>" % MARKER),
    "truncated": raw_answer("200 OK", "application/json", '{"access_token": "%s"' % MARKER, length=4000),
    "no token field": raw_answer("200 OK", "application/json", '{"token": "%s", "expires_on": "1"}' % MARKER),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ANSWERS))
def test_errors_on_windows_quote_nothing_and_match_linux(tmp_path, windows_collections, pair, case):
    """A broken token answer carrying a secret: same error on both hosts, and the secret is nowhere, neither in
    the messages nor in the attempts' output (base64) at -vvvvv."""
    emulators = pair(dict(kind="raw", path=TOKEN_PATH, body=BROKEN_ANSWERS[case]))
    tasks = """    - name: token
      imds.azure.identity_token:
        resource: https://vault.azure.net
        max_retry_time: 0
      register: vault_token
"""
    run = run_verbose(tmp_path, windows_collections, emulators, tasks)
    assert run.rc == 2, run.output
    linux, windows = (run.task("token", host)["result"] for host in HOSTS)
    for host, result in (("lin1", linux), ("win1", windows)):
        assert run.task("token", host)["status"] == "failed"
        result["msg"] = result["msg"].replace(emulators[host].url, "<endpoint>")
    assert {k: windows.get(k) for k in ("msg", "error_type", "status", "attempts")} == {
        k: linux.get(k) for k in ("msg", "error_type", "status", "attempts")}
    assert TOKEN_PATH in windows["msg"]
    assert not leaked(MARKER, captured(tmp_path, run)), "the secret in the answer leaked into the output"
    assert [r.headers.get("connection") for r in emulators["win1"].requests] == ["close"]
