"""What a user reads from the route code, asserted exactly: the error for each kind of bad table
(naming the field and the value), how routes are written in reasons and diffs, how IMDS traffic
leaves today, and the planned route as the host will show it. Found missing by mutation testing
(tools/mutation.sh, `make mutation`); see MUTATION.md beside this file for the survivors judged
equivalent."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import (
    MAX_LINE_LENGTH,
    parse_get_netroute,
    parse_ip_json,
    parse_route_print,
    parse_routes,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_plan import (
    current_path,
    describe_route,
    plan_imds_route,
    planned_route,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    RouteTableError,
    new_route,
)
from helpers import paths

FAILOVER = (paths.SAMPLES / "route-print-docs-failover-cluster.txt").read_text()
NETROUTE = [{"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.1.1", "InterfaceIndex": 7, "RouteMetric": 0,
             "InterfaceMetric": 10}]
IP_JSON = [{"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "metric": 100}]


@pytest.mark.parametrize("data, message", [
    ({}, "ip -j route prints a JSON list; got a JSON dict"),
    ([{"x": 1}], "an ip -j route entry needs dst; got {'x': 1}"),
    ([{"dst": "default", "nexthops": []}], "nexthops must be a list of objects; got []"),
    ([{"dst": "default", "nexthops": [1]}], "nexthops must be a list of objects; got [1]"),
    ([{"dst": "default", "nexthops": {"gateway": "10.0.0.1"}}],
     "nexthops must be a list of objects; got {'gateway': '10.0.0.1'}"),
    ([{"dst": "default", "gateway": "gw.example"}], "gateway 'gw.example' is not an IP address"),
    ([{"dst": "10.0.0.0/33"}], "dst '10.0.0.0/33' is not an address prefix"),
    ([{"dst": "default", "dev": 5}], "dev must be an interface name; got 5"),
    ([{"dst": "default", "metric": -1}], "metric must be a whole number >= 0; got -1"),
])
def test_ip_json_errors_name_the_field(data, message):
    with pytest.raises(RouteTableError) as caught:
        parse_ip_json(data)
    assert str(caught.value) == message


@pytest.mark.parametrize("data, message", [
    (5, "a Get-NetRoute object needs DestinationPrefix; got 5"),
    ({"DestinationPrefix": 7}, "DestinationPrefix must be text like 10.0.0.0/24; got 7"),
    ({"DestinationPrefix": "0.0.0.0/0", "NextHop": "x"}, "NextHop 'x' is not an IP address"),
    ({"DestinationPrefix": "0.0.0.0/0", "InterfaceIndex": [7]}, "InterfaceIndex must be a number; got [7]"),
    ({"DestinationPrefix": "0.0.0.0/0", "InterfaceMetric": "ten"},
     "InterfaceMetric must be a whole number >= 0; got 'ten'"),
    ({"DestinationPrefix": "0.0.0.0/0", "Store": "Elsewhere"},
     "Store must be ActiveStore or PersistentStore; got 'Elsewhere'"),
])
def test_get_netroute_errors_name_the_field(data, message):
    with pytest.raises(RouteTableError) as caught:
        parse_get_netroute(data)
    assert str(caught.value) == message


def test_long_values_are_cut_in_messages():
    with pytest.raises(RouteTableError) as caught:
        parse_get_netroute({"DestinationPrefix": "x" * 100})
    shown = str(caught.value).split("DestinationPrefix ", 1)[1].rsplit(" is not", 1)[0]
    assert shown == repr("x" * 100)[:77] + "..." and len(shown) == 80
    with pytest.raises(RouteTableError) as caught:
        parse_get_netroute({"DestinationPrefix": "y" * 78})  # repr is exactly 80 characters
    assert repr("y" * 78) in str(caught.value)


def test_parse_routes_sources():
    text = json.dumps(NETROUTE)
    with pytest.raises(RouteTableError) as caught:
        parse_routes(text, source="route_print")
    assert str(caught.value) == ("no route lines found; expected `route print` output, Get-NetRoute JSON or "
                                 "`ip -j route` JSON")
    assert parse_routes(text, source="get_netroute")[0]["interface_metric"] == 10
    with pytest.raises(RouteTableError, match=r"^an ip -j route entry needs dst; got \{'DestinationPrefix'"):
        parse_routes(text, source="ip_json")
    assert parse_routes(json.dumps(IP_JSON), source="ip_json")[0]["interface"] == "eth0"
    with pytest.raises(RouteTableError, match=r"^a Get-NetRoute object needs DestinationPrefix; got \{'dst'"):
        parse_routes(json.dumps(IP_JSON), source="get_netroute")
    assert parse_routes("   ", source="ip_json") == [] and parse_routes("[]") == []
    with pytest.raises(RouteTableError) as caught:
        parse_routes(FAILOVER, source="routeprint")
    assert str(caught.value) == "source must be auto, route_print, get_netroute or ip_json, not 'routeprint'"
    with pytest.raises(RouteTableError) as caught:
        parse_routes("[{\"foo\": 1}]")
    assert str(caught.value) == ("unrecognised route table: expected route print text, Get-NetRoute JSON or "
                                 "ip -j JSON")
    with pytest.raises(RouteTableError, match=r"^the route table is not valid JSON: Expecting"):
        parse_routes("{broken")


def test_bytes_are_read_as_utf8():
    localized = FAILOVER.replace("On-link", "リンク上")
    assert parse_routes(localized.encode("utf-8")) == parse_routes(FAILOVER)
    assert parse_routes(bytearray(json.dumps(IP_JSON).encode())) == parse_routes(IP_JSON)


def test_a_multipath_hop_without_dev_takes_the_routes():
    routes = parse_ip_json([{"dst": "default", "dev": "eth9", "metric": 5,
                             "nexthops": [{"gateway": "10.0.0.1"}, {"gateway": "10.0.0.2", "dev": "eth1"}]},
                            {"dst": "10.0.0.0/8"}])
    assert [(r["interface"], r["gateway"], r["metric"]) for r in routes] == [
        ("eth9", "10.0.0.1", 5), ("eth1", "10.0.0.2", 5), ("", "", 0)]


def test_describe_route():
    assert describe_route(new_route("169.254.169.254", 32, "10.0.0.1", "eth0", 1)) == \
        "169.254.169.254/32 via 10.0.0.1 dev eth0 metric 1"
    assert describe_route(new_route("169.254.169.254", 32, "", "", None, store="persistent")) == \
        "169.254.169.254/32 on-link dev ? metric ? (persistent store)"


def test_current_path_takes_the_most_specific_then_the_cheapest_active_route():
    routes = [new_route("fe80::", 64, "", "7", 256),
              new_route("169.254.169.254", 32, "", "10.0.1.10", 1, store="persistent"),
              new_route("169.254.5.5", 16, "", "clu0", 256, 15),   # host bits set, as a hand may write it
              new_route("169.254.0.0", 16, "10.0.0.1", "eth0", 200, 10),
              new_route("0.0.0.0", 0, "10.0.0.1", "eth0", 0, 10)]
    assert current_path(routes) == "169.254.169.254 now goes to 169.254.0.0/16 via 10.0.0.1 on interface eth0"
    routes[3]["metric"] = 300
    assert current_path(routes) == "169.254.169.254 now goes to 169.254.5.5/16 on-link on interface clu0"
    assert current_path(routes[:2]) == "no route covers 169.254.169.254"


def test_planned_route_as_the_host_shows_it():
    plan = {"gateway": "10.0.1.10", "interface": "10.0.1.10", "metric": 1}
    assert planned_route(plan, "persistent") == new_route("169.254.169.254", 32, "", "10.0.1.10", 1,
                                                          store="persistent")
    plan = {"gateway": "10.0.0.1", "interface": "eth0", "metric": 3}
    assert planned_route(plan) == new_route("169.254.169.254", 32, "10.0.0.1", "eth0", 3)


def test_a_persistent_route_of_unknown_interface_is_judged_by_its_gateway():
    active = [new_route("0.0.0.0", 0, "10.0.1.1", "10.0.1.10", 256, 10),
              new_route("169.254.169.254", 32, "", "10.0.1.10", 1, 10)]
    by_gateway = new_route("169.254.169.254", 32, "10.0.1.1", "", 1, store="persistent")
    assert plan_imds_route(active + [by_gateway])["needed"] is False
    elsewhere = dict(by_gateway, gateway="10.9.9.9")
    assert plan_imds_route(active + [elsewhere])["remove"] == [elsewhere]
    # Unknown interface and no gateway says nothing about where it leads: not right.
    nowhere = dict(by_gateway, gateway="")
    assert plan_imds_route(active + [nowhere])["remove"] == [nowhere]
    # An active route must name its interface.
    unnamed = new_route("169.254.169.254", 32, "10.0.1.1", "", 1, 10)
    assert plan_imds_route(active[:1] + [unnamed])["remove"] == [unnamed]


SEP = "=" * 75


def test_ipv6_sections_keep_their_store_and_ipv4_separators_do_not_count():
    text = "\n".join([SEP, "  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  266", SEP, SEP,
                      " 7    266 fe80::/64                On-link", "   fe80::99",
                      SEP, " 7    300 2001:db8::/64            fe80::1", SEP])
    routes = parse_route_print(text)
    assert [(r["destination"], r["store"], r["gateway"]) for r in routes] == [
        ("0.0.0.0", "active", "10.0.1.1"), ("fe80::", "active", ""), ("2001:db8::", "persistent", "fe80::1")]


def test_odd_lines_between_route_lines():
    long_line = "x" * (MAX_LINE_LENGTH + 1)
    exact = "  10.0.1.0  255.255.255.192  On-link  10.0.1.10  266".ljust(MAX_LINE_LENGTH)
    text = "\n".join(["  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  266", "   fe80::1", long_line, "   fe80::2",
                      exact, SEP, "   fe80::3", "  10.0.1.10  255.255.255.255  On-link  10.0.1.10  266"])
    routes = parse_route_print(text)
    assert [r["destination"] for r in routes] == ["0.0.0.0", "10.0.1.0", "10.0.1.10"]
    assert all(r["gateway"] in ("", "10.0.1.1") for r in routes)


@pytest.mark.parametrize("line", [
    "  10.0.0.0  255.0.0.0  On-link  300.1.1.1  266",       # interface not an address
    "  10.0.0.300  255.0.0.0  On-link  10.0.1.10  266",     # destination not an address
    "  10.0.0.0  255.0.0.300  10.0.0.1  10.0.1.10  266",    # mask not an address
    "  169.254.169.254  255.255.255.255  10.0.1.300  1",    # persistent: gateway not an address
    "  169.254.169.300  255.255.255.255  10.0.1.10  1",     # persistent: destination not an address
    "  169.254.169.254  255.255.255.300  10.0.1.10  1",     # persistent: mask not an address
    " 7    266 zz::/64                  On-link",           # IPv6: not an address
    " 7    266 fe80::/129               On-link",           # IPv6: prefix too long
])
def test_lines_that_only_look_like_routes_are_not_read(line):
    assert parse_route_print(line) == []


def test_ipv6_lines():
    routes = parse_route_print(" 1    331 ::1/128                  On-link\n 7    266 fe80::/128  fe80::1")
    assert [(r["destination"], r["prefix"], r["interface"], r["metric"], r["store"]) for r in routes] == [
        ("::1", 128, "1", 331, "active"), ("fe80::", 128, "7", 266, "active")]


def test_a_non_contiguous_mask_is_named():
    with pytest.raises(RouteTableError) as caught:
        parse_route_print("  10.0.0.0  255.0.255.0  On-link  10.0.1.10  266")
    assert str(caught.value) == "255.0.255.0 is not a contiguous netmask"


@pytest.mark.parametrize("lines, expected", [
    # The host route of the interface's own address decides, whatever else is shown.
    (["10.5.0.0 255.255.0.0 On-link 10.0.1.10 300", "10.6.0.0 255.255.0.0 On-link 10.0.1.10 300",
      "10.0.1.10 255.255.255.255 On-link 10.0.1.10 266"], 10),
    (["10.0.1.10 255.255.255.255 On-link 10.0.1.10 256"], 0),
    # A /32 route via a gateway, or to another address, is not the host route.
    (["10.0.1.10 255.255.255.255 10.0.1.1 10.0.1.10 300", "10.0.1.0 255.255.255.0 On-link 10.0.1.10 266"], 10),
    (["10.0.1.11 255.255.255.255 On-link 10.0.1.10 300", "10.0.1.0 255.255.255.0 On-link 10.0.1.10 266",
      "10.0.2.0 255.255.255.0 On-link 10.0.1.10 266"], 10),
    (["10.0.1.0 255.255.255.0 On-link 10.0.1.10 256"], 0),
    # Routes via a gateway do not tell the interface metric; a default route shown below 256 does (DHCP).
    (["10.9.0.0 255.255.0.0 10.0.1.1 10.0.1.10 300", "0.0.0.0 0.0.0.0 10.0.1.1 10.0.1.10 25"], 25),
])
def test_interface_metric_rules(lines, expected):
    routes = parse_route_print("\n".join("  " + line for line in lines))
    assert {r["interface_metric"] for r in routes} == {expected}


def test_persistent_gateways_find_their_interface_by_on_link_subnet():
    text = "\n".join([
        "  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  266",
        "  10.0.0.0  255.0.0.0  On-link  10.0.1.10  266",
        "  10.0.2.7  255.255.255.0  On-link  10.0.2.20  281",     # host bits set
        "  10.0.3.0  255.255.255.0  On-link  10.0.3.30  281",
        "  10.0.3.0  255.255.255.0  On-link  10.0.4.40  281",     # same subnet twice: the first stays
        "  10.0.9.5  255.255.255.255  On-link  10.0.9.90  281",   # host routes are not subnets
        "  10.8.0.0  255.255.0.0  10.0.1.1  10.0.1.10  266",      # not on-link
        SEP,
        "  169.254.169.254  255.255.255.255  10.0.2.1  1",
        "  169.254.169.254  255.255.255.255  10.0.3.1  1",
        "  169.254.169.254  255.255.255.255  10.0.9.5  1",
        "  169.254.169.254  255.255.255.255  10.8.0.1  1",
        "  169.254.169.254  255.255.255.255  192.168.0.1  1",
    ])
    persistent = [(r["gateway"], r["interface"]) for r in parse_route_print(text) if r["store"] == "persistent"]
    assert persistent == [("10.0.2.1", "10.0.2.20"), ("10.0.3.1", "10.0.3.30"), ("10.0.9.5", "10.0.1.10"),
                          ("10.8.0.1", "10.0.1.10"), ("192.168.0.1", "")]
