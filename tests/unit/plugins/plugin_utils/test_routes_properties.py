"""Property tests (hypothesis) over the route table parsers, which read untrusted text: whatever
`route print`, `Get-NetRoute` or `ip -j route` brings, the result is a list of well-formed routes
or RouteTableError, never another exception and never a hang; the plan on a parsed table is a plan
or RouteTableError, and no metric is ever negative.

The normal run draws a bounded number of examples (IMDS_AZURE_FUZZ_EXAMPLES, default 120); a
longer run is the same tests with a larger number (`make fuzz`)."""

from __future__ import annotations

import json
import os
import signal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.imds.azure.plugins.plugin_utils._route_parse import (
    parse_get_netroute,
    parse_ip_json,
    parse_route_print,
    parse_routes,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_plan import (
    plan_imds_route,
)
from ansible_collections.imds.azure.plugins.plugin_utils._route_table import (
    RouteTableError,
)

EXAMPLES = int(os.environ.get("IMDS_AZURE_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Far above what one example takes: only a parser that hangs ever reaches it.
HANG_GUARD_SECONDS = 60
KEYS = {"destination", "prefix", "gateway", "interface", "metric", "interface_metric", "store"}


@pytest.fixture(autouse=True)
def hang_guard():
    def hung(_signum, _frame):
        raise AssertionError("a route parser ran for %d s: it hangs" % HANG_GUARD_SECONDS)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_GUARD_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


octet = st.integers(0, 300).map(str)
ipv4ish = st.tuples(octet, octet, octet, octet).map(".".join)
masks = st.sampled_from(["0.0.0.0", "255.255.255.255", "255.255.255.192", "255.0.0.0", "255.0.255.0", "240.0.0.0"])
words = st.sampled_from(["On-link", "リンク上", "연결됨", "Auf Verbindung", "Default", "None", ""]) | st.text(max_size=12)
metrics = st.integers(0, 600).map(str) | st.integers(0, 10 ** 12).map(str) | st.sampled_from(["Default", "-1", "²", "٣"])
# A few interfaces, so that lines of one table meet on the same interface as on a real node.
local = st.sampled_from(["10.0.1.10", "169.254.1.156", "127.0.0.1"])
ipv6ish = st.sampled_from(["::", "::1", "fe80::", "2001:db8::1", "ff00::", "1.2.3.4", "zz::", ":::"])


def ipv4_active_line():
    return st.tuples(local | st.sampled_from(["169.254.169.254", "0.0.0.0"]) | ipv4ish, masks, local | words | ipv4ish,
                     local | ipv4ish, metrics).map(
        lambda t: "  %s  %s  %s  %s  %s" % t)


def ipv4_persistent_line():
    return st.tuples(local | ipv4ish, masks, local | ipv4ish, metrics).map(lambda t: "  %s  %s  %s  %s" % t)


def ipv6_line():
    return st.tuples(st.integers(0, 99), st.integers(0, 9999), ipv6ish, st.integers(0, 200), words | ipv6ish).map(
        lambda t: " %d  %d %s/%d  %s" % t)


lines = st.one_of(ipv4_active_line(), ipv4_persistent_line(), ipv6_line(), st.just("=" * 75),
                  st.just("                                    fe80::1"), st.text(max_size=60))
route_print_text = st.lists(lines, max_size=25).map("\n".join)


def check_routes(routes) -> None:
    assert isinstance(routes, list)
    for route in routes:
        assert set(route) == KEYS
        assert route["store"] in ("active", "persistent")
        assert route["metric"] is None or route["metric"] >= 0
        assert route["interface_metric"] is None or route["interface_metric"] >= 0
        assert isinstance(route["prefix"], int) and 0 <= route["prefix"] <= 128


def check_plan(routes) -> None:
    for state in ("present", "absent"):
        try:
            plan = plan_imds_route(routes, state=state)
        except RouteTableError:
            continue
        assert isinstance(plan["needed"], bool) and plan["needed"] == bool(plan["remove"] or plan["add"])
        assert all(r["destination"] == "169.254.169.254" for r in plan["remove"])


@FUZZ
@given(route_print_text)
def test_route_print_gives_routes_or_its_own_error(text):
    try:
        routes = parse_route_print(text)
    except RouteTableError:
        return
    check_routes(routes)
    check_plan(routes)


def shaped_line(kind: str, interface: str, metric: int) -> str:
    destination, mask, gateway = {
        "default": ("0.0.0.0", "0.0.0.0", "10.0.1.1"), "host": (interface, "255.255.255.255", "On-link"),
        "subnet": ("10.0.1.0", "255.255.255.192", "On-link"), "imds": ("169.254.169.254", "255.255.255.255", "On-link"),
        "cluster": ("169.254.0.0", "255.255.0.0", "On-link")}[kind]
    return "  %s  %s  %s  %s  %d" % (destination, mask, gateway, interface, metric)


# Tables shaped like a node's, with any metrics: the interface-metric inference meets every case.
shaped_tables = st.lists(st.tuples(st.sampled_from(["default", "host", "subnet", "imds", "cluster"]), local,
                                   st.integers(0, 600)).map(lambda t: shaped_line(*t)), min_size=1, max_size=8)


@FUZZ
@given(shaped_tables, st.lists(ipv4_persistent_line(), max_size=2))
def test_shaped_route_print_tables_never_give_a_negative_metric(active, persistent):
    try:
        routes = parse_route_print("\n".join(active + ["=" * 75] + persistent))
    except RouteTableError:
        return
    check_routes(routes)
    check_plan(routes)


json_scalars = st.none() | st.booleans() | st.integers(-5, 10 ** 6) | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=8)


def field(values):
    return values | json_values


netroute_objects = st.fixed_dictionaries({"DestinationPrefix": field(st.sampled_from(
    ["0.0.0.0/0", "169.254.169.254/32", "10.0.1.0/26", "::/0", "10.0.0.0/33", "x/y", ""]))}, optional={
    "NextHop": field(ipv4ish | ipv6ish), "InterfaceIndex": field(st.integers(0, 20)),
    "InterfaceAddress": field(ipv4ish), "RouteMetric": field(st.integers(-1, 9999)),
    "InterfaceMetric": field(st.integers(-1, 9999)),
    "Store": field(st.sampled_from(["ActiveStore", "PersistentStore", 0, 1, 2])),
})


@FUZZ
@given(st.lists(netroute_objects, max_size=8) | netroute_objects | json_values)
def test_get_netroute_gives_routes_or_its_own_error(data):
    try:
        routes = parse_get_netroute(data)
    except RouteTableError:
        return
    check_routes(routes)
    check_plan(routes)


hop = st.fixed_dictionaries({}, optional={"gateway": field(ipv4ish | ipv6ish), "dev": field(st.sampled_from(
    ["eth0", "eth1", ""]))})
ip_objects = st.fixed_dictionaries({"dst": field(st.sampled_from(
    ["default", "169.254.169.254", "10.0.0.0/24", "fe80::/64", "10.0.0.0/40", "nonsense"]))}, optional={
    "gateway": field(ipv4ish | ipv6ish), "dev": field(st.sampled_from(["eth0", "clu0"])),
    "metric": field(st.integers(-1, 2 ** 32)), "nexthops": field(st.lists(hop, max_size=3)),
})


@FUZZ
@given(st.lists(ip_objects, max_size=8) | json_values)
def test_ip_json_gives_routes_or_its_own_error(data):
    try:
        routes = parse_ip_json(data)
    except RouteTableError:
        return
    check_routes(routes)
    check_plan(routes)


@FUZZ
@given(st.text(max_size=300) | json_values.map(json.dumps) | st.binary(max_size=200))
def test_parse_routes_on_anything(data):
    try:
        routes = parse_routes(data)
    except RouteTableError:
        return
    check_routes(routes)
