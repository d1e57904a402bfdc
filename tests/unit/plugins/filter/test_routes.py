"""parse_routes and imds_route_plan on Microsoft's two real route print tables and on variants
built in the same format: localized headers and on-link words, several default routes, a stale
IMDS route on the cluster adapter, IPv6 and persistent sections, Get-NetRoute and ip -j JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.imds.azure.plugins.filter.routes import FilterModule
from helpers import paths

FILTERS = FilterModule().filters()
parse_routes = FILTERS["parse_routes"]
imds_route_plan = FILTERS["imds_route_plan"]
DATA = Path(__file__).resolve().parents[2] / "data"
FAILOVER = (paths.SAMPLES / "route-print-docs-failover-cluster.txt").read_text()
HEALTHY = (paths.SAMPLES / "route-print-docs-troubleshooting.txt").read_text()


def test_failover_cluster_table_needs_the_documented_route():
    routes = parse_routes(FAILOVER)
    assert len(routes) == 16
    assert routes[0] == {"destination": "0.0.0.0", "prefix": 0, "gateway": "10.0.1.1", "interface": "10.0.1.10",
                         "metric": 266, "interface_metric": None}
    assert routes[1]["prefix"] == 26 and routes[1]["gateway"] == ""
    plan = imds_route_plan(routes)
    assert plan["needed"] is True
    assert (plan["destination"], plan["interface"], plan["gateway"], plan["metric"]) == (
        "169.254.169.254/32", "10.0.1.10", "10.0.1.10", 1)
    assert plan["remove"] == []
    assert "169.254.0.0/16 on-link on interface 169.254.1.156" in plan["reason"]


def test_troubleshooting_table_is_healthy():
    routes = parse_routes(HEALTHY)
    assert len(routes) == 6
    plan = imds_route_plan(routes)
    assert plan["needed"] is False, plan["reason"]
    assert plan["interface"] == "172.16.69.7"


@pytest.mark.parametrize("name", ["route-print-failover-ja.txt", "route-print-failover-ko.txt",
                                  "route-print-failover-de.txt"])
def test_localized_tables_parse_the_same(name):
    text = (DATA / name).read_text(encoding="utf-8")
    assert "On-link" not in text and "Active Routes" not in text
    assert parse_routes(text) == parse_routes(FAILOVER)
    plan = imds_route_plan(parse_routes(text))
    assert plan["needed"] and plan["gateway"] == "10.0.1.10"


def test_stale_route_on_the_cluster_adapter_with_ipv6_and_persistent_sections():
    routes = parse_routes((DATA / "route-print-full-ipv6-persistent.txt").read_text())
    ipv4 = [r for r in routes if "." in r["destination"]]
    ipv6 = [r for r in routes if ":" in r["destination"]]
    assert len(ipv4) == 6  # persistent lines are configuration, not active routes
    assert [r["destination"] for r in ipv6] == ["::1", "fe80::", "fe80::3166:ce5a:2bd5:a6d1", "2001:db8:abcd:12::",
                                                "ff00::"]
    wrapped = ipv6[2]
    assert wrapped["prefix"] == 128 and wrapped["interface"] == "7" and wrapped["gateway"] == ""
    assert ipv6[3]["gateway"] == "fe80::1234:5678:9abc:def0"
    plan = imds_route_plan(routes)
    assert plan["needed"] is True
    assert [r["interface"] for r in plan["remove"]] == ["169.254.1.156"]
    assert "wrong interface" in plan["reason"]


def test_several_default_routes_the_lowest_metric_wins():
    routes = parse_routes((DATA / "route-print-two-defaults.txt").read_text())
    plan = imds_route_plan(routes)
    assert plan["interface"] == "10.0.2.20" and plan["gateway"] == "10.0.2.20"
    assert plan["needed"] and [r["interface"] for r in plan["remove"]] == ["10.0.1.10"]


def test_a_different_metric_is_needed():
    lines = HEALTHY.replace("169.254.169.254  255.255.255.255      172.16.69.1      172.16.69.7     11",
                            "169.254.169.254  255.255.255.255      172.16.69.1      172.16.69.7     15")
    plan = imds_route_plan(parse_routes(lines))
    assert plan["needed"] and "metric 5, not 1" in plan["reason"]
    assert len(plan["remove"]) == 1  # replaced with the right metric
    assert imds_route_plan(parse_routes(lines), metric=5)["needed"] is False


def test_explicit_interface_and_gateway():
    plan = imds_route_plan(parse_routes(HEALTHY), gateway="172.16.69.7")
    assert plan["needed"] and plan["gateway"] == "172.16.69.7"  # only the exact gateway is right now
    plan = imds_route_plan(parse_routes(FAILOVER), interface="10.0.1.10", gateway="10.0.1.1")
    assert plan["gateway"] == "10.0.1.1"


def test_absent():
    plan = imds_route_plan(parse_routes(HEALTHY), state="absent")
    assert plan["needed"] and [r["destination"] for r in plan["remove"]] == ["169.254.169.254"]
    assert imds_route_plan(parse_routes(FAILOVER), state="absent")["needed"] is False


def get_netroute_from(table: str) -> list:
    """The failover table as Get-NetRoute | ConvertTo-Json would show it (interface metric 10)."""
    index = {"10.0.1.10": 7, "169.254.1.156": 12, "127.0.0.1": 1}
    objects = []
    for route in parse_routes(table):
        mask = route["prefix"]
        objects.append({"DestinationPrefix": "%s/%d" % (route["destination"], mask),
                        "NextHop": route["gateway"] or "0.0.0.0", "InterfaceIndex": index[route["interface"]],
                        "InterfaceAlias": "Ethernet", "RouteMetric": 0 if mask == 0 else 256, "InterfaceMetric": 10,
                        "AddressFamily": 2, "Store": 1})
    return objects


def test_get_netroute_json():
    objects = get_netroute_from(FAILOVER)
    routes = parse_routes(json.dumps(objects))
    assert routes[0] == {"destination": "0.0.0.0", "prefix": 0, "gateway": "10.0.1.1", "interface": "7",
                         "metric": 0, "interface_metric": 10}
    plan = imds_route_plan(routes)
    assert plan["needed"] and plan["interface"] == "7" and plan["gateway"] == "10.0.1.1"
    one = parse_routes(json.dumps(objects[0]), source="get_netroute")  # ConvertTo-Json of one object
    assert len(one) == 1
    with_address = [dict(o, InterfaceAddress="10.0.1.10" if o["InterfaceIndex"] == 7 else "x") for o in objects]
    plan = imds_route_plan(parse_routes(with_address))
    assert plan["interface"] == "10.0.1.10" and plan["gateway"] == "10.0.1.10"
    objects.append({"DestinationPrefix": "169.254.169.254/32", "NextHop": "10.0.1.1", "InterfaceIndex": 7,
                    "RouteMetric": 1, "InterfaceMetric": 10})
    assert imds_route_plan(parse_routes(objects))["needed"] is False


IP_JSON = [
    {"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "protocol": "dhcp", "metric": 100, "flags": []},
    {"dst": "10.0.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.0.4",
     "flags": []},
    {"dst": "169.254.169.254", "gateway": "10.9.9.2", "dev": "cluster0", "flags": []},
]


def test_ip_json():
    routes = parse_routes(json.dumps(IP_JSON))
    assert routes[0]["destination"] == "0.0.0.0" and routes[0]["prefix"] == 0 and routes[0]["interface"] == "eth0"
    assert routes[2] == {"destination": "169.254.169.254", "prefix": 32, "gateway": "10.9.9.2",
                         "interface": "cluster0", "metric": 0, "interface_metric": 0}
    plan = imds_route_plan(routes)
    assert plan["needed"] and plan["interface"] == "eth0" and plan["gateway"] == "10.0.0.1"
    assert [r["interface"] for r in plan["remove"]] == ["cluster0"]
    fixed = IP_JSON[:2] + [{"dst": "169.254.169.254", "gateway": "10.0.0.1", "dev": "eth0", "metric": 1}]
    assert imds_route_plan(parse_routes(fixed))["needed"] is False


@pytest.mark.parametrize("bad, words", [
    ("nothing to see here", "no route lines"), ("[1, 2]", "unrecognised"), ("{broken", "not valid JSON"),
    ([{"dst": 5}, "x"], "needs dst"), ([{"foo": 1}], "unrecognised"),
])
def test_bad_tables(bad, words):
    with pytest.raises(AnsibleFilterError, match=words):
        parse_routes(bad)


def test_plan_without_a_default_route():
    routes = parse_routes("   10.0.0.0   255.0.0.0   On-link   10.0.0.4   266")
    with pytest.raises(AnsibleFilterError, match="no IPv4 default route"):
        imds_route_plan(routes)
    assert imds_route_plan(routes, interface="10.0.0.4")["gateway"] == "10.0.0.4"
    with pytest.raises(AnsibleFilterError, match="give the list"):
        imds_route_plan("text")
