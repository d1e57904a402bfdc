"""The IMDS client over real HTTP against the emulator. Retry waits run on a virtual clock
shared by client and emulator, so "410 for 30 s" takes milliseconds."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _client, _errors, _transport
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient, metadata_path, resolve_endpoint
from ansible_collections.imds.azure.plugins.module_utils._attestation_info_logic import attested_document
from ansible_collections.imds.azure.plugins.module_utils._identity_token_logic import request_token
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events_logic import fetch_events, start_events
from azure_imds_emulator.faults import Fault
from helpers.ports import free_port


@pytest.fixture
def virtual(make_emulator, clock):
    """An emulator and a client sharing one virtual clock."""
    emulator = make_emulator(clock=clock)

    def client(**kwargs) -> ImdsClient:
        # Full jitter draws each wait below its ceiling; a constant 1.0 makes the waits the ceilings.
        kwargs.setdefault("jitter", lambda: 1.0)
        return ImdsClient(endpoint=emulator.url, clock=clock, sleep=clock.sleep, **kwargs)

    return emulator, client


def test_instance_document_and_request_headers(emulator):
    result = ImdsClient(endpoint=emulator.url).instance()
    assert result.data == emulator.profile
    assert result.api_version == "2025-04-07"
    assert len(emulator.requests) == 1
    request = emulator.requests[0]
    assert request.method == "GET" and request.headers["metadata"] == "true"
    assert "x-forwarded-for" not in request.headers
    assert request.query == [("api-version", "2025-04-07"), ("format", "json")]


def test_route_parameters_and_text_leaves(emulator):
    client = ImdsClient(endpoint=emulator.url)
    assert client.instance(["network", "interface", 0, "macAddress"], text=True).text == "0011AAFFBB22"
    assert client.instance(["compute", "tags"], text=True).text == "baz:bash;foo:bar"
    assert client.instance(["network", "interface", 0]).data["ipv4"]["subnet"][0]["prefix"] == "26"
    with pytest.raises(_errors.ImdsBadRequestError, match="format=text"):
        client.instance(["compute", "vmId"])
    with pytest.raises(_errors.ImdsNotFoundError, match="404"):
        client.instance(["compute", "noSuchKey"])


def test_every_category(emulator):
    client = ImdsClient(endpoint=emulator.url)
    assert "2025-04-07" in client.get("versions", api_version=None).data["apiVersions"]
    assert emulator.requests[-1].query == []  # /versions takes no api-version
    attested = attested_document(client, nonce="abc123").data
    assert attested["encoding"] == "pkcs7" and attested["signature"]
    token = request_token(client, "https://management.azure.com/").data
    assert token["resource"] == "https://management.azure.com/" and token["token_type"] == "Bearer"
    assert client.get("identity/info").data == {"tenantId": emulator.tenant_id}
    assert "loadbalancer" in client.get("loadbalancer").data
    event = emulator.events.schedule("Freeze")
    document = fetch_events(client).data
    assert [e["EventId"] for e in document["Events"]] == [event["EventId"]]
    assert emulator.requests[-1].query == [("api-version", "2020-07-01")]
    start_events(client, [event["EventId"]])
    after = fetch_events(client).data
    assert after["DocumentIncarnation"] == document["DocumentIncarnation"] + 1
    assert after["Events"][0]["EventStatus"] == "Started"
    post = [r for r in emulator.requests if r.method == "POST"]
    assert len(post) == 1 and post[0].path == "/metadata/scheduledevents"


@pytest.mark.parametrize("call, message", [
    (lambda c: attested_document(c, nonce="has space"), "nonce"),
    (lambda c: request_token(c, "r", client_id="a", object_id="b"), "mutually exclusive"),
    (lambda c: request_token(c, ""), "resource"),
    (lambda c: start_events(c, []), "event id"),
    (lambda c: c.get("instance", params={"api-version": "x"}), "api_version option"),
    (lambda c: c.get("../etc/passwd"), "Invalid IMDS path segment"),
])
def test_bad_requests_are_refused_before_sending(emulator, call, message):
    with pytest.raises(_errors.ImdsRequestError, match=message):
        call(ImdsClient(endpoint=emulator.url))
    assert not emulator.requests


@pytest.mark.parametrize("path, expected", [
    ("instance", "/metadata/instance"),
    ("/metadata/instance/compute/", "/metadata/instance/compute"),
    (["instance", "network", "interface", 0], "/metadata/instance/network/interface/0"),
])
def test_metadata_path(path, expected):
    assert metadata_path(path) == expected


@pytest.mark.parametrize("path", ["", "/", "instance//compute", "instance/..", "a?b=c", "a#b", "instance/%2e%2e",
                                  "http://evil/x", "instance/com pute"])
def test_metadata_path_refuses(path):
    with pytest.raises(_errors.ImdsRequestError):
        metadata_path(path)


def test_endpoint_resolution():
    env = {"AZURE_IMDS_ENDPOINT": "http://127.0.0.1:9"}
    assert resolve_endpoint("http://127.0.0.1:1", env) == "http://127.0.0.1:1"
    assert resolve_endpoint(None, env) == "http://127.0.0.1:9"
    assert resolve_endpoint(None, {}) == "http://169.254.169.254"
    assert ImdsClient(environ={}).endpoint.base_url == "http://169.254.169.254"


@pytest.mark.parametrize("endpoint", ["https://169.254.169.254", "file:///etc/passwd", "http://", "http://u:p@h",
                                      "http://h/metadata", "http://h?x=1", "http://h:99999", "169.254.169.254"])
def test_invalid_endpoints(endpoint):
    with pytest.raises(_errors.ImdsRequestError, match="Invalid IMDS endpoint"):
        ImdsClient(endpoint=endpoint)


def test_proxy_environment_is_ignored(emulator, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "")
    assert ImdsClient(endpoint=emulator.url).instance().data == emulator.profile


# -- retries, on the virtual clock --------------------------------------------------------

def test_gone_for_30_s_then_success(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=410,duration=30")
    start = clock.now
    result = client().instance()
    assert result.data == emulator.profile
    assert [r.status for r in emulator.requests] == [410, 410, 410, 200]
    assert clock.now - start == pytest.approx(30.0)


def test_gone_for_ever_gives_up_after_70_s(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=410")
    start = clock.now
    with pytest.raises(_errors.ImdsGoneError) as caught:
        client().instance()
    assert caught.value.attempts == 8  # t = 0, 10, ..., 70
    assert clock.now - start == pytest.approx(70.0)
    assert "410" in str(caught.value) and "gave up after 8 attempts" in str(caught.value)


def test_429_burst_honours_retry_after(virtual, clock):
    emulator, client = virtual
    emulator.add_fault(Fault(status=429, count=2, retry_after="3"))
    assert client().instance().data == emulator.profile
    assert [r.status for r in emulator.requests] == [429, 429, 200]
    assert [s for s in clock.sleeps if s > 1] == [3.0, 3.0]


def test_429_is_retried_while_the_budget_lasts(virtual, clock):
    """No retry count for 429: 60 s of refusals, then the answer, within the default 70 s."""
    emulator, client = virtual
    emulator.add_fault("status=429,duration=60")
    start = clock.now
    result = client(jitter=lambda: 0.5).instance()
    assert result.data == emulator.profile
    # Half of each ceiling (4 s doubling, capped at 32 s): seven attempts, more than the 5 of a 5xx.
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0, 16.0, 16.0] and result.attempts == 7
    assert clock.now - start == pytest.approx(62.0)


def test_429_for_ever_stops_at_max_retry_time(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=429")
    start = clock.now
    with pytest.raises(_errors.ImdsThrottledError, match="the next wait would end after max_retry_time") as caught:
        client(jitter=lambda: 0.5).instance()
    assert clock.now - start <= 70.0
    assert caught.value.attempts == len(clock.sleeps) + 1 > 5
    assert caught.value.status == 429 and caught.value.url.endswith("/metadata/instance?api-version=2025-04-07&format=json")


def test_jittered_waits_are_drawn_below_the_ceiling(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=503,count=3")
    draws = iter([0.25, 0.0, 0.75])
    assert client(jitter=lambda: next(draws)).instance().data == emulator.profile
    # A zero wait still meets the pacing (one request per MIN_REQUEST_INTERVAL).
    assert clock.sleeps == [0.25, 0.0, pytest.approx(_client.MIN_REQUEST_INTERVAL), 3.0]


def test_retry_after_beyond_budget_fails_at_once(virtual, clock):
    emulator, client = virtual
    emulator.add_fault(Fault(status=429, retry_after="120"))
    with pytest.raises(_errors.ImdsThrottledError, match="max_retry_time"):
        client(max_retry_time=60).instance()
    assert len(emulator.requests) == 1


def test_500_then_200(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=500,count=2")
    assert client().instance().data == emulator.profile
    assert [r.status for r in emulator.requests] == [500, 500, 200]
    assert clock.sleeps == [1.0, 2.0]


def test_500_for_ever_uses_the_backoff_schedule(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("status=500")
    with pytest.raises(_errors.ImdsServerError) as caught:
        client().instance()
    assert caught.value.attempts == 5
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert "retries were used up" in str(caught.value)


@pytest.mark.parametrize("status, error", [(400, _errors.ImdsBadRequestError), (404, _errors.ImdsNotFoundError),
                                           (405, _errors.ImdsMethodNotAllowedError),
                                           (403, _errors.ImdsAccessDeniedError)])
def test_request_errors_are_not_retried(virtual, status, error):
    emulator, client = virtual
    emulator.add_fault(Fault(status=status))
    with pytest.raises(error):
        client().instance()
    assert len(emulator.requests) == 1


def test_method_not_allowed_from_the_emulator(emulator):
    with pytest.raises(_errors.ImdsMethodNotAllowedError, match="405"):
        ImdsClient(endpoint=emulator.url).request("POST", "instance", body=b"{}")


def test_identity_404_during_start_up_is_retried(virtual, clock):
    emulator, client = virtual
    emulator.add_fault(Fault(status=404, path="/metadata/identity", count=2))
    assert client().get("identity/info").data == {"tenantId": emulator.tenant_id}
    assert [r.status for r in emulator.requests] == [404, 404, 200]


def test_pacing_keeps_under_five_per_second(virtual, clock):
    emulator, client = virtual
    paced = client()
    for _attempt in range(12):
        paced.instance()
    arrivals = [r.at for r in emulator.requests]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= _client.MIN_REQUEST_INTERVAL - 1e-9
    assert all(r.status == 200 for r in emulator.requests)


def test_pacing_on_the_real_clock_never_meets_the_rate_limit(emulator):
    client = ImdsClient(endpoint=emulator.url)
    for _attempt in range(8):
        client.instance(["compute", "vmId"], text=True)
    assert [r.status for r in emulator.requests] == [200] * 8


def test_unpaced_burst_is_throttled_by_the_emulator(emulator):
    sent = [ImdsClient(endpoint=emulator.url, max_retry_time=0) for _attempt in range(7)]
    statuses = []
    for client in sent:
        try:
            client.instance()
            statuses.append(200)
        except _errors.ImdsThrottledError:
            statuses.append(429)
    assert statuses[:5] == [200] * 5 and 429 in statuses[5:]


# -- api-version fallback -----------------------------------------------------------------

def test_unknown_version_is_retried_once_with_the_newest_listed(make_emulator):
    emulator = make_emulator(supported_versions=tuple(v for v in make_emulator_versions() if v <= "2023-07-01"))
    result = ImdsClient(endpoint=emulator.url).instance()
    assert result.api_version == "2023-07-01"
    assert [r.status for r in emulator.requests] == [400, 200]
    assert "physicalZone" not in result.data["compute"]


def test_no_known_version_listed_is_a_clear_error(make_emulator):
    emulator = make_emulator(supported_versions=("2019-07-15",), newest_versions=["2019-07-15"])
    with pytest.raises(_errors.ImdsApiVersionError, match="2019-07-15") as caught:
        ImdsClient(endpoint=emulator.url).instance()
    assert caught.value.newest_versions == ["2019-07-15"]
    assert len(emulator.requests) == 1


def make_emulator_versions() -> tuple:
    from azure_imds_emulator.server import API_VERSIONS  # pylint: disable=import-outside-toplevel
    return API_VERSIONS


# -- bad answers ----------------------------------------------------------------------------

def test_redirect_is_not_followed(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=redirect")
    with pytest.raises(_errors.ImdsRedirectError, match="never redirects") as caught:
        client().instance()
    assert "login.proxy.example" in str(caught.value)
    assert len(emulator.requests) == 1


def test_html_is_reported_as_a_proxy_page(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=html")
    with pytest.raises(_errors.ImdsBadResponseError, match="HTML") as caught:
        client().instance()
    assert "Proxy Authentication Required" in str(caught.value)
    assert len(emulator.requests) == 1


def test_malformed_json(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=malformed")
    with pytest.raises(_errors.ImdsBadResponseError, match="not valid JSON"):
        client().instance()


def test_truncated_body_is_retried_then_reported(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("kind=truncate")
    with pytest.raises(_errors.ImdsConnectionResetError, match="truncated") as caught:
        client().instance()
    assert caught.value.attempts == 5


def test_truncated_once_then_success(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=truncate,count=1")
    assert client().instance().data == emulator.profile
    assert len(emulator.requests) == 2


@pytest.mark.parametrize("kind", ["oversize", "oversize_stream"])
def test_oversized_body_is_refused(virtual, kind):
    emulator, client = virtual
    emulator.add_fault("kind=%s" % kind)
    with pytest.raises(_errors.ImdsResponseTooLargeError, match="1048576-byte limit"):
        client().instance()
    assert len(emulator.requests) == 1


def test_reset_is_retried(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=reset,count=1")
    assert client().instance().data == emulator.profile


def test_hanging_server_times_out(virtual, clock):
    emulator, client = virtual
    emulator.add_fault("kind=hang")
    with pytest.raises(_errors.ImdsTimeoutError, match="did not answer within 0.3 s") as caught:
        client(timeout=0.3, max_retry_time=3).instance()
    assert caught.value.attempts == 3  # waits 1 + 2 fit in 3 s of virtual time; 4 more would not
    assert "imds_route" in str(caught.value)


def test_dripping_server_hits_the_read_deadline(virtual):
    emulator, client = virtual
    emulator.add_fault("kind=drip")
    with pytest.raises(_errors.ImdsTimeoutError):
        client(timeout=0.8, max_retry_time=0).instance()


def test_refused_connection_says_what_to_check():
    with pytest.raises(_errors.ImdsUnreachableError, match="refused") as caught:
        ImdsClient(endpoint="http://127.0.0.1:%d" % free_port(), max_retry_time=0).instance()
    message = str(caught.value)
    assert "Azure VM" in message and "imds.azure.imds_route" in message


def test_non_utf8_and_deep_json_are_bad_responses(virtual):
    emulator, client = virtual
    from azure_imds_emulator import server  # pylint: disable=import-outside-toplevel

    original = emulator.respond
    emulator.respond = lambda *a: server.Reply(200, b"\xff\xfe{}")
    with pytest.raises(_errors.ImdsBadResponseError, match="not UTF-8"):
        client().instance()
    emulator.respond = lambda *a: server.Reply(200, b"[" * 100000 + b"]" * 100000)
    with pytest.raises(_errors.ImdsBadResponseError, match="nested too deeply"):
        client().instance()
    emulator.respond = original
    assert json.dumps(client().instance().data)


def test_pacing_counts_from_the_end_of_the_previous_exchange(clock):
    """A slow exchange does not shorten the next wait: IMDS counts arrivals, and the previous request
    arrived before its answer left."""
    ended = []

    def slow_transport(endpoint, method, path, headers, body, **_limits):
        clock.sleep(0.15)  # the exchange itself takes 0.15 s of the virtual clock
        ended.append(clock.now)
        return _transport.HttpResponse(200, "OK", {"content-type": "text/plain"}, b"vm")

    client = ImdsClient(endpoint="http://127.0.0.1:9", clock=clock, sleep=clock.sleep, transport=slow_transport)
    client.instance(["compute", "name"], text=True)
    client.instance(["compute", "name"], text=True)
    assert clock.sleeps == [0.15, pytest.approx(_client.MIN_REQUEST_INTERVAL), 0.15]
    assert ended[1] - ended[0] == pytest.approx(_client.MIN_REQUEST_INTERVAL + 0.15)
