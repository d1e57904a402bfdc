"""A test double of a Windows host for imds.azure.route: what ansible.windows.win_powershell would
return from a Windows Server node, without a Windows machine (none can be had here).

It behaves as Windows does, as far as the route code can tell:
- win_powershell itself is modelled from the real ``win_powershell.ps1`` of one ansible.windows
  release (``release``: 2.1.0, the oldest galaxy.yml allows, 3.3.0 pinned for development, or 3.8.0,
  the newest; see doubles/win_powershell.py): its options checked as Ansible.Basic checks them, its
  ``error_action`` default (``continue``) as the script's starting ``$ErrorActionPreference``, its
  ``depth`` default, ``Convert-OutputObject`` with the release's branches (an enum becomes
  ``{Type, String, Value}`` only while depth >= 0; deeper it is passed raw) and Ansible.Basic's
  ``ConvertTo-Json`` on Windows PowerShell 5.1 (a raw enum becomes its number): the test gets the
  JSON Windows would send, decoded;
- it runs the script it receives through ``helpers.powershell.Interpreter`` (a real PowerShell
  grammar), acting on the cmdlet calls and parameters the script makes and refusing what it does
  not implement; it never recognises a script by its identity;
- the cmdlets return objects with enum properties, as Windows does (NetTCPIP's MSFT_NetIPAddress
  ``AddressState`` and ``PrefixOrigin``, MSFT_NetRoute ``Store``, ServiceController ``Status``
  (System.ServiceProcess.ServiceControllerStatus), ClusterNode ``State``), with the numbers of
  Microsoft's documentation of each enum; their errors are non-terminating where the cmdlet writes
  one (Get-NetRoute and Get-Service finding nothing, Get-Command not finding a command) and
  Get-ClusterNode's failure is terminating by default (``cluster_node_failure``: the cmdlet may throw
  when the cluster service is stopped; both kinds are tested);
- it honours check mode the way win_powershell does (a script without SupportsShouldProcess is
  skipped, ``changed: true``, ``skipped, running in check mode``);
- it keeps the active and the persistent route stores apart (Get-NetRoute without -PolicyStore
  shows both, as Windows does), with RouteMetric and InterfaceMetric apart;
- its ``route_print()`` shows route metric + interface metric in the active section and the
  route metric itself in the persistent section, like ``route print``;
- IMDS answers an ``imds.azure.win_imds_attempt`` run (``imds_reachable``) only when the active
  route Windows would pick for 169.254.169.254 leaves through the primary NIC; otherwise the
  attempt times out, as it would.
"""

from __future__ import annotations

import base64
import copy
import ipaddress

import json
import urllib.parse

from azure_imds_emulator import instance
from helpers.powershell import Enum, Interpreter, NonTerminatingError, PowerShellError, PSObject
from doubles.win_powershell import Release

# Enum numbers from Microsoft's documentation of each type.
# MSFT_NetRoute.Store / MSFT_NetIPAddress PolicyStore (NetTCPIP, "MSFT_NetRoute class").
STORES = {"ActiveStore": 1, "PersistentStore": 0}
# The ansible.windows release a node models unless told (tests switch it to the oldest and newest).
DEFAULT_RELEASE = {"version": "3.3.0"}
# MSFT_NetIPAddress.PrefixOrigin and .AddressState ("MSFT_NetIPAddress class").
PREFIX_ORIGIN = {"Other": 0, "Manual": 1, "WellKnown": 2, "Dhcp": 3, "RouterAdvertisement": 4}
ADDRESS_STATE = {"Invalid": 0, "Tentative": 1, "Duplicate": 2, "Deprecated": 3, "Preferred": 4}
# System.ServiceProcess.ServiceControllerStatus (.NET Framework 4.x reference).
SERVICE_STATUS = {"Stopped": 1, "StartPending": 2, "StopPending": 3, "Running": 4, "ContinuePending": 5,
                  "PausePending": 6, "Paused": 7}
