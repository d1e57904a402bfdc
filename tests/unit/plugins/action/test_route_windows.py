"""The Windows path of the imds.azure.route action plugin against a test double of a Windows
failover-cluster node (doubles/windows_route_double.py): the double runs the collection's .ps1
scripts through a real PowerShell grammar and acts on the cmdlets they call, keeps the active and
persistent stores apart, honours check mode, prints `route print` as Windows does, and hands back
what win_powershell would send: every test runs against the oldest ansible.windows release
galaxy.yml allows and the newest, each modelled from its own win_powershell.ps1."""

from __future__ import annotations

from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible_collections.imds.azure.plugins.action.route import ActionModule
from ansible_collections.imds.azure.plugins.plugin_utils._route_windows import (
    ADDRESS_STATE,
    CLUSTER_NODE_STATE,
    PREFIX_ORIGIN,
    SERVICE_STATUS,
    READ_SCRIPT,
    WindowsBackend,
    script_text,
    source_address,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import parse_routes
from ansible_collections.imds.azure.plugins.plugin_utils._route_plan import plan_imds_route
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import RouteTableError
from doubles import win_powershell, windows_route_double
from doubles.windows_route_double import cluster_node

BOTH = [(7, "0.0.0.0", 1)]


@pytest.fixture(autouse=True, params=[win_powershell.OLDEST, win_powershell.NEWEST])
def release(request, monkeypatch) -> str:
    """Every test here runs against win_powershell of the oldest and of the newest ansible.windows."""
    monkeypatch.setitem(windows_route_double.DEFAULT_RELEASE, "version", request.param)
    return request.param


def run_action(double, args: dict | None = None, check_mode: bool = False, diff: bool = False) -> dict:
    task = mock.MagicMock()
    task.args = dict(args or {})
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    connection = mock.MagicMock()
    connection._shell.SHELL_FAMILY = "powershell"  # pylint: disable=protected-access
    connection._shell.tmpdir = "C:\\tmp"  # pylint: disable=protected-access
    action = ActionModule(task, connection, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    task.environment = []

    def execute(module_name, module_args, task_vars=None):
        return double.execute(module_name, module_args, check_mode=task.check_mode)

    with mock.patch.object(action, "_execute_module", side_effect=execute):
        result = action.run(task_vars={})
    result["_checks"] = list(double.imds_requests)
    return result


def writes(double) -> list:
    """The scripts that changed something (reads leave changed false)."""
    return [parameters for parameters, changed in double.scripts if parameters]


def test_failover_node_gets_the_route_in_both_stores_and_converges():
    double = cluster_node()
    result = run_action(double)
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["changed_stores"] == ["active", "persistent"]
    # The node's own address, not the cluster IP addresses on the same adapter (10.0.1.5, 10.0.1.15).
    assert (result["plan"]["interface"], result["plan"]["gateway"]) == ("10.0.1.10", "10.0.1.10")
    assert double.imds_routes("ActiveStore") == BOTH and double.imds_routes("PersistentStore") == BOTH
    assert result["commands"] == [
        "New-NetRoute -DestinationPrefix 169.254.169.254/32 -InterfaceIndex 7 -NextHop 0.0.0.0 -RouteMetric 1 "
        "-PolicyStore ActiveStore",
        "New-NetRoute -DestinationPrefix 169.254.169.254/32 -InterfaceIndex 7 -NextHop 0.0.0.0 -RouteMetric 1 "
        "-PolicyStore PersistentStore"]
    assert result["ran"] == result["commands"]
    # One check, through metadata_info's client: one attempt, answered.
    assert result["verified"] is True and len(result["_checks"]) == 1
    assert result["_checks"][0].startswith("GET /metadata/instance/compute/vmId?api-version=")
    assert result["persistence"]["method"] == "windows"

    scripts_before = len(double.scripts)
    again = run_action(double)
    assert again["changed"] is False and again["commands"] == [] and "ran" not in again
    assert len(double.scripts) == scripts_before + 1  # only the read
    # What Windows' own route print would show now is "not needed" too, with both metrics right.
    printed = parse_routes(double.route_print())
    assert [(r["metric"], r["interface_metric"], r["store"]) for r in printed
            if r["destination"] == "169.254.169.254"] == [(1, 10, "active"), (1, None, "persistent")]
    assert plan_imds_route(printed)["needed"] is False


def test_issue_8_node_fixed_by_a_previous_run_is_left_alone():
    double = cluster_node(fixed="both")
    result = run_action(double)
    assert result["changed"] is False and result["commands"] == [] and writes(double) == []
    assert result["plan"]["reason"] == "169.254.169.254/32 already goes out of interface 10.0.1.10 (active and persistent)"
    assert result["verified"] is True


@pytest.mark.parametrize("fixed, missing", [("active", "persistent"), ("persistent", "active")])
def test_the_store_that_lacks_the_route_gets_it_and_is_reported(fixed, missing):
    double = cluster_node(fixed=fixed)
    result = run_action(double)
    assert result["changed"] is True and result["changed_stores"] == [missing]
    assert [p["PolicyStore"] for p in writes(double)] == [{"active": "ActiveStore",
                                                           "persistent": "PersistentStore"}[missing]]
    assert double.imds_routes("ActiveStore") == BOTH and double.imds_routes("PersistentStore") == BOTH


def test_a_route_on_the_cluster_adapter_is_moved_in_both_stores():
    double = cluster_node(fixed="cluster")
    assert double.imds_reachable() is False
    result = run_action(double)
    assert result.get("failed") is not True, result
    assert [(p.get("InterfaceIndex"), p["PolicyStore"], "RouteMetric" in p) for p in writes(double)] == [
        (12, "ActiveStore", False), (12, "PersistentStore", False), (7, "ActiveStore", True),
        (7, "PersistentStore", True)]
    assert double.imds_routes("ActiveStore") == BOTH and double.imds_routes("PersistentStore") == BOTH
    assert double.imds_reachable() is True and result["verified"] is True
    assert run_action(double)["changed"] is False


def test_a_route_with_the_wrong_metric_is_replaced():
    double = cluster_node(fixed="both")
    for route in double.routes:
        if route["DestinationPrefix"] == "169.254.169.254/32":
            route["RouteMetric"] = 5
    result = run_action(double)
    assert result["changed"] is True and "has metric 5, not 1" in result["plan"]["reason"]
    assert double.imds_routes("ActiveStore") == BOTH and double.imds_routes("PersistentStore") == BOTH


def test_dhcp_gateway_node():
    double = cluster_node(static_gateway=False, cluster_addresses=False)
    result = run_action(double)
    assert result["changed"] is True and result["plan"]["interface"] == "10.0.1.10"
    assert run_action(double)["changed"] is False


def test_check_mode_and_diff_change_nothing_but_still_read():
    double = cluster_node()
    result = run_action(double, check_mode=True, diff=True)
    assert result["changed"] is True and len(result["commands"]) == 2 and "ran" not in result
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"] == ("169.254.169.254/32 on-link dev 10.0.1.10 metric 1\n"
                                       "169.254.169.254/32 on-link dev 10.0.1.10 metric 1 (persistent store)\n")
    assert double.imds_routes("ActiveStore") == [] and double.imds_routes("PersistentStore") == []
    assert result["_checks"] == []


@pytest.mark.parametrize("interface", ["7", "ethernet", "Ethernet", "10.0.1.10"])
def test_interface_by_index_alias_or_address(interface):
    double = cluster_node()
    result = run_action(double, {"interface": interface})
    assert result["plan"]["interface"] == "10.0.1.10" and double.imds_routes("ActiveStore") == BOTH


def test_an_unknown_interface_names_what_the_host_has():
    with pytest.raises(AnsibleActionFail, match=r"no interface has the index, alias or address '9'.*7 \(Ethernet, "
                                                r"10\.0\.1\.10\), 12 \(Cluster Virtual Adapter, 169\.254\.1\.156\)"):
        run_action(cluster_node(), {"interface": "9"})


def test_removal_sets_changed_in_both_stores():
    double = cluster_node(fixed="both")
    result = run_action(double, {"state": "absent"})
    assert result["changed"] is True and result["changed_stores"] == ["active", "persistent"]
    assert double.imds_routes("ActiveStore") == [] and double.imds_routes("PersistentStore") == []
    assert [changed for parameters, changed in double.scripts if parameters] == [True, True]
    assert "verified" not in result
    again = run_action(double, {"state": "absent"})
    assert again["changed"] is False and again["commands"] == []


def test_persistent_false_leaves_the_persistent_store_alone():
    double = cluster_node()
    result = run_action(double, {"persistent": False})
    assert result["changed_stores"] == ["active"] and result["persistence"]["method"] == "none"
    assert double.imds_routes("PersistentStore") == []


@pytest.mark.parametrize("node_state, service, module, member, why", [
    ("Up", "Running", True, True, "Get-ClusterNode lists this node (state Up)"),
    # No FailoverClusters PowerShell module (the feature without -IncludeManagementTools): the fallback.
    (None, "Running", False, True, "ClusSvc is running (Get-ClusterNode: Get-ClusterNode is not available"),
    (None, "Stopped", False, False, "ClusSvc is stopped (Get-ClusterNode: Get-ClusterNode is not available"),
    # The module is there, the service stopped: Get-ClusterNode throws (a terminating error), caught.
    (None, "Stopped", True, False, "ClusSvc is stopped (Get-ClusterNode: The cluster service is not running."),
    (None, None, False, False, "ClusSvc is not installed"),  # no cluster feature at all
])
def test_scope_failover_cluster_is_decided_by_membership(node_state, service, module, member, why):
    double = cluster_node(cluster_node_state=node_state, cluster_service=service, failover_clustering_module=module)
    result = run_action(double, {"scope": "failover_cluster"})
    assert result["cluster_membership"]["member"] is member and why in result["cluster_membership"]["reason"], result
    if member:
        assert result["changed"] is True and double.imds_routes("ActiveStore") == BOTH
    else:
        assert result["skipped"] is True and "not a failover-cluster member" in result["msg"] and why in result["msg"]
        assert writes(double) == [] and result["_checks"] == []
    assert run_action(cluster_node(cluster_node_state=node_state, cluster_service=service,
                                   failover_clustering_module=module), {"scope": "any"})["changed"] is True


@pytest.mark.parametrize("failure", ["terminating", "non-terminating"])
def test_get_clusternode_throwing_falls_back_to_the_running_service(failure):
    """The cmdlet fails although the service runs (this node not listed): caught whatever kind of error it
    is, reported, and the running ClusSvc decides."""
    double = cluster_node(cluster_node_state=None, cluster_service="Running", cluster_node_failure=failure)
    result = run_action(double, {"scope": "failover_cluster"})
    assert result["cluster_membership"] == {
        "member": True, "reason": "the cluster service ClusSvc is running (Get-ClusterNode: The cluster node "
                                  "'NODE1' was not found.)"}
    assert result["changed"] is True


def test_a_failed_new_netroute_names_interface_and_gateway():
    double = cluster_node()
    double.fail_next_add = "Access is denied."
    result = run_action(double)
    assert result["failed"] is True
    assert "interface 10.0.1.10, gateway 10.0.1.10" in result["msg"] and "Access is denied." in result["msg"]


def test_imds_still_silent_fails_after_the_change_with_the_clients_retries():
    double = cluster_node()
    result = run_action(double, {"interface": "12", "verify_timeout": 1.5})
    assert result["failed"] is True and result["verified"] is False
    assert "IMDS does not answer" in result["msg"] and "interface 169.254.1.156" in result["msg"]
    # metadata_info's policy: a connect timeout is retried while max_retry_time (the whole budget) lasts.
    assert len(result["_checks"]) >= 2 and "timed out" in result["msg"]


def test_bad_arguments_are_refused():
    with pytest.raises(Exception, match="metric"):
        run_action(cluster_node(), {"metric": "high"})
    with pytest.raises(Exception, match="scope"):
        run_action(cluster_node(), {"scope": "cluster"})


def address(ip: str, origin: str = "Dhcp", skip: bool = False, state: str = "Preferred", length: int = 26,
            index: int = 7) -> dict:
    """One row of route_read.ps1's addresses, as the script sends it (its own casts)."""
    return {"InterfaceIndex": index, "InterfaceAlias": "Ethernet", "IPAddress": ip, "PrefixLength": length,
            "SkipAsSource": skip, "PrefixOrigin": origin, "AddressState": state}


def test_source_address_rule():
    node = address("10.0.1.10")
    cluster_ips = [address("10.0.1.5", "Manual", skip=True), address("10.0.1.15", "Manual", skip=True)]
    assert source_address(cluster_ips + [node], 7, "10.0.1.1") == "10.0.1.10"
    # Not preferred (a duplicate being resolved) or of another origin: not a source.
    assert source_address([address("10.0.1.4", state="Tentative"), node], 7) == "10.0.1.10"
    assert source_address([address("10.0.1.4", "WellKnown"), node], 7) == "10.0.1.10"
    # The subnet that holds the default gateway wins, then Manual before Dhcp, then the lowest address.
    other_subnet = address("10.9.0.4", "Manual", length=24)
    assert source_address([other_subnet, node], 7, "10.0.1.1") == "10.0.1.10"
    assert source_address([other_subnet, node], 7) == "10.9.0.4"
    assert source_address([address("10.0.1.20"), address("10.0.1.12")], 7) == "10.0.1.12"
    # An interface without an eligible address is named by its lowest one; none at all: None.
    assert source_address([address("169.254.9.9", "WellKnown"), address("169.254.1.156", "WellKnown")], 7) \
        == "169.254.1.156"
    assert source_address([node], 12) is None


# -- what arrives from Windows ---------------------------------------------------------------------

# route_read.ps1 as it was before issue 17: Select-Object by name, so the enums reach win_powershell raw.
RAW_READ = """$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false
$routeProperties = @('DestinationPrefix', 'NextHop', 'InterfaceIndex', 'InterfaceAlias', 'RouteMetric', 'InterfaceMetric')
$addressProperties = @('InterfaceIndex', 'InterfaceAlias', 'IPAddress', 'PrefixLength', 'PrefixOrigin', 'AddressState', 'SkipAsSource')
$active = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $routeProperties)
$persistent = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore PersistentStore -ErrorAction SilentlyContinue | Select-Object -Property $routeProperties)
$addresses = @(Get-NetIPAddress -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $addressProperties)
$clusterService = @(Get-Service -Name ClusSvc -ErrorAction SilentlyContinue | Select-Object -Property 'Name', 'Status')
$Ansible.Result = @{ active = $active; persistent = $persistent; addresses = $addresses; cluster_node = @(); cluster_service = $clusterService }
"""


class ReadOnlyHost:
    """A host whose read script answers what ``double`` answered to ``script``."""

    def __init__(self, double, script: str, depth: int | None = None) -> None:
        args = {"script": script} if depth is None else {"script": script, "depth": depth}
        self.answer = double.execute("ansible.windows.win_powershell", args)

    def powershell(self, script, parameters=None, read_only=False):
        assert script == "route_read.ps1" and read_only
        return self.answer


def test_done_when_the_docs_cluster_node_read_at_depth_2_with_enums_as_numbers():
    """Issue 17's case: the docs' failover-cluster node (10.0.1.10; cluster addresses 10.0.1.5 and
    10.0.1.15 on the same adapter, all Preferred), without the FailoverClusters module, read at
    win_powershell's default depth 2 where every enum arrives as its number."""
    double = cluster_node(cluster_node_state=None, failover_clustering_module=False)
    host = ReadOnlyHost(double, RAW_READ)
    rows = host.answer["result"]["addresses"]
    assert {(a["IPAddress"], a["AddressState"], a["PrefixOrigin"], a["SkipAsSource"]) for a in rows
            if a["InterfaceIndex"] == 7} == {("10.0.1.10", 4, 3, False), ("10.0.1.5", 4, 1, True),
                                             ("10.0.1.15", 4, 1, True)}
    assert host.answer["result"]["cluster_service"] == [{"Name": "ClusSvc", "Status": 4}]
    backend = WindowsBackend(host)
    plan = plan_imds_route(backend.read(), metric=1, persistent=True)
    assert (plan["interface"], plan["gateway"]) == ("10.0.1.10", "10.0.1.10")
    assert backend.interfaces.resolve("10.0.1.10") == "10.0.1.10" and backend.interfaces.resolve("7") == "10.0.1.10"
    assert backend.is_cluster_member() == (True, "the cluster service ClusSvc is running (Get-ClusterNode does not "
                                                 "list this node)")


@pytest.mark.parametrize("depth", [2, 3, 6])
def test_route_read_answers_the_same_at_any_depth(depth):
    """route_read.ps1 casts every value itself: the answer is the same at the default depth and deeper,
    strings and numbers only, on both releases."""
    double = cluster_node()
    answer = ReadOnlyHost(double, windows_route_double_script(), depth).answer["result"]
    assert answer == ReadOnlyHost(cluster_node(), windows_route_double_script()).answer["result"]
    for row in answer["addresses"]:
        assert isinstance(row["AddressState"], str) and isinstance(row["PrefixOrigin"], str)
        assert isinstance(row["InterfaceIndex"], int) and isinstance(row["SkipAsSource"], bool)
    assert answer["cluster_service"] == [{"Name": "ClusSvc", "Status": "Running"}]
    assert answer["cluster_node"] == [{"Name": "NODE1", "State": "Up"}]


def test_a_depth_too_small_is_a_clear_error():
    """At depth 1 win_powershell flattens each row to a string (Convert-OutputObject's $Depth -lt 0 branch)."""
    backend = WindowsBackend(ReadOnlyHost(cluster_node(), windows_route_double_script(), 1))
    with pytest.raises(RouteTableError, match="routes or addresses that are not objects"):
        backend.read()


def windows_route_double_script() -> str:
    return script_text(READ_SCRIPT)


def test_each_enum_is_read_with_its_own_table():
    assert PREFIX_ORIGIN.name_of(4, "f") == "RouterAdvertisement" and SERVICE_STATUS.name_of(4, "f") == "Running"
    assert ADDRESS_STATE.name_of(4, "f") == "Preferred" and CLUSTER_NODE_STATE.name_of(0, "f") == "Up"
    assert SERVICE_STATUS.name_of(1, "f") == "Stopped" and CLUSTER_NODE_STATE.name_of(-1, "f") == "Unknown"
    assert SERVICE_STATUS.name_of("running", "f") == "Running"
    assert ADDRESS_STATE.name_of({"Type": "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress."
                                          "AddressState", "String": "Preferred", "Value": 4}, "f") == "Preferred"
    with pytest.raises(RouteTableError, match=r"Status is 9, which System.ServiceProcess.ServiceControllerStatus "
                                              r"does not define"):
        SERVICE_STATUS.name_of(9, "Status")
    with pytest.raises(RouteTableError, match="AddressState is a .*PrefixOrigin, not a"):
        ADDRESS_STATE.name_of({"Type": "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress.PrefixOrigin",
                               "String": "Dhcp", "Value": 3}, "AddressState")
    for bad in ("Routeradvertisement!", 4.0, True, None, [4]):
        with pytest.raises(RouteTableError, match="PrefixOrigin is .*not a"):
            PREFIX_ORIGIN.name_of(bad, "PrefixOrigin")


def test_an_unknown_service_status_is_an_error_not_a_guess():
    double = cluster_node(cluster_node_state=None, failover_clustering_module=False)
    host = ReadOnlyHost(double, RAW_READ)
    host.answer["result"]["cluster_service"] = [{"Name": "ClusSvc", "Status": 12}]
    backend = WindowsBackend(host)
    backend.read()
    with pytest.raises(RouteTableError, match="the Status of ClusSvc is 12, which System.ServiceProcess"):
        backend.is_cluster_member()


def test_an_unreadable_membership_fails_only_the_scope_that_needs_it():
    def tampered():
        double = cluster_node(cluster_node_state=None, failover_clustering_module=False)
        execute = double.execute

        def answer(module_name, module_args, check_mode=False):
            result = execute(module_name, module_args, check_mode=check_mode)
            if isinstance(result.get("result"), dict) and "cluster_service" in result["result"]:
                result["result"]["cluster_service"] = [{"Name": "ClusSvc", "Status": "Sideways"}]
            return result

        double.execute = answer
        return double

    result = run_action(tampered(), {"scope": "any"})
    assert result["cluster_membership"]["member"] is None and result["changed"] is True
    assert "the Status of ClusSvc is 'Sideways', not a System.ServiceProcess.ServiceControllerStatus" in \
        result["cluster_membership"]["reason"]
    with pytest.raises(AnsibleActionFail, match="the Status of ClusSvc is 'Sideways'"):
        run_action(tampered(), {"scope": "failover_cluster"})
