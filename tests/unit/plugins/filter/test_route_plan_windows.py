"""imds_route_plan on Windows tables as Windows prints them: the shown metric is route metric +
interface metric, on-link routes carry route metric 256, a DHCP default route 0, a static one 256,
and the persistent section shows the route metric itself. Built from Microsoft's failover-cluster
and troubleshooting tables; every variant is a table a real node can print."""

from __future__ import annotations

import pytest
from ansible_collections.imds.azure.plugins.filter.routes import FilterModule
from helpers import paths

FILTERS = FilterModule().filters()
parse_routes = FILTERS["parse_routes"]
imds_route_plan = FILTERS["imds_route_plan"]
FAILOVER = (paths.SAMPLES / "route-print-docs-failover-cluster.txt").read_text()
HEALTHY = (paths.SAMPLES / "route-print-docs-troubleshooting.txt").read_text()
SEPARATOR = "=" * 75 + "\n"


def persistent_section(*lines: str) -> str:
    body = "".join("  %s\n" % line for line in lines) if lines else "  None\n"
    return SEPARATOR + "Persistent Routes:\n  Network Address          Netmask  Gateway Address  Metric\n" + body + \
        SEPARATOR


def with_lines(table: str, *lines: str) -> str:
    return table.rstrip("\n") + "\n" + "".join("%s\n" % line for line in lines)


# The table of issue 8, exactly: a previous run fixed it (route add ... 10.0.1.10 metric 1 -p).
ISSUE_8_FIXED = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255         On-link         10.0.1.10     11") + \
    persistent_section("169.254.169.254  255.255.255.255        10.0.1.10       1")


def imds(routes: list) -> list:
    return [(r["store"], r["interface"], r["gateway"], r["metric"]) for r in routes
            if r["destination"] == "169.254.169.254"]


def test_issue_8_table_a_previous_run_fixed_is_not_needed():
    routes = parse_routes(ISSUE_8_FIXED)
    assert imds(routes) == [("active", "10.0.1.10", "", 1), ("persistent", "10.0.1.10", "", 1)]
    plan = imds_route_plan(routes)
    assert plan["needed"] is False, plan["reason"]
    assert plan["stores"] == ["active", "persistent"] and plan["add"] == [] and plan["remove"] == []
    assert plan["reason"] == "169.254.169.254/32 already goes out of interface 10.0.1.10 (active and persistent)"


def test_static_gateway_node_needs_the_route_in_both_stores():
    plan = imds_route_plan(parse_routes(FAILOVER + persistent_section("0.0.0.0  0.0.0.0  10.0.1.1  Default")))
    assert plan["needed"] is True and plan["add"] == ["active", "persistent"]
    assert (plan["interface"], plan["gateway"], plan["metric"]) == ("10.0.1.10", "10.0.1.10", 1)
    assert "no route for 169.254.169.254/32; 169.254.169.254 now goes to 169.254.0.0/16" in plan["reason"]
    assert "in the persistent store (an active route alone is lost at reboot)" in plan["reason"]


def test_dhcp_gateway_node_fixed_by_gateway_is_not_needed():
    # Default route shown at 10: DHCP, route metric 0, interface metric 10; IMDS route 11 = 1 + 10.
    routes = parse_routes(HEALTHY)
    assert routes[0]["metric"] == 0 and routes[0]["interface_metric"] == 10
    assert imds(routes) == [("active", "172.16.69.7", "172.16.69.1", 1)]
    plan = imds_route_plan(routes)
    assert plan["needed"] is False and plan["stores"] == ["active"]


def test_dhcp_gateway_node_without_the_route():
    table = "\n".join(line for line in HEALTHY.splitlines() if "169.254.169.254" not in line)
    plan = imds_route_plan(parse_routes(table))
    assert plan["needed"] is True and plan["add"] == ["active"]
    assert (plan["interface"], plan["gateway"]) == ("172.16.69.7", "172.16.69.7")


def test_active_route_only_is_lost_at_reboot_when_persistence_is_managed():
    table = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255         On-link         10.0.1.10     11")
    assert imds_route_plan(parse_routes(table))["needed"] is False  # no persistent section shown: not judged
    plan = imds_route_plan(parse_routes(table), persistent=True)
    assert plan["needed"] is True and plan["add"] == ["persistent"] and plan["remove"] == []
    plan = imds_route_plan(parse_routes(table + persistent_section()), persistent=True)
    assert plan["add"] == ["persistent"]


def test_persistent_route_only_needs_the_active_one():
    table = FAILOVER + persistent_section("169.254.169.254  255.255.255.255        10.0.1.10       1")
    plan = imds_route_plan(parse_routes(table))
    assert plan["needed"] is True and plan["add"] == ["active"] and plan["remove"] == []


@pytest.mark.parametrize("shown, persistent_metric, route_metric", [(15, "5", 5), (11, "Default", 1)])
def test_fixed_with_the_wrong_metric_is_replaced(shown, persistent_metric, route_metric):
    table = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255  On-link  10.0.1.10  %d" % shown) + \
        persistent_section("169.254.169.254  255.255.255.255  10.0.1.10  %s" % persistent_metric)
    routes = parse_routes(table)
    plan = imds_route_plan(routes)
    assert imds(routes)[0][3] == route_metric
    wrong_stores = [store for store, _i, _g, metric in imds(routes) if metric != 1]
    assert plan["needed"] is True and [r["store"] for r in plan["remove"]] == wrong_stores
    assert plan["add"] == wrong_stores
    if route_metric != 1:
        assert "the route for 169.254.169.254/32 has metric 5, not 1" in plan["reason"]
        assert imds_route_plan(routes, metric=5)["needed"] is False