# CLUSTER_NODE_STATE (clusapi.h), which the FailoverClusters module's ClusterNodeState mirrors.
CLUSTER_NODE_STATE = {"Unknown": -1, "Up": 0, "Down": 1, "Paused": 2, "Joining": 3}
TYPE_NAMES = {
    "Store": "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetRoute.Store",
    "PrefixOrigin": "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress.PrefixOrigin",
    "AddressState": "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetIPAddress.AddressState",
    "Status": "System.ServiceProcess.ServiceControllerStatus",
    "State": "Microsoft.FailoverClusters.PowerShell.ClusterNodeState",
}
TABLES = {"Store": STORES, "PrefixOrigin": PREFIX_ORIGIN, "AddressState": ADDRESS_STATE, "Status": SERVICE_STATUS,
          "State": CLUSTER_NODE_STATE}


def enum(kind: str, name: str) -> Enum:
    """An enum value of one of the types above, with its documented number."""
    return Enum(TYPE_NAMES[kind], name, TABLES[kind][name])


class WindowsRouteDouble:
    """``interfaces``: index -> {alias, metric, addresses: [{IPAddress, PrefixLength, PrefixOrigin, ...}]}.
    ``routes``: [{DestinationPrefix, NextHop, InterfaceIndex, RouteMetric, Store}]."""

    def __init__(self, interfaces: dict, routes: list, cluster_node_state: str | None = None,
                 cluster_service: str | None = "Running", failover_clustering_module: bool = True,
                 primary_index: int | None = None, release: str | None = None,
                 cluster_node_failure: str = "terminating") -> None:
        self.release = Release(release or DEFAULT_RELEASE["version"])
        self.cluster_node_failure = cluster_node_failure
        self.interfaces = copy.deepcopy(interfaces)
        self.routes = [dict(r) for r in routes]
        self.cluster_node_state = cluster_node_state
        self.cluster_service = cluster_service
        self.failover_clustering_module = failover_clustering_module
        self.primary_index = primary_index
        self.scripts = []  # (parameters, changed) of every script run, in order
        self.fail_next_add = None
        self.vm_id = "02aab8a4-74ef-476e-8182-f6d2ba4166a6"
        self.imds_requests = []  # request lines of the IMDS attempts

    # -- what the action plugin calls --------------------------------------------------------------

    def execute(self, module_name: str, module_args: dict, check_mode: bool = False) -> dict:
        if module_name == "imds.azure.win_imds_attempt":
            return self.imds_attempt(module_args)
        if module_name != "ansible.windows.win_powershell":
            raise AssertionError("the Windows double has no module %s" % module_name)
        try:
            params = self.release.validated(module_args)
        except ValueError as exc:  # Ansible.Basic fails the module before it runs
            return {"failed": True, "changed": False, "msg": str(exc)}
        script = params["script"]
        if check_mode and "SupportsShouldProcess" not in script:
            return {"changed": True, "msg": "skipped, running in check mode", "output": [], "error": []}
        before = copy.deepcopy(self.routes)
        interpreter = self.interpreter(params["error_action"])
        try:
            outcome = interpreter.run(script, params.get("parameters"))
        except PowerShellError as exc:
            self.routes = before  # a terminating error in the middle leaves what was done; ours do one change
            return {"failed": True, "changed": False, "msg": "Unhandled exception while executing script: %s" % exc,
                    "error": self._errors(interpreter) + [{"exception": {"message": str(exc)}}], "output": []}
        self.scripts.append((params.get("parameters") or {}, outcome["changed"]))
        result = {"changed": outcome["changed"], "result": self.release.convert(outcome["result"], params["depth"]),
                  "output": [], "error": self._errors(interpreter)}
        return json.loads(self.release.module_json(result))

    @staticmethod
    def _errors(interpreter: Interpreter) -> list:
        return [{"exception": {"message": message}} for message in interpreter.errors]

    def interpreter(self, error_action: str = "continue") -> Interpreter:
        """The runspace win_powershell opens: its error_action option as $ErrorActionPreference."""
        preference = {"stop": "Stop", "continue": "Continue", "silently_continue": "SilentlyContinue"}[error_action]
        return Interpreter({
            "Get-NetRoute": self.get_netroute, "New-NetRoute": self.new_netroute,
            "Remove-NetRoute": self.remove_netroute, "Get-NetIPAddress": self.get_netipaddress,
            "Select-Object": select_object, "Get-Command": self.get_command, "Get-ClusterNode": self.get_clusternode,
            "Get-Service": self.get_service,
        }, environment={"COMPUTERNAME": "NODE1"}, error_action=preference)

    def imds_attempt(self, args: dict) -> dict:
        """One HTTP attempt as imds.azure.win_imds_attempt reports it: IMDS answers when the route
        Windows would pick leaves through the primary NIC; otherwise the connection times out."""
        request = base64.b64decode(args["request"]).decode("ascii")
        if args["address"] != "169.254.169.254" or "\r\nMetadata: true\r\n" not in request:
            raise AssertionError("not an IMDS request: %r to %s" % (request[:80], args["address"]))
        self.imds_requests.append(request.split("\r\n", 1)[0])
        if not self.imds_reachable():
            return {"response": "", "received": 0, "complete": False, "limit_reached": False, "elapsed": 0.0,
                    "error": {"kind": "connect_timeout", "code": "TimedOut",
                              "message": "A connection attempt failed because the connected party did not respond"}}
        body, content_type = self._instance_answer(request.split(" ", 2)[1])
        raw = (b"HTTP/1.1 200 OK\r\nContent-Type: %s; charset=utf-8\r\nContent-Length: %d\r\n"
               b"Connection: close\r\n\r\n%s" % (content_type, len(body), body))
        return {"response": base64.b64encode(raw).decode("ascii"), "received": len(raw), "complete": True,
                "limit_reached": False, "error": None, "elapsed": 0.01}

    def _instance_answer(self, target: str) -> tuple:
        """(body, content type) of an /metadata/instance request, from the emulator's seed VM (whose
        vmId this node has); the double answers no other IMDS path."""
        path, _question, query = target.partition("?")
        parameters = urllib.parse.parse_qs(query)
        if not path.startswith("/metadata/instance") or "api-version" not in parameters:
            raise AssertionError("the Windows node double answers /metadata/instance only, not %r" % target)
        document = instance.filter_for_version(instance.load_profile(), parameters["api-version"][0])
        document["compute"]["vmId"] = self.vm_id
        node = instance.navigate(document, [part for part in path.split("/")[3:] if part])
        if parameters.get("format") == ["text"]:
            return instance.render_text(node).encode("utf-8"), b"text/plain"
        return json.dumps(node).encode("utf-8"), b"application/json"

    # -- cmdlets -----------------------------------------------------------------------------------

    def get_netroute(self, parameters: dict, pipeline_input) -> list:
        allowed = {"AddressFamily", "PolicyStore", "DestinationPrefix", "InterfaceIndex", "NextHop"}
        _only(parameters, allowed, "Get-NetRoute")
        if parameters.get("AddressFamily", "IPv4") != "IPv4":
            raise AssertionError("the double holds IPv4 routes only")
        stores = [_store(parameters["PolicyStore"])] if "PolicyStore" in parameters else list(STORES)
        found = [r for r in self.routes if r["Store"] in stores and all(
            str(r[key]) == str(parameters[key]) for key in ("DestinationPrefix", "InterfaceIndex", "NextHop")
            if key in parameters)]
        if not found:
            raise NonTerminatingError("No matching MSFT_NetRoute objects found by CIM query for instances of the "
                                      "ROOT/StandardCimv2/MSFT_NetRoute class on the  CIM server")
        return [self._route_object(r) for r in found]

    def _route_object(self, route: dict) -> PSObject:
        interface = self.interfaces[route["InterfaceIndex"]]
        return PSObject("Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_NetRoute", {
            "DestinationPrefix": route["DestinationPrefix"], "NextHop": route["NextHop"],
            "InterfaceIndex": route["InterfaceIndex"], "InterfaceAlias": interface["alias"],
            "RouteMetric": route["RouteMetric"], "InterfaceMetric": interface["metric"],
            "Store": enum("Store", route["Store"])}, hidden=route)

    def new_netroute(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"DestinationPrefix", "InterfaceIndex", "NextHop", "RouteMetric", "PolicyStore"},
              "New-NetRoute")
        if self.fail_next_add:
            message, self.fail_next_add = self.fail_next_add, None
            raise NonTerminatingError(message)
        index = int(parameters["InterfaceIndex"])
        if index not in self.interfaces:
            raise NonTerminatingError("The interface index %d does not exist" % index)
        ipaddress.ip_network(parameters["DestinationPrefix"])
        ipaddress.IPv4Address(parameters.get("NextHop", "0.0.0.0"))
        created = []
        # Without -PolicyStore, New-NetRoute writes both stores.
        for store in [_store(parameters["PolicyStore"])] if "PolicyStore" in parameters else list(STORES):
            route = {"DestinationPrefix": parameters["DestinationPrefix"], "NextHop": parameters.get("NextHop", "0.0.0.0"),
                     "InterfaceIndex": index, "RouteMetric": int(parameters.get("RouteMetric", 256)), "Store": store}
            if any(all(r[k] == route[k] for k in ("DestinationPrefix", "NextHop", "InterfaceIndex", "Store"))
                   for r in self.routes):
                raise NonTerminatingError("Instance MSFT_NetRoute already exists")
            self.routes.append(route)
            created.append(self._route_object(route))
        return created

    def remove_netroute(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"Confirm"}, "Remove-NetRoute")
        if parameters.get("Confirm") is not False:
            raise AssertionError("Remove-NetRoute would prompt without -Confirm:$false")
        for item in pipeline_input or []:
            self.routes.remove(item.hidden)
        return []

    def get_netipaddress(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"AddressFamily", "PolicyStore"}, "Get-NetIPAddress")
        found = []
        for index, interface in sorted(self.interfaces.items()):
            for address in interface["addresses"]:
                found.append(PSObject("Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/"
                                      "MSFT_NetIPAddress", {
                                          "InterfaceIndex": index, "InterfaceAlias": interface["alias"],
                                          "IPAddress": address["IPAddress"],
                                          "PrefixLength": address.get("PrefixLength", 24),
                                          "PrefixOrigin": enum("PrefixOrigin", address.get("PrefixOrigin", "Dhcp")),
                                          "AddressState": enum("AddressState", address.get("AddressState", "Preferred")),
                                          "SkipAsSource": bool(address.get("SkipAsSource", False))}))
        return found

    def get_command(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"Name"}, "Get-Command")
        if parameters["Name"] == "Get-ClusterNode" and self.failover_clustering_module:
            return [PSObject("System.Management.Automation.CmdletInfo",
                             {"Name": "Get-ClusterNode", "CommandType": "Cmdlet"})]
        raise NonTerminatingError("The term '%s' is not recognized as the name of a cmdlet, function, script file, "
                                  "or operable program." % parameters["Name"],
                                  "System.Management.Automation.CommandNotFoundException")

    def get_clusternode(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"Name"}, "Get-ClusterNode")
        failure = {"terminating": PowerShellError, "non-terminating": NonTerminatingError}[self.cluster_node_failure]
        if self.cluster_service != "Running":
            raise failure("The cluster service is not running.  Make sure that the service is running on all nodes "
                          "in the cluster.", "Microsoft.FailoverClusters.PowerShell.ClusterCmdletException")
        if self.cluster_node_state is None or parameters["Name"] != "NODE1":
            raise failure("The cluster node '%s' was not found." % parameters["Name"],
                          "Microsoft.FailoverClusters.PowerShell.ClusterCmdletException")
        return [PSObject("Microsoft.FailoverClusters.PowerShell.ClusterNode",
                         {"Name": "NODE1", "State": enum("State", self.cluster_node_state)})]

    def get_service(self, parameters: dict, pipeline_input) -> list:
        _only(parameters, {"Name"}, "Get-Service")
        if self.cluster_service is None or parameters["Name"] != "ClusSvc":
            raise NonTerminatingError("Cannot find any service with service name '%s'." % parameters["Name"],
                                      "Microsoft.PowerShell.Commands.ServiceCommandException")
        return [PSObject("System.ServiceProcess.ServiceController",
                         {"Name": "ClusSvc", "Status": enum("Status", self.cluster_service)})]

    # -- what a test looks at ----------------------------------------------------------------------

    def imds_routes(self, store: str = "ActiveStore") -> list:
        return sorted((r["InterfaceIndex"], r["NextHop"], r["RouteMetric"]) for r in self.routes
                      if r["DestinationPrefix"] == "169.254.169.254/32" and r["Store"] == store)

    def route_print(self) -> str:
        """``route print -4`` of this host: active metric = route metric + interface metric."""
        address = {i: next((a for a in f["addresses"] if not a.get("SkipAsSource")), f["addresses"][0])["IPAddress"]
                   for i, f in self.interfaces.items()}
        lines = ["IPv4 Route Table", "=" * 75, "Active Routes:",
                 "Network Destination        Netmask          Gateway       Interface  Metric"]
        for r in (r for r in self.routes if r["Store"] == "ActiveStore"):
            network = ipaddress.IPv4Network(r["DestinationPrefix"])
            lines.append("%17s %16s %16s %16s %6d" % (
                network.network_address, network.netmask, "On-link" if r["NextHop"] == "0.0.0.0" else r["NextHop"],
                address[r["InterfaceIndex"]], r["RouteMetric"] + self.interfaces[r["InterfaceIndex"]]["metric"]))
        lines += ["=" * 75, "Persistent Routes:", "  Network Address          Netmask  Gateway Address  Metric"]
        persistent = [r for r in self.routes if r["Store"] == "PersistentStore"]
        for r in persistent:
            network = ipaddress.IPv4Network(r["DestinationPrefix"])
            gateway = address[r["InterfaceIndex"]] if r["NextHop"] == "0.0.0.0" else r["NextHop"]
            lines.append("%17s %16s %16s %7d" % (network.network_address, network.netmask, gateway, r["RouteMetric"]))
        lines += [] if persistent else ["  None"]
        return "\n".join(lines + ["=" * 75]) + "\n"

    def imds_reachable(self) -> bool:
        """Whether a request to 169.254.169.254 leaves through the primary NIC (longest prefix, then
        lowest route + interface metric, over the active store)."""
        target = ipaddress.IPv4Address("169.254.169.254")
        covering = [r for r in self.routes if r["Store"] == "ActiveStore"
                    and target in ipaddress.IPv4Network(r["DestinationPrefix"])]
        if not covering:
            return False
        best = max(covering, key=lambda r: (ipaddress.IPv4Network(r["DestinationPrefix"]).prefixlen,
                                            -(r["RouteMetric"] + self.interfaces[r["InterfaceIndex"]]["metric"])))
        return best["InterfaceIndex"] == self.primary_index


