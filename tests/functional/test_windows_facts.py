"""metadata_facts and metadata_info on a "Windows" host, side by side with a Linux host, through ansible-playbook.

The Windows host is local, but its shell reports the PowerShell family (tests/doubles/windows_double.py):
the action plugins take their Windows branch and make every attempt through imds.azure.win_imds_attempt,
replaced here by its Python double, which does real HTTP over a socket to the emulator. Each case runs both
hosts in ONE play, each against its own emulator with the same scripted faults, and compares: outcome,
error type, message (endpoint address aside), attempts, and the statuses the emulator answered.
"""

from __future__ import annotations

import json
import re

import pytest
from azure_imds_emulator.faults import Fault
from azure_imds_emulator.server import API_VERSIONS
from helpers import paths
from helpers.ansible_runner import run_command, run_playbook
from helpers.inventory import inventory_list, members, write_config
from helpers.ports import free_port
from doubles.windows_double import HOSTS, inventory_file, play, run_both


def outcome(run, host: str, endpoint: str) -> dict:
    """What a user sees of the gather task on ``host``, with its endpoint address written as <endpoint>."""
    record = run.task("gather", host)
    seen = json.loads(json.dumps(record["result"]).replace(endpoint, "<endpoint>"))
    seen["task_status"] = record["status"]
    return {key: seen.get(key) for key in ("task_status", "error_type", "msg", "attempts", "status", "url",
                                           "ansible_facts", "text", "data", "api_version")}


def assert_same(run, emulators: dict) -> dict:
    """Both hosts saw the same outcome and the same sequence of answers; return the Linux outcome."""
    linux = outcome(run, "lin1", emulators["lin1"].url)
    windows = outcome(run, "win1", emulators["win1"].url)
    assert windows == linux, run.output
    assert [r.status for r in emulators["win1"].requests] == [r.status for r in emulators["lin1"].requests]
    return linux


# -- the fault cases ------------------------------------------------------------------------------

SUCCESS_CASES = {
    "410 then 200": ([dict(status=410, count=1, retry_after="1")], [410, 200]),
    "429 with Retry-After": ([dict(status=429, count=2, retry_after="1")], [429, 429, 200]),
    "500 twice": ([dict(status=500, count=2)], [500, 500, 200]),
    "truncated once": ([dict(kind="truncate", count=1)], [200, 200]),
    "reset once": ([dict(kind="reset", count=1)], [0, 200]),
}


@pytest.mark.parametrize("case", sorted(SUCCESS_CASES))
def test_retried_faults_end_alike(tmp_path, windows_collections, pair, case):
    faults, statuses = SUCCESS_CASES[case]
    emulators = pair(*faults)
    run = run_both(tmp_path, windows_collections, emulators)
    assert run.rc == 0, run.output
    seen = assert_same(run, emulators)
    assert seen["ansible_facts"]["azure_imds"]["compute"]["name"] == "examplevmname"
    assert [r.status for r in emulators["win1"].requests] == statuses


def test_version_negotiation_alike(tmp_path, windows_collections, pair):
    emulators = pair(supported_versions=tuple(v for v in API_VERSIONS if v <= "2023-07-01"))
    run = run_both(tmp_path, windows_collections, emulators)
    assert run.rc == 0, run.output
    seen = assert_same(run, emulators)
    assert seen["ansible_facts"]["azure_imds"]["api_version"] == "2023-07-01"
    assert [r.status for r in emulators["win1"].requests] == [400, 200]


def test_a_fallback_warning_survives_a_later_failure_on_windows(tmp_path, windows_collections, make_emulator):
    """On win1 only, the instance read falls back (a warning), then the load balancer read fails: the
    task fails with the load balancer's error and the warning is still shown, once."""
    emulators = {"lin1": make_emulator(),
                 "win1": make_emulator(supported_versions=tuple(v for v in API_VERSIONS if v <= "2023-07-01"))}
    emulators["win1"].add_fault(Fault(status=403, path="/metadata/loadbalancer"))
    run = run_both(tmp_path, windows_collections, emulators, options="include_loadbalancer: true")
    assert run.task("gather", "lin1")["status"] == "ok", run.output
    failed = outcome(run, "win1", emulators["win1"].url)
    assert failed["task_status"] == "failed" and failed["error_type"] == "ImdsAccessDeniedError", run.output
    output = " ".join((run.stdout + run.stderr).split())
    assert output.count("IMDS refused api-version 2025-04-07 at /metadata/instance (400)") == 1, run.output