def test_fixed_on_the_cluster_adapter_is_moved():
    # Someone ran the documented command with the cluster adapter's address.
    table = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255  On-link  169.254.1.156  16") + \
        persistent_section("169.254.169.254  255.255.255.255  169.254.1.156  1")
    routes = parse_routes(table)
    assert imds(routes) == [("active", "169.254.1.156", "", 1), ("persistent", "169.254.1.156", "", 1)]
    plan = imds_route_plan(routes)
    assert [(r["store"], r["interface"]) for r in plan["remove"]] == [
        ("active", "169.254.1.156"), ("persistent", "169.254.1.156")]
    assert plan["add"] == ["active", "persistent"] and plan["interface"] == "10.0.1.10"
    assert "169.254.169.254/32 on-link dev 169.254.1.156 metric 1 (persistent store)" in plan["reason"]


def test_persistent_route_through_the_default_gateway_is_right():
    table = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255  10.0.1.1  10.0.1.10  11") + \
        persistent_section("169.254.169.254  255.255.255.255  10.0.1.1  1")
    routes = parse_routes(table)
    assert imds(routes) == [("active", "10.0.1.10", "10.0.1.1", 1), ("persistent", "10.0.1.10", "10.0.1.1", 1)]
    assert imds_route_plan(routes)["needed"] is False


@pytest.mark.parametrize("word", ["リンク上", "연결됨", "Auf Verbindung"])
def test_localized_fixed_tables(word):
    localized = ISSUE_8_FIXED.replace("On-link", word).replace("Active Routes:", "アクティブ ルート:") \
        .replace("Persistent Routes:", "固定ルート:").replace("Network Destination", "ネットワーク宛先")
    assert parse_routes(localized) == parse_routes(ISSUE_8_FIXED)
    assert imds_route_plan(parse_routes(localized))["needed"] is False


def test_metrics_are_never_negative_on_the_docs_tables_and_variants():
    for table in (FAILOVER, HEALTHY, ISSUE_8_FIXED):
        for route in parse_routes(table):
            assert route["metric"] is None or route["metric"] >= 0
            assert route["interface_metric"] is None or route["interface_metric"] >= 0


def test_a_table_windows_cannot_print_is_refused():
    # An on-link route shown below the interface metric its own host route implies.
    table = with_lines(FAILOVER, "  169.254.169.254  255.255.255.255  On-link  10.0.1.10  5")
    with pytest.raises(Exception, match="below the interface metric 10"):
        parse_routes(table)


def test_interface_metric_from_the_default_route_when_no_on_link_route_is_shown():
    static = "  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  266\n  169.254.169.254  255.255.255.255  On-link  10.0.1.10  11\n"
    routes = parse_routes(static)
    assert [(r["metric"], r["interface_metric"]) for r in routes] == [(256, 10), (1, 10)]
    dhcp = "  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  25\n  169.254.169.254  255.255.255.255  On-link  10.0.1.10  26\n"
    assert [(r["metric"], r["interface_metric"]) for r in parse_routes(dhcp)] == [(0, 25), (1, 25)]
    unknown = "  10.9.0.0  255.255.0.0  10.0.1.1  10.0.1.10  30\n"
    assert [(r["metric"], r["interface_metric"]) for r in parse_routes(unknown)] == [(30, None)]


def test_the_most_common_on_link_metric_wins_without_a_host_route():
    table = ("  0.0.0.0  0.0.0.0  10.0.1.1  10.0.1.10  266\n"
             "  10.0.1.0  255.255.255.192  On-link  10.0.1.10  266\n"
             "  10.0.1.63  255.255.255.255  On-link  10.0.1.10  266\n"
             "  10.5.0.0  255.255.0.0  On-link  10.0.1.10  300\n")
    assert {r["interface_metric"] for r in parse_routes(table)} == {10}


def test_several_defaults_pick_the_lowest_route_plus_interface_metric_from_get_netroute():
    objects = [
        {"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.1.1", "InterfaceIndex": 7, "RouteMetric": 0,
         "InterfaceMetric": 30},
        {"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.2.1", "InterfaceIndex": 9, "RouteMetric": 0,
         "InterfaceMetric": 10},
    ]
    plan = imds_route_plan(parse_routes(objects))
    assert plan["interface"] == "9" and plan["gateway"] == "10.0.2.1"


def test_get_netroute_both_stores():
    fixed = [
        {"DestinationPrefix": "0.0.0.0/0", "NextHop": "10.0.1.1", "InterfaceAddress": "10.0.1.10", "RouteMetric": 256,
         "InterfaceMetric": 10, "Store": {"Type": "Microsoft.Management.Infrastructure.CimInstance", "String": "ActiveStore",
                                          "Value": 1}},
        {"DestinationPrefix": "169.254.169.254/32", "NextHop": "0.0.0.0", "InterfaceAddress": "10.0.1.10",
         "RouteMetric": 1, "InterfaceMetric": 10, "Store": "ActiveStore"},
        {"DestinationPrefix": "169.254.169.254/32", "NextHop": "0.0.0.0", "InterfaceAddress": "10.0.1.10",
         "RouteMetric": 1, "Store": "PersistentStore"},
    ]
    assert imds_route_plan(parse_routes(fixed))["needed"] is False
    plan = imds_route_plan(parse_routes(fixed[:2]), persistent=True)
    assert plan["add"] == ["persistent"]
    assert imds_route_plan(parse_routes(fixed[:1] + fixed[2:]))["add"] == ["active"]


def test_absent_removes_from_both_stores():
    plan = imds_route_plan(parse_routes(ISSUE_8_FIXED), state="absent")
    assert [r["store"] for r in plan["remove"]] == ["active", "persistent"] and plan["needed"]
