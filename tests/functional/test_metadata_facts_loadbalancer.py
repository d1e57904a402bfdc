"""metadata_facts include_loadbalancer: one extra request only when asked, {} without a Standard LB."""

from __future__ import annotations

import json

from azure_imds_emulator.faults import Fault
from helpers import paths
from helpers.ansible_runner import module_play, run_playbook


def gather(tmp_path, emulator, options: str = ""):
    play = module_play("imds.azure.metadata_facts", options)
    return run_playbook(tmp_path, play, env={"AZURE_IMDS_ENDPOINT": emulator.url})


def fact(run) -> dict:
    assert run.rc == 0, run.output
    return run.task("gather")["result"]["ansible_facts"]["azure_imds"]


def test_loadbalancer_when_asked(tmp_path, emulator):
    azure_imds = fact(gather(tmp_path, emulator, "include_loadbalancer: true\napi_version: '2019-06-04'"))
    documented = json.loads((paths.SAMPLES / "docs-loadbalancer.json").read_text())["loadbalancer"]
    assert azure_imds["loadbalancer"] == documented  # unwrapped, ports stay integers
    assert azure_imds["api_version"] == "2019-06-04"
    lb_requests = emulator.requests_to("/metadata/loadbalancer")
    assert len(lb_requests) == 1 and dict(lb_requests[0].query)["api-version"] == "2025-04-07"
    assert len(emulator.requests) == 2


def test_no_extra_request_unless_asked(tmp_path, emulator):
    assert "loadbalancer" not in fact(gather(tmp_path, emulator))
    assert [r.path for r in emulator.requests] == ["/metadata/instance"]


def test_vm_without_standard_load_balancer(tmp_path, make_emulator):
    emulator = make_emulator(loadbalancer={})
    azure_imds = fact(gather(tmp_path, emulator, "include_loadbalancer: true"))
    assert azure_imds["loadbalancer"] == {} and azure_imds["compute"]["name"] == "examplevmname"
    assert [r.status for r in emulator.requests_to("/metadata/loadbalancer")] == [404]


def test_a_version_fallback_is_reported_when_a_later_request_fails(tmp_path, make_emulator):
    """The instance read falls back to an older api-version (a warning), then the load balancer read fails:
    the task fails with the load balancer's error and still shows the warning, once."""
    from azure_imds_emulator.server import API_VERSIONS  # pylint: disable=import-outside-toplevel
    emulator = make_emulator(supported_versions=tuple(v for v in API_VERSIONS if v <= "2021-02-01"))
    emulator.add_fault(Fault(status=403, path="/metadata/loadbalancer"))
    run = gather(tmp_path, emulator, "include_loadbalancer: true")
    assert run.rc != 0 and run.task("gather")["status"] == "failed", run.output
    assert run.task("gather")["result"]["url"].startswith(emulator.url + "/metadata/loadbalancer")
    output = " ".join((run.stdout + run.stderr).split())
    assert output.count("IMDS refused api-version 2025-04-07 at /metadata/instance (400)") == 1, run.output
