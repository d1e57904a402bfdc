"""In a network namespace the emulator owns 169.254.169.254:80, so the modules run with NO endpoint
override, exactly as on an Azure VM. Nothing here touches the machine's own network namespace."""

from __future__ import annotations

import json

import pytest
from helpers.ansible_runner import PROXY_VARIABLES, module_play, run_playbook


@pytest.fixture
def vm(make_netns, tmp_path):
    """A namespace that looks like an Azure VM: IMDS at 169.254.169.254:80."""
    namespace = make_netns("vm")
    namespace.add_address("169.254.169.254/32")
    log = tmp_path / "imds-requests.jsonl"
    emulator = namespace.start_emulator("169.254.169.254:80", "--request-log", str(log))
    assert emulator.url == "http://169.254.169.254:80"
    return namespace, log


def requests_seen(log) -> list:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def gather(tmp_path, namespace, options: str = "", env: dict | None = None):
    playbook = module_play("imds.azure.metadata_facts", options, ignore_errors=True)
    return run_playbook(tmp_path, playbook, env=env, prefix=namespace.prefix)


def test_default_endpoint_behind_dead_proxies(tmp_path, vm):
    namespace, log = vm
    dead = {name: "http://127.0.0.1:9" for name in PROXY_VARIABLES}
    run = gather(tmp_path, namespace, env=dead)
    assert run.rc == 0, run.output
    fact = run.task("gather")["result"]["ansible_facts"]["azure_imds"]
    assert fact["compute"]["name"] == "examplevmname"
    seen = requests_seen(log)
    assert len(seen) == 1
    assert seen[0]["path"] == "/metadata/instance"
    assert seen[0]["headers"]["metadata"] == "true"
    assert "x-forwarded-for" not in seen[0]["headers"]
    assert seen[0]["headers"]["host"] == "169.254.169.254"


def test_a_live_proxy_is_never_asked(tmp_path, vm):
    namespace, log = vm
    trap_log = tmp_path / "proxy-requests.jsonl"
    # A "proxy" that answers everything with an HTML page and records what it was asked.
    namespace.start_emulator("127.0.0.1:3128", "--fault", "kind=html,path=/", "--request-log", str(trap_log))
    proxies = {name: "http://127.0.0.1:3128" for name in PROXY_VARIABLES}
    run = gather(tmp_path, namespace, env=proxies)
    assert run.rc == 0, run.output
    assert len(requests_seen(log)) == 1
    assert requests_seen(trap_log) == []


@pytest.mark.parametrize("options, attempts", [("max_retry_time: 0", 1), ("", 2)])
def test_route_to_nowhere_times_out_with_a_route_hint(tmp_path, make_netns, options, attempts):
    # Like a failover-cluster node, or a non-Azure host: 169.254.169.254 is routed to an interface where
    # nobody answers. With the default options the connection is tried twice (one quick retry), not five times.
    namespace = make_netns("lost")
    peer = make_netns("void")
    namespace.run("ip", "link", "add", "imds0", "type", "veth", "peer", "name", "imds1", "netns", peer.name)
    namespace.run("ip", "link", "set", "imds0", "up")
    peer.run("ip", "link", "set", "imds1", "up")
    namespace.run("ip", "addr", "add", "10.9.9.1/24", "dev", "imds0")
    namespace.run("ip", "route", "add", "169.254.169.254/32", "via", "10.9.9.2", "dev", "imds0")
    run = gather(tmp_path, namespace, options)
    assert run.rc == 0, run.output  # ignore_errors
    result = run.task("gather")["result"]
    assert run.task("gather")["status"] == "failed" and result["attempts"] == attempts
    assert result["error_type"] == "ImdsUnreachableError"
    assert "http://169.254.169.254/metadata/instance" in result["msg"]
    assert "connect timed out" in result["msg"] or "no route" in result["msg"]
    assert "imds.azure.imds_route" in result["msg"]


def test_no_route_at_all(tmp_path, make_netns):
    namespace = make_netns("noroute")
    run = gather(tmp_path, namespace, "max_retry_time: 0")
    result = run.task("gather")["result"]
    assert result["error_type"] == "ImdsUnreachableError"
    assert "no route" in result["msg"] and "Is this an Azure VM?" in result["msg"]