def select_object(parameters: dict, pipeline_input) -> list:
    """Select-Object -Property: a new object per input with the named properties (values kept as
    they are, enums included) and calculated ones (``@{ n = 'Name'; e = { ... } }``; the keys
    Name/N/Label/L and Expression/E of the cmdlet's documentation)."""
    _only(parameters, {"Property"}, "Select-Object")
    wanted = parameters["Property"] if isinstance(parameters["Property"], list) else [parameters["Property"]]
    rows = []
    for item in pipeline_input or []:
        row = {}
        for spec in wanted:
            if isinstance(spec, str):
                row[spec] = item.get(spec)
                continue
            keys = {key.lower(): value for key, value in spec.items()}
            name = keys.get("n", keys.get("name", keys.get("l", keys.get("label"))))
            expression = keys.get("e", keys.get("expression"))
            if not isinstance(name, str) or not hasattr(expression, "invoke") or len(keys) != 2:
                raise AssertionError("the double's Select-Object takes names and @{ n = ...; e = { ... } } only")
            row[name] = expression.invoke(item)
        rows.append(PSObject("Selected." + item.type_name, row))
    return rows


def _only(parameters: dict, allowed: set, cmdlet: str) -> None:
    unknown = set(parameters) - allowed
    if unknown:
        raise AssertionError("the double's %s does not implement %s" % (cmdlet, sorted(unknown)))