def test_a_version_fallback_warns_on_windows_too(tmp_path, windows_collections, make_emulator):
    """Only win1's IMDS refuses the default version: the warning comes from the Windows path's action result."""
    emulators = {"lin1": make_emulator(),
                 "win1": make_emulator(supported_versions=tuple(v for v in API_VERSIONS if v <= "2023-07-01"))}
    run = run_both(tmp_path, windows_collections, emulators)
    assert run.rc == 0, run.output
    output = " ".join((run.stdout + run.stderr).split())
    assert output.count("IMDS refused api-version 2025-04-07 at /metadata/instance (400)") == 1, run.output
    assert "repeated with 2023-07-01" in output
    assert [r.status for r in emulators["win1"].requests] == [400, 200]


FAILURE_CASES = {
    "400": ("status=400", "ImdsBadRequestError", "invalid (400", 1),
    "404": ("status=404", "ImdsNotFoundError", "404", 1),
    "redirect": ("kind=redirect", "ImdsRedirectError", "the redirect was not followed", 1),
    "html": ("kind=html", "ImdsBadResponseError", "got HTML", 1),
    "malformed": ("kind=malformed", "ImdsBadResponseError", "not valid JSON", 1),
    "oversize": ("kind=oversize", "ImdsResponseTooLargeError", "1048576-byte limit", 1),
    "oversize stream": ("kind=oversize_stream", "ImdsResponseTooLargeError", "1048576-byte limit", 1),
    "silence": ("kind=hang", "ImdsTimeoutError", "did not answer within 1.0 s", 1),
    # Retry-After 0 makes the outcome independent of how long an attempt takes: 4 retries, then give up.
    "500 for ever": ("status=500,retry_after=0", "ImdsServerError", "4 retries were used up", 5),
    "truncated for ever": ("kind=truncate", "ImdsConnectionResetError", "truncated", 5),
}


@pytest.mark.parametrize("case", sorted(FAILURE_CASES))
def test_failures_end_alike(tmp_path, windows_collections, pair, case):
    fault, error_type, words, attempts = FAILURE_CASES[case]
    emulators = pair(fault)
    options = "timeout: 1\nmax_retry_time: 0" if case == "silence" else ""
    run = run_both(tmp_path, windows_collections, emulators, options=options)
    assert run.rc == 2, run.output
    seen = assert_same(run, emulators)
    assert seen["task_status"] == "failed" and seen["error_type"] == error_type
    assert words in seen["msg"]
    assert seen["attempts"] == attempts == len(emulators["win1"].requests)


