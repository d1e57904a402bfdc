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
    # Shown 266 = static gateway 256 + interface metric 10 (the on-link host route 10.0.1.10/32 says so).
    assert routes[0] == {"destination": "0.0.0.0", "prefix": 0, "gateway": "10.0.1.1", "interface": "10.0.1.10",
                         "metric": 256, "interface_metric": 10, "store": "active"}
    assert {r["interface"]: r["interface_metric"] for r in routes} == {
        "10.0.1.10": 10, "127.0.0.1": 75, "169.254.1.156": 15}
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
    assert len([r for r in ipv4 if r["store"] == "active"]) == 6
    assert [(r["destination"], r["interface"], r["gateway"], r["metric"]) for r in ipv4 if r["store"] == "persistent"] \
        == [("169.254.169.254", "169.254.1.156", "", 1), ("0.0.0.0", "10.0.1.10", "10.0.1.1", None)]
    assert [r["destination"] for r in ipv6] == ["::1", "fe80::", "fe80::3166:ce5a:2bd5:a6d1", "2001:db8:abcd:12::",
                                                "ff00::"]
    wrapped = ipv6[2]
    assert wrapped["prefix"] == 128 and wrapped["interface"] == "7" and wrapped["gateway"] == ""
    assert ipv6[3]["gateway"] == "fe80::1234:5678:9abc:def0"
    plan = imds_route_plan(routes)
    assert plan["needed"] is True
    assert [(r["interface"], r["store"]) for r in plan["remove"]] == [
        ("169.254.1.156", "active"), ("169.254.1.156", "persistent")]
    assert plan["add"] == ["active", "persistent"]
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
    """The failover table as Get-NetRoute | ConvertTo-Json would show it (both metrics apart)."""
    index = {"10.0.1.10": 7, "169.254.1.156": 12, "127.0.0.1": 1}
    return [{"DestinationPrefix": "%s/%d" % (route["destination"], route["prefix"]),
             "NextHop": route["gateway"] or "0.0.0.0", "InterfaceIndex": index[route["interface"]],
             "InterfaceAlias": "Ethernet", "RouteMetric": route["metric"], "InterfaceMetric": route["interface_metric"],
             "AddressFamily": 2, "Store": 1}
            for route in parse_routes(table)]


def test_get_netroute_json():
    objects = get_netroute_from(FAILOVER)
    routes = parse_routes(json.dumps(objects))
    assert routes[0] == {"destination": "0.0.0.0", "prefix": 0, "gateway": "10.0.1.1", "interface": "7",
                         "metric": 256, "interface_metric": 10, "store": "active"}
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
                         "interface": "cluster0", "metric": 0, "interface_metric": 0, "store": "active"}
    plan = imds_route_plan(routes)
    assert plan["needed"] and plan["interface"] == "eth0" and plan["gateway"] == "10.0.0.1"
    assert [r["interface"] for r in plan["remove"]] == ["cluster0"]
    fixed = IP_JSON[:2] + [{"dst": "169.254.169.254", "gateway": "10.0.0.1", "dev": "eth0", "metric": 1}]
    assert imds_route_plan(parse_routes(fixed))["needed"] is False


@pytest.mark.parametrize("bad, words", [
    ("nothing to see here", "no route lines"), ("[1, 2]", "unrecognised"), ("{broken", "not valid JSON"),
    ([{"dst": 5}, "x"], "needs dst"), ([{"foo": 1}], "unrecognised"),
    ([{"dst": "default", "gateway": "10.0.0.1", "metric": "high"}], "metric must be a whole number"),
    ([{"dst": "default", "gateway": "gw.example"}], "not an IP address"),
    ([{"dst": "10.0.0.0/33"}], "not an address prefix"),
    ([{"DestinationPrefix": "0.0.0.0/0", "RouteMetric": -1}], "RouteMetric must be a whole number"),
    ([{"DestinationPrefix": "0.0.0.0/0", "Store": "Elsewhere"}], "Store must be"),
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


MULTIPATH = [
    {"dst": "default", "protocol": "dhcp", "metric": 100, "flags": [],
     "nexthops": [{"gateway": "10.0.0.1", "dev": "eth0", "weight": 1, "flags": []},
                  {"gateway": "10.1.0.1", "dev": "eth1", "weight": 1, "flags": []}]},
    {"dst": "10.0.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.0.4", "flags": []},
    {"dst": "10.1.0.0/24", "dev": "eth1", "protocol": "kernel", "scope": "link", "prefsrc": "10.1.0.4", "flags": []},
]


def test_multipath_default_route_gives_a_real_gateway_on_the_primary_interface():
    routes = parse_routes(json.dumps(MULTIPATH))
    assert [(r["destination"], r["gateway"], r["interface"], r["metric"]) for r in routes[:2]] == [
        ("0.0.0.0", "10.0.0.1", "eth0", 100), ("0.0.0.0", "10.1.0.1", "eth1", 100)]
    plan = imds_route_plan(routes)
    assert (plan["interface"], plan["gateway"], plan["needed"]) == ("eth0", "10.0.0.1", True)
    # Naming the second NIC takes that NIC's own next hop, not the first one's.
    plan = imds_route_plan(routes, interface="eth1")
    assert (plan["interface"], plan["gateway"]) == ("eth1", "10.1.0.1")
    fixed = MULTIPATH + [{"dst": "169.254.169.254", "gateway": "10.0.0.1", "dev": "eth0", "metric": 1}]
    assert imds_route_plan(parse_routes(fixed))["needed"] is False


def test_a_lower_metric_default_beats_the_table_order():
    table = [{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "metric": 200},
             {"dst": "default", "gateway": "10.1.0.1", "dev": "eth1", "metric": 100}]
    assert imds_route_plan(parse_routes(table))["interface"] == "eth1"


def test_an_ipv6_default_is_not_the_ipv4_default():
    ipv6_only = [{"dst": "default", "gateway": "fe80::1", "dev": "eth0", "metric": 1024}]
    routes = parse_routes(ipv6_only)
    assert (routes[0]["destination"], routes[0]["prefix"]) == ("::", 0)
    with pytest.raises(AnsibleFilterError, match="no IPv4 default route"):
        imds_route_plan(routes)
    text = " 10    266 ::/0                     fe80::1\n"
    assert [(r["destination"], r["prefix"]) for r in parse_routes(text)] == [("::", 0)]
    with pytest.raises(AnsibleFilterError, match="no IPv4 default route"):
        imds_route_plan(parse_routes(text))


def test_an_ipv6_gateway_on_a_continuation_line():
    text = ("  7    266 2001:db8:abcd:1234:5678:9abc:def0:1/128\n"
            "                                    fe80::1234:5678:9abc:def0\n"
            "  7    266 fe80::/64                On-link\n"
            "                                    fe80::99\n")
    routes = parse_routes(text)
    assert [(r["destination"], r["gateway"]) for r in routes] == [
        ("2001:db8:abcd:1234:5678:9abc:def0:1", "fe80::1234:5678:9abc:def0"), ("fe80::", "")]


def test_route_lines_beyond_the_length_limit_are_not_read():
    line = "  0.0.0.0  0.0.0.0  10.0.0.1  10.0.0.4  %s25" % (" " * 400)
    with pytest.raises(AnsibleFilterError, match="no route lines"):
        parse_routes(line)
