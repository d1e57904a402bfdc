"""``serve --config FILE``: a JSON or YAML file that overrides the default VM partially, for one VM or a fleet.

Every section is checked before anything starts; a wrong key or value raises ConfigError naming the
path to it (``vms[1].vm.tags``) and what is allowed there. The document each VM serves stays
consistent: ``tags`` gives both the ``tags`` string and ``tagsList``, ``name`` also renames
``osProfile.computerName`` and ``resourceId``, ``osType`` also sets ``storageProfile.osDisk.osType``.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from pathlib import Path

from . import instance
from .events import EventRequestError, check_event_request
from .faults import fault_from_request
from .server import API_VERSIONS, DEFAULT_RATE_LIMIT, RATE_LIMIT_MODELS

# Compute fields of Microsoft's OpenAPI file (imds-2023-07-01.json, definition Compute), minus the
# derived ones (tags is given as a mapping, tagsList follows from it).
COMPUTE_FIELDS = (
    "additionalCapabilities", "azEnvironment", "evictionPolicy", "extendedLocation", "host", "hostGroup",
    "isHostCompatibilityLayerVm", "licenseType", "location", "name", "offer", "osProfile", "osType",
    "physicalZone", "placementGroupId", "plan", "platformFaultDomain", "platformSubFaultDomain",
    "platformUpdateDomain", "priority", "provider", "publicKeys", "publisher", "resourceGroupName", "resourceId",
    "securityProfile", "sku", "storageProfile", "subscriptionId", "tags", "userData", "version",
    "virtualMachineScaleSet", "vmId", "vmScaleSetName", "vmSize", "zone",
)
# IMDS sends these as JSON objects or arrays; every other compute field is a string (numbers and
# booleans included: platformFaultDomain is "36", isHostCompatibilityLayerVm "true").
STRUCTURED_FIELDS = {"additionalCapabilities": dict, "extendedLocation": dict, "host": dict, "hostGroup": dict,
                     "osProfile": dict, "plan": dict, "publicKeys": list, "securityProfile": dict,
                     "storageProfile": dict, "virtualMachineScaleSet": dict}
OS_TYPES = ("Linux", "Windows")
INTERFACE_KEYS = ("macAddress", "privateIpAddress", "publicIpAddress", "subnet", "ipv6Addresses")
IDENTITY_KEYS = ("systemAssigned", "userAssigned", "tenantId")
IDENTITY_ENTRY_KEYS = {"systemAssigned": ("client_id", "object_id"),
                       "userAssigned": ("client_id", "object_id", "msi_res_id")}
RATE_LIMIT_KEYS = ("per_second", "model")
# The sections a VM has; at the top level they are every VM's defaults.
VM_SECTIONS = ("vm", "network", "identities", "scheduled_events", "faults", "max_api_version", "rate_limit")
TOP_LEVEL = VM_SECTIONS + ("vms",)
FLEET_ENTRY = VM_SECTIONS + ("match",)
MAC_RE = re.compile(r"^[0-9A-Fa-f]{12}$")
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class ConfigError(ValueError):
    """A configuration file that cannot be served; the message names the key and what is allowed."""


class VmSettings:
    """Everything one emulated VM needs: its document, identities, events, faults, versions, rate limit."""

    def __init__(self, name: str, match: list, profile: dict, identities: dict | None, events: list,
                 faults: list, versions: tuple, rate_limit: int | None, rate_limit_model: str) -> None:
        self.name = name
        self.match = match  # ip_network objects; empty: every client no other VM claims
        self.profile = profile
        self.identities = identities
        self.events = events
        self.faults = faults
        self.versions = versions
        self.rate_limit = rate_limit
        self.rate_limit_model = rate_limit_model


def read_file(path: str | Path) -> dict:
    """Parse ``path`` as JSON, or YAML when it ends in .yml/.yaml (needs PyYAML: the [yaml] extra)."""
    path = Path(path)
    try:
        text = path.read_bytes()[:MAX_CONFIG_BYTES + 1]
    except OSError as exc:
        raise ConfigError("cannot read the configuration %s: %s" % (path, exc.strerror)) from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError("%s is larger than %d bytes" % (path, MAX_CONFIG_BYTES))
    if path.suffix.lower() in (".yml", ".yaml"):
        data = _parse_yaml(path, text)
    else:
        try:
            data = json.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError("%s is not JSON (%s); YAML files must end in .yml or .yaml" % (path, exc)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("%s: the top level must be a mapping with keys from %s" % (path, ", ".join(TOP_LEVEL)))
    return data


def _parse_yaml(path: Path, text: bytes):
    try:
        import yaml  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ConfigError("%s is YAML, which needs PyYAML: pip install 'azure-imds-emulator[yaml]', "
                          "or give the configuration as JSON" % path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("%s is not valid YAML: %s" % (path, exc)) from None


def build(data: dict, base_profile: dict | None = None) -> list:
    """The VMs a configuration describes (one without ``vms``), each a VmSettings."""
    _only_keys(data, TOP_LEVEL, "")
    defaults = {key: data[key] for key in VM_SECTIONS if key in data}
    if "vms" not in data:
        return [_vm(defaults, [], "", base_profile)]
    entries = data["vms"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError("vms: must be a non-empty list of VMs, each with match: [address or network, ...]")
    vms = []
    for index, entry in enumerate(entries):
        where = "vms[%d]." % index
        if not isinstance(entry, dict):
            raise ConfigError("%s must be a mapping with keys from %s" % (where[:-1], ", ".join(FLEET_ENTRY)))
        _only_keys(entry, FLEET_ENTRY, where)
        merged = dict(defaults)
        merged.update({key: entry[key] for key in VM_SECTIONS if key in entry})
        if isinstance(defaults.get("vm"), dict) and isinstance(entry.get("vm"), dict):
            merged["vm"] = dict(defaults["vm"], **entry["vm"])
        vms.append(_vm(merged, _match(entry.get("match"), where + "match"), where, base_profile))
    _check_fleet(vms)
    return vms


def _check_fleet(vms: list) -> None:
    names = [vm.name for vm in vms]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError("vms: every VM needs its own vm.name (the control API names VMs by it); "
                          "used more than once: %s" % ", ".join(duplicates))
    catch_all = [vm.name for vm in vms if not vm.match]
    if len(catch_all) > 1:
        raise ConfigError("vms: at most one VM may leave out match (it answers every other client); "
                          "these do: %s" % ", ".join(catch_all))


def _match(value, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ConfigError("%s: a list of client addresses or networks (10.0.0.4, 10.0.1.0/24)" % where)
    networks = []
    for index, item in enumerate(value):
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            raise ConfigError("%s[%d]: %r is not an IP address or network" % (where, index, item)) from None
    return networks


def _vm(sections: dict, match: list, where: str, base_profile: dict | None) -> VmSettings:
    profile = copy.deepcopy(base_profile) if base_profile is not None else instance.load_profile()
    if "vm" in sections:
        apply_vm(profile, sections["vm"], where + "vm")
    if "network" in sections:
        profile["network"] = network_document(sections["network"], where + "network")
    identities = sections.get("identities")
    if identities is not None:
        check_identities(identities, where + "identities")
    events = _list(sections.get("scheduled_events", []), where + "scheduled_events")
    for index, event in enumerate(events):
        try:
            check_event_request(event)
        except EventRequestError as exc:
            raise ConfigError("%sscheduled_events[%d]: %s" % (where, index, exc)) from None
    faults = _list(sections.get("faults", []), where + "faults")
    for index, spec in enumerate(faults):
        try:
            fault_from_request(spec)  # a Fault counts its hits: each (re)start makes fresh ones from the spec
        except ValueError as exc:
            raise ConfigError("%sfaults[%d]: %s" % (where, index, exc)) from None
    rate_limit, model = _rate_limit(sections.get("rate_limit", {}), where + "rate_limit")
    return VmSettings(profile["compute"].get("name", ""), match, profile, identities, events, faults,
                      versions(sections.get("max_api_version"), where + "max_api_version"), rate_limit, model)


def versions(newest, where: str = "max_api_version") -> tuple:
    """The api-versions an IMDS knows that knows none newer than ``newest``."""
    if newest is None:
        return API_VERSIONS
    if not isinstance(newest, str) or newest not in API_VERSIONS:
        raise ConfigError("%s: %r is not an IMDS api-version; one of %s" % (where, newest, ", ".join(API_VERSIONS)))
    return tuple(v for v in API_VERSIONS if v <= newest)


def apply_vm(profile: dict, vm, where: str = "vm") -> None:
    """Override compute fields, keeping the fields that follow from them consistent."""
    if not isinstance(vm, dict):
        raise ConfigError("%s: a mapping of compute fields (%s)" % (where, ", ".join(COMPUTE_FIELDS)))
    _only_keys(vm, COMPUTE_FIELDS, where + ".")
    compute = profile.setdefault("compute", {})
    for key, value in vm.items():
        if key == "tags":
            continue
        compute[key] = _compute_value(key, value, "%s.%s" % (where, key))
    if "tags" in vm:
        tags = _tags(vm["tags"], where + ".tags")
        compute["tags"] = ";".join("%s:%s" % item for item in tags.items())
        compute["tagsList"] = [{"name": name, "value": value} for name, value in tags.items()]
    if "osType" in vm:
        if compute["osType"] not in OS_TYPES:
            raise ConfigError("%s.osType: %r; one of %s" % (where, compute["osType"], ", ".join(OS_TYPES)))
        os_disk = compute.get("storageProfile", {}).get("osDisk")
        if isinstance(os_disk, dict) and "storageProfile" not in vm:
            os_disk["osType"] = compute["osType"]
        if compute["osType"] == "Linux" and "licenseType" not in vm:
            compute["licenseType"] = ""
    if "name" in vm and "osProfile" not in vm and isinstance(compute.get("osProfile"), dict):
        compute["osProfile"]["computerName"] = compute["name"]
    if "resourceId" not in vm and {"name", "resourceGroupName", "subscriptionId"} & set(vm):
        compute["resourceId"] = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s"
                                 % (compute.get("subscriptionId", ""), compute.get("resourceGroupName", ""),
                                    compute.get("name", "")))


def _compute_value(key: str, value, where: str):
    kind = STRUCTURED_FIELDS.get(key)
    if kind is not None:
        if not isinstance(value, kind):
            raise ConfigError("%s: must be %s, as IMDS sends it" % (where, "a mapping" if kind is dict else "a list"))
        return copy.deepcopy(value)
    # IMDS sends numbers and booleans as strings: accept them from YAML and store them as IMDS would.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ConfigError("%s: must be text (or a number or boolean, sent as text as IMDS does), got %s"
                          % (where, type(value).__name__))
    return value


def _tags(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError("%s: a mapping of tag names to values ({env: prod})" % where)
    tags = {}
    for name, tag_value in value.items():
        if not isinstance(name, str) or not name:
            raise ConfigError("%s: tag names must be non-empty text, got %r" % (where, name))
        tags[name] = _compute_value("tags", "" if tag_value is None else tag_value, "%s.%s" % (where, name))
    return tags


def network_document(network, where: str = "network") -> dict:
    """``{interfaces: [{macAddress, privateIpAddress, publicIpAddress, subnet, ipv6Addresses}]}`` as IMDS shows it."""
    if not isinstance(network, dict):
        raise ConfigError("%s: a mapping with the key interfaces" % where)
    _only_keys(network, ("interfaces",), where + ".")
    interfaces = _list(network.get("interfaces", []), where + ".interfaces")
    shown = []
    for index, interface in enumerate(interfaces):
        shown.append(_interface(interface, "%s.interfaces[%d]" % (where, index)))
    return {"interface": shown}


def _interface(interface, where: str) -> dict:
    if not isinstance(interface, dict):
        raise ConfigError("%s: a mapping with keys from %s" % (where, ", ".join(INTERFACE_KEYS)))
    _only_keys(interface, INTERFACE_KEYS, where + ".")
    mac = str(interface.get("macAddress", "000D3A000000")).replace(":", "").replace("-", "").upper()
    if not MAC_RE.match(mac):
        raise ConfigError("%s.macAddress: %r is not a MAC address (12 hex digits, IMDS shows 000D3AF806EC)"
                          % (where, interface.get("macAddress")))
    private = _address(interface.get("privateIpAddress", "10.0.0.4"), 4, where + ".privateIpAddress")
    public = interface.get("publicIpAddress", "")
    if public:
        public = str(_address(public, 4, where + ".publicIpAddress"))
    subnet_text = interface.get("subnet", "%s/24" % private)
    try:
        subnet = ipaddress.ip_network(str(subnet_text), strict=False)
    except ValueError:
        raise ConfigError("%s.subnet: %r is not a network (10.0.0.0/24)" % (where, subnet_text)) from None
    if private not in subnet:
        raise ConfigError("%s: privateIpAddress %s is not in subnet %s" % (where, private, subnet))
    ipv6 = [str(_address(a, 6, "%s.ipv6Addresses[%d]" % (where, i)))
            for i, a in enumerate(_list(interface.get("ipv6Addresses", []), where + ".ipv6Addresses"))]
    return {"ipv4": {"ipAddress": [{"privateIpAddress": str(private), "publicIpAddress": public}],
                     "subnet": [{"address": str(subnet.network_address), "prefix": str(subnet.prefixlen)}]},
            "ipv6": {"ipAddress": [{"privateIpAddress": a} for a in ipv6]},
            "macAddress": mac}


def _address(value, version: int, where: str):
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise ConfigError("%s: %r is not an IPv%d address" % (where, value, version))
    return address


def check_identities(identities, where: str = "identities") -> None:
    """``{systemAssigned: {client_id, object_id} | null, userAssigned: [{client_id, object_id, msi_res_id}], tenantId}``."""
    if not isinstance(identities, dict):
        raise ConfigError("%s: a mapping with keys from %s" % (where, ", ".join(IDENTITY_KEYS)))
    _only_keys(identities, IDENTITY_KEYS, where + ".")
    system = identities.get("systemAssigned")
    if system is not None:
        _identity(system, IDENTITY_ENTRY_KEYS["systemAssigned"], where + ".systemAssigned")
    for index, user in enumerate(_list(identities.get("userAssigned", []), where + ".userAssigned")):
        _identity(user, IDENTITY_ENTRY_KEYS["userAssigned"], "%s.userAssigned[%d]" % (where, index))
    if not isinstance(identities.get("tenantId", ""), str):
        raise ConfigError("%s.tenantId: must be text (a GUID)" % where)


def _identity(entry, keys: tuple, where: str) -> None:
    if not isinstance(entry, dict):
        raise ConfigError("%s: a mapping with %s" % (where, ", ".join(keys)))
    _only_keys(entry, keys, where + ".")
    missing = [key for key in keys if not isinstance(entry.get(key), str) or not entry[key]]
    if missing:
        raise ConfigError("%s: needs %s (text)" % (where, ", ".join(missing)))


def _rate_limit(value, where: str) -> tuple:
    """``{per_second: 5 | null, model: arrivals | served}``; null switches IMDS's own 429s off."""
    if value is None:
        return None, "arrivals"
    if not isinstance(value, dict):
        raise ConfigError("%s: a mapping with keys from %s" % (where, ", ".join(RATE_LIMIT_KEYS)))
    _only_keys(value, RATE_LIMIT_KEYS, where + ".")
    per_second = value.get("per_second", DEFAULT_RATE_LIMIT)
    if per_second is not None and (isinstance(per_second, bool) or not isinstance(per_second, int) or per_second < 1):
        raise ConfigError("%s.per_second: a whole number of requests, at least 1, or null (no limit)" % where)
    model = value.get("model", "arrivals")
    if model not in RATE_LIMIT_MODELS:
        raise ConfigError("%s.model: %r; one of %s" % (where, model, ", ".join(RATE_LIMIT_MODELS)))
    return per_second, model


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise ConfigError("%s: must be a list" % where)
    return value


def _only_keys(mapping: dict, allowed: tuple, where: str) -> None:
    unknown = [key for key in mapping if key not in allowed]
    if unknown:
        raise ConfigError("%s%s: unknown key; allowed here: %s" % (where, unknown[0], ", ".join(allowed)))