def test_nothing_listening_alike(tmp_path, windows_collections):
    closed = "http://127.0.0.1:%d" % free_port()
    inventory = inventory_file(tmp_path, {host: closed for host in HOSTS})
    run = run_playbook(tmp_path, play("imds.azure.metadata_facts", "max_retry_time: 0"), inventory=inventory,
                       env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert run.rc == 2, run.output
    linux, windows = (outcome(run, host, closed) for host in HOSTS)
    assert windows == linux
    assert linux["error_type"] == "ImdsUnreachableError" and "refused the connection" in linux["msg"]
    assert "imds.azure.imds_route" in linux["msg"]


def test_requests_carry_the_same_headers(tmp_path, windows_collections, pair):
    emulators = pair()
    run = run_both(tmp_path, windows_collections, emulators)
    assert run.rc == 0, run.output
    linux, windows = (emulators[host].requests[0].headers for host in HOSTS)
    assert windows["metadata"] == "true" and "x-forwarded-for" not in windows
    assert windows.pop("connection") == "close"
    for headers in (linux, windows):
        headers.pop("host")
    assert windows == linux


def test_proxy_variables_change_nothing(tmp_path, windows_collections, pair):
    emulators = pair()
    proxies = {name: "http://127.0.0.1:9" for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")}
    run = run_both(tmp_path, windows_collections, emulators, env=proxies)
    assert run.rc == 0, run.output
    assert all(len(emulators[host].requests) == 1 for host in HOSTS)


# -- metadata_info ----------------------------------------------------------------------------------

@pytest.mark.parametrize("options, key, expected", [
    ("path: instance/compute/vmId\nformat: text", "text", "02aab8a4-74ef-476e-8182-f6d2ba4166a6"),
    ("path: versions", "api_version", None),
])
def test_metadata_info_alike(tmp_path, windows_collections, pair, options, key, expected):
    emulators = pair(dict(status=429, count=1, retry_after="0"))
    run = run_both(tmp_path, windows_collections, emulators, module="imds.azure.metadata_info", options=options)
    assert run.rc == 0, run.output
    seen = assert_same(run, emulators)
    assert seen[key] == expected
    assert [r.status for r in emulators["win1"].requests] == [429, 200]


def test_metadata_info_leaf_hint_alike(tmp_path, windows_collections, pair):
    emulators = pair()
    run = run_both(tmp_path, windows_collections, emulators, module="imds.azure.metadata_info",
                   options="path: instance/compute/vmId\nformat: json")  # a leaf read as JSON, on purpose
    assert run.rc == 2, run.output
    seen = assert_same(run, emulators)
    assert seen["error_type"] == "ImdsBadRequestError" and "format=text" in seen["msg"]


def test_bad_options_fail_before_any_request(tmp_path, windows_collections, pair):
    emulators = pair()
    run = run_both(tmp_path, windows_collections, emulators, options="timeout: -1")
    assert run.rc == 2, run.output
    assert_same(run, emulators)
    assert not emulators["win1"].requests
    (tmp_path / "unknown").mkdir()
    run = run_both(tmp_path / "unknown", windows_collections, emulators, options="colour: blue")
    assert run.rc == 2, run.output
    for host in HOSTS:
        assert "colour" in run.task("gather", host)["result"]["msg"]


@pytest.mark.quick
def test_check_mode_gathers_on_windows_too(tmp_path, windows_collections, pair):
    emulators = pair()
    run = run_both(tmp_path, windows_collections, emulators, args=["--check"])
    assert run.rc == 0, run.output
    assert assert_same(run, emulators)["ansible_facts"]["azure_imds"]["tags"] == {"baz": "bash", "foo": "bar"}


# -- a mixed fleet into the fact cache, grouped by the inventory plugin -------------------------------

def test_mixed_play_then_inventory_groups_both(tmp_path, windows_collections, make_emulator):
    seed = make_emulator().profile
    linux_profile, windows_profile = json.loads(json.dumps(seed)), json.loads(json.dumps(seed))
    linux_profile["compute"].update(osType="Linux", name="linvm")
    windows_profile["compute"].update(osType="Windows", name="winvm", zone="2", tagsList=[
        {"name": "Role", "value": "Cluster Node"}])
    linux_vm, windows_vm = make_emulator(profile=linux_profile), make_emulator(profile=windows_profile)
    facts_dir = tmp_path / "facts"
    cache = {"ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile", "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(facts_dir),
             "ANSIBLE_COLLECTIONS_PATH": windows_collections}
    inventory = inventory_file(tmp_path, {"lin1": linux_vm.url, "win1": windows_vm.url})
    run = run_playbook(tmp_path / "gather", play("imds.azure.metadata_facts"), inventory=inventory, env=cache)
    assert run.rc == 0, run.output
    assert len([p for p in facts_dir.iterdir() if p.name.endswith(("lin1", "win1"))]) == 2
    listing, _stderr = inventory_list(tmp_path, [inventory, write_config(tmp_path / "inventory")], cache)
    assert members(listing, "azure_os_type_Windows") == {"win1"}
    assert members(listing, "azure_os_type_Linux") == {"lin1"}
    assert members(listing, "azure_tag_Role_Cluster_Node") == {"win1"}
    assert "win1" in members(listing, "azure_zone_2")


# -- a play's own fact gathering with ansible_facts_modules ---------------------------------------------

FACTS_MODULES = {"ansible_facts_modules": ["ansible.builtin.setup", "imds.azure.metadata_facts"]}
SHOW_FACTS = """    - name: show
      ansible.builtin.debug:
        msg: "{{ ansible_facts.azure_imds.compute.name }} {{ ansible_facts.system | default('no setup facts') }}"
"""


def gather_play(tmp_path, collections: str, emulators: dict, play_collections: bool):
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()},
                               extra={host: FACTS_MODULES for host in HOSTS})
    lines = ["- hosts: all", "  gather_facts: true"]
    if play_collections:
        lines += ["  collections:", "    - imds.azure"]
    lines += ["  environment:", '    AZURE_IMDS_ENDPOINT: "{{ imds_endpoint }}"', "  tasks:"]
    return run_playbook(tmp_path, "\n".join(lines) + "\n" + SHOW_FACTS, inventory=inventory,
                        env={"ANSIBLE_COLLECTIONS_PATH": collections})


def took_the_windows_path(emulator) -> bool:
    """Requests made through win_imds_attempt ask the server to close the connection; http.client's do not."""
    return [r.headers.get("connection") for r in emulator.requests] == ["close"]


def test_play_gather_facts_brings_azure_imds_on_linux_and_windows(tmp_path, windows_collections, pair):
    emulators = pair()
    run = gather_play(tmp_path, windows_collections, emulators, play_collections=True)
    assert run.rc == 0, run.output
    for host in HOSTS:
        assert run.task("show", host)["result"]["msg"] == "examplevmname Linux", run.output
        assert len(emulators[host].requests) == 1
    assert took_the_windows_path(emulators["win1"])
    assert not took_the_windows_path(emulators["lin1"])