def _store(name: str) -> str:
    if name not in STORES:
        raise PowerShellError("Cannot convert value \"%s\" to type \"Store\"" % name)
    return name


def cluster_node(static_gateway: bool = True, fixed: str = "", cluster_addresses: bool = True, **options):
    """The failover-cluster node of Microsoft's docs: NIC 7 (10.0.1.10, interface metric 10, two
    cluster IP addresses on it too: 10.0.1.15 as in the docs' ``route print``, and 10.0.1.5 in place of
    the docs' 10.0.1.63 so that one is numerically lower than the node's own), the cluster virtual adapter 12
    (169.254.1.156, metric 15), loopback 1. ``fixed``: "active", "persistent", "both" or "cluster"
    (the route a previous run - or a wrong hand - left)."""
    nic = [{"IPAddress": "10.0.1.10", "PrefixLength": 26, "PrefixOrigin": "Dhcp"}]
    if cluster_addresses:
        # Cluster IP addresses: manual, SkipAsSource (as Failover Clustering sets them), and one
        # that is numerically lower than the node's own address.
        nic = [{"IPAddress": "10.0.1.15", "PrefixLength": 26, "PrefixOrigin": "Manual", "SkipAsSource": True},
               {"IPAddress": "10.0.1.5", "PrefixLength": 26, "PrefixOrigin": "Manual", "SkipAsSource": True}] + nic
    interfaces = {
        7: {"alias": "Ethernet", "metric": 10, "addresses": nic},
        12: {"alias": "Cluster Virtual Adapter", "metric": 15,
             "addresses": [{"IPAddress": "169.254.1.156", "PrefixLength": 16, "PrefixOrigin": "WellKnown"}]},
        1: {"alias": "Loopback Pseudo-Interface 1", "metric": 75,
            "addresses": [{"IPAddress": "127.0.0.1", "PrefixLength": 8, "PrefixOrigin": "WellKnown"}]},
    }
    routes = [
        {"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.1.1", "InterfaceIndex": 7,
         "RouteMetric": 256 if static_gateway else 0, "Store": "ActiveStore"},
        {"DestinationPrefix": "10.0.1.0/26", "NextHop": "0.0.0.0", "InterfaceIndex": 7, "RouteMetric": 256,
         "Store": "ActiveStore"},
        {"DestinationPrefix": "10.0.1.10/32", "NextHop": "0.0.0.0", "InterfaceIndex": 7, "RouteMetric": 256,
         "Store": "ActiveStore"},
        {"DestinationPrefix": "127.0.0.0/8", "NextHop": "0.0.0.0", "InterfaceIndex": 1, "RouteMetric": 256,
         "Store": "ActiveStore"},
        {"DestinationPrefix": "169.254.0.0/16", "NextHop": "0.0.0.0", "InterfaceIndex": 12, "RouteMetric": 256,
         "Store": "ActiveStore"},
        {"DestinationPrefix": "169.254.1.156/32", "NextHop": "0.0.0.0", "InterfaceIndex": 12, "RouteMetric": 256,
         "Store": "ActiveStore"},
    ]
    if static_gateway:
        routes.append({"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.1.1", "InterfaceIndex": 7,
                       "RouteMetric": 256, "Store": "PersistentStore"})
    index = 12 if fixed == "cluster" else 7
    for store in {"active": ["ActiveStore"], "persistent": ["PersistentStore"], "both": list(STORES),
                  "cluster": list(STORES), "": []}[fixed]:
        routes.append({"DestinationPrefix": "169.254.169.254/32", "NextHop": "0.0.0.0", "InterfaceIndex": index,
                       "RouteMetric": 1, "Store": store})
    options.setdefault("cluster_node_state", "Up")
    return WindowsRouteDouble(interfaces, routes, primary_index=7, **options)
