"""imds.azure.route on a Linux "failover-cluster node" made of network namespaces: the cluster
adapter's 169.254.0.0/16 and a wrong 169.254.169.254/32 route send IMDS traffic into a dead
interface; the module must find the primary interface, fix the route, prove IMDS answers, be
idempotent, change nothing in check mode, and remove the route with state absent."""

from __future__ import annotations

import pytest
from helpers import netns
from helpers.ansible_runner import module_play, run_playbook
from helpers.cluster_lab import Lab


@pytest.fixture
def lab(tmp_path):
    reason = netns.available()
    if reason:
        pytest.skip(reason)
    built = Lab(tmp_path / "lab")
    yield built
    built.delete()


def route(tmp_path, lab, options: str = "", args: list | None = None, name: str = "run"):
    playbook = module_play("imds.azure.route", options or "state: present", name="route", hosts="cluster_nodes",
                           ignore_errors=True)
    run = run_playbook(tmp_path / name, playbook, inventory=str(lab.inventory), args=args)
    assert run.rc == 0, run.output
    return run.task("route", "node1")


def test_fix_verify_idempotence_check_and_absent(tmp_path, lab):
    assert lab.imds_routes() == [{"dst": "169.254.169.254", "dev": "clu0", "scope": "link", "flags": []}]

    checked = route(tmp_path, lab, args=["--check", "--diff"], name="check")
    assert checked["status"] == "ok" and checked["result"]["changed"] is True
    plan = checked["result"]["plan"]
    assert (plan["interface"], plan["gateway"], plan["metric"]) == ("eth0", "10.77.0.1", 1)
    assert [r["interface"] for r in plan["remove"]] == ["clu0"]
    assert checked["result"]["commands"] == [
        "ip route del 169.254.169.254/32 dev clu0 metric 0 scope link",
        "ip route replace 169.254.169.254/32 via 10.77.0.1 dev eth0 metric 1"]
    assert "ran" not in checked["result"]
    assert lab.imds_routes()[0]["dev"] == "clu0"  # check mode changed nothing

    fixed = route(tmp_path, lab, name="fix")
    assert fixed["status"] == "ok", fixed
    assert fixed["result"]["changed"] is True and fixed["result"]["verified"] is True
    assert fixed["result"]["ran"] == checked["result"]["commands"]
    assert fixed["result"]["persistence"]["method"] == "none"
    assert "lasts until the next reboot" in fixed["result"]["persistence"]["note"]
    assert [(r["dev"], r.get("gateway"), r.get("metric")) for r in lab.imds_routes()] == [("eth0", "10.77.0.1", 1)]

    again = route(tmp_path, lab, name="again")
    assert again["result"]["changed"] is False and again["result"]["commands"] == []

    removed = route(tmp_path, lab, "state: absent", args=["--diff"], name="absent")
    assert removed["result"]["changed"] is True
    assert removed["result"]["ran"] == ["ip route del 169.254.169.254/32 via 10.77.0.1 dev eth0 metric 1"]
    assert lab.imds_routes() == []
    # Only the IMDS route went: the cluster adapter's own routes are untouched.
    assert "169.254.0.0/16 dev clu0" in lab.vm.run("ip", "-4", "route").stdout


def test_a_route_that_cannot_work_fails_naming_interface_and_gateway(tmp_path, lab):
    broken = route(tmp_path, lab, "gateway: 10.77.0.99\nverify_timeout: 2", name="broken")
    assert broken["status"] == "failed"
    message = broken["result"]["msg"]
    assert "IMDS does not answer" in message and "interface eth0, gateway 10.77.0.99" in message


def test_role_fleet_one_host_cannot_be_fixed_the_other_goes_on(tmp_path):
    reason = netns.available()
    if reason:
        pytest.skip(reason)
    good, bad = Lab(tmp_path / "good"), Lab(tmp_path / "bad")
    try:
        inventory = tmp_path / "fleet.ini"
        inventory.write_text(
            "[cluster_nodes]\n"
            "good ansible_connection=local ansible_python_interpreter=%s\n"
            "bad ansible_connection=local ansible_python_interpreter=%s imds_route_gateway=10.77.0.99\n"
            % (good.interpreter, bad.interpreter))
        playbook = """
- hosts: cluster_nodes
  gather_facts: false
  vars:
    imds_route_scope: any
    imds_route_check_timeout: 3
  roles:
    - role: imds.azure.imds_route
"""
        run = run_playbook(tmp_path / "play", playbook, inventory=str(inventory), env={"ANSIBLE_FORKS": "2"})
        assert run.rc == 2, run.output
        failed = run.task("imds.azure.imds_route : Install or remove the IMDS route", "bad")
        assert failed["status"] == "failed"
        assert "interface eth0, gateway 10.77.0.99" in failed["result"]["msg"]
        fixed = run.task("imds.azure.imds_route : Install or remove the IMDS route", "good")
        assert fixed["status"] == "ok" and fixed["result"]["verified"] is True
        assert [r["dev"] for r in good.imds_routes()] == ["eth0"]
        assert "good                       : ok=" in run.stdout and "failed=0" in run.stdout.split("good ")[1]
    finally:
        good.delete()
        bad.delete()