def test_core_gather_facts_runs_facts_modules_without_their_action_plugin(tmp_path, windows_collections, pair):
    """What ansible-core's own gather_facts does with imds.azure.metadata_facts on a PowerShell-family host:
    it runs the module itself, bypassing the action plugin. On this test host that happens to work (it has
    Python); on a real Windows host it cannot, hence imds.azure.gather_facts."""
    emulators = pair()
    run = gather_play(tmp_path, windows_collections, emulators, play_collections=False)
    assert run.rc == 0, run.output
    assert len(emulators["win1"].requests) == 1
    assert not took_the_windows_path(emulators["win1"])


def test_module_defaults_of_the_action_group_apply_on_windows_too(tmp_path, windows_collections, pair):
    emulators = pair("status=500")
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()})
    playbook = play("imds.azure.metadata_facts").replace(
        "  tasks:", "  module_defaults:\n    group/imds.azure.imds:\n      max_retry_time: 0\n  tasks:")
    run = run_playbook(tmp_path, playbook, inventory=inventory, env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert run.rc == 2, run.output
    seen = assert_same(run, emulators)
    assert seen["error_type"] == "ImdsServerError" and seen["attempts"] == 1


def test_async_is_refused_on_windows_with_a_reason(tmp_path, windows_collections, pair):
    emulators = pair()
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()})
    playbook = play("imds.azure.metadata_facts") + "      async: 30\n      poll: 2\n"
    run = run_playbook(tmp_path, playbook, inventory=inventory, env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert run.rc == 2, run.output
    assert run.task("gather", "lin1")["status"] == "ok"
    assert "does not support async on Windows hosts" in run.task("gather", "win1")["result"]["msg"]
    assert not emulators["win1"].requests


GUIDE = paths.ROOT / "docs" / "docsite" / "rst" / "guide_windows.rst"


def guide_block(label: str) -> str:
    """The YAML block that follows ``.. _ansible_collections.imds.azure.docsite.<label>:`` in the Windows guide."""
    text = GUIDE.read_text(encoding="utf-8")
    anchor = r"\.\. _ansible_collections\.imds\.azure\.docsite\.%s:\n\n[^\n]*\n\n" % re.escape(label)
    match = re.search(anchor + r"\.\. code-block:: yaml\n\n((?:   .*\n|\n)+)", text)
    assert match, "block %s not found in %s" % (label, GUIDE)
    return "\n".join(line[3:] for line in match.group(1).splitlines()).strip() + "\n"


def test_the_guides_first_gathering_example_runs_and_passes_ansible_lint(tmp_path, windows_collections, pair):
    """FQCN gathering as a task, no play ``collections:`` keyword: ansible-lint's production profile accepts
    the guide's play as printed, and it brings azure_imds on Linux and Windows hosts alike."""
    playbook = guide_block("windows_fqcn_gathering")
    assert "collections:" not in playbook and "imds.azure.gather_facts:" in playbook
    lint_dir = tmp_path / "lint"
    lint_dir.mkdir()
    (lint_dir / "site.yml").write_text("---\n" + playbook)
    (lint_dir / "hosts.ini").write_text("[azure_linux]\nlin1\n[azure_windows]\nwin1\n")
    (lint_dir / "ansible.cfg").write_text("[defaults]\ninventory = hosts.ini\n")  # for its syntax check
    # ansible-lint lives in the pinned line's virtualenv only (the matrix lines' have none); linting does not
    # depend on the line that runs the play below.
    lint = str(paths.CACHE / "venv" / "bin" / "ansible-lint")
    linted = run_command(lint_dir, [lint, "--offline", "--profile", "production", "site.yml"],
                         env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert linted.returncode == 0, linted.stdout + linted.stderr
    emulators = pair()
    inventory = inventory_file(tmp_path, {host: emulator.url for host, emulator in emulators.items()},
                               extra={host: FACTS_MODULES for host in HOSTS})
    # The test's one addition: where each host's IMDS is.
    runnable = playbook.replace("hosts: azure_linux:azure_windows", "hosts: all\n  environment:\n"
                                "    AZURE_IMDS_ENDPOINT: \"{{ imds_endpoint }}\"")
    run = run_playbook(tmp_path / "run", runnable, inventory=inventory, env={"ANSIBLE_COLLECTIONS_PATH": windows_collections})
    assert run.rc == 0, run.output
    for host in HOSTS:
        assert run.task("Show the zone", host)["result"]["msg"] == emulators[host].profile["compute"]["zone"]
    assert took_the_windows_path(emulators["win1"]) and not took_the_windows_path(emulators["lin1"])
