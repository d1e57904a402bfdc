"""How the client reads each kind of answer, through a scripted transport (the contract every
transport follows), so each case asserts the value, the error type and the fields users read."""

from __future__ import annotations

import json

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _client, _errors
from ansible_collections.imds.azure.plugins.module_utils._client import ImdsClient
from ansible_collections.imds.azure.plugins.module_utils._transport import HttpResponse
from ansible_collections.imds.azure.plugins.module_utils._attestation_info_logic import attested_document
from ansible_collections.imds.azure.plugins.module_utils._identity_token_logic import request_token
from ansible_collections.imds.azure.plugins.module_utils._scheduled_events_logic import fetch_events, start_events

ENDPOINT = "http://127.0.0.1:8080"
INSTANCE_URL = ENDPOINT + "/metadata/instance?api-version=2025-04-07&format=json"


class ScriptedTransport:
    """Answers each request with the next scripted response (or raises it), recording what was asked."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls = []

    def __call__(self, endpoint, method, path_and_query, headers, body, **timeouts):
        self.calls.append({"endpoint": endpoint.base_url, "method": method, "path": path_and_query,
                           "headers": dict(headers), "body": body, **timeouts})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def answer(status: int = 200, body=b"{}", reason: str = "OK", **headers) -> HttpResponse:
    if not isinstance(body, bytes):
        body = json.dumps(body).encode("utf-8")
    names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    names.setdefault("content-type", "application/json; charset=utf-8")
    return HttpResponse(status, reason, names, body)


def client_with(*answers, **kwargs):
    transport = ScriptedTransport(*answers)
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    kwargs.setdefault("jitter", lambda: 1.0)
    client = ImdsClient(endpoint=ENDPOINT, transport=transport, clock=lambda: now[0], sleep=sleep, **kwargs)
    return client, transport, sleeps


def test_a_result_carries_the_full_url_with_port_and_what_answered():
    client, transport, _sleeps = client_with(answer(body={"compute": {}}))
    result = client.instance()
    assert (result.url, result.status, result.api_version, result.content_type, result.attempts) == (
        INSTANCE_URL, 200, "2025-04-07", "application/json", 1)
    assert result.data == {"compute": {}} and result.text is None
    call = transport.calls[0]
    assert call["method"] == "GET" and call["body"] is None and call["endpoint"] == ENDPOINT
    assert call["headers"] == {"Metadata": "true", "User-Agent": "imds.azure"}
    assert (call["connect_timeout"], call["read_timeout"], call["max_body_bytes"]) == (2.0, 10.0, 1024 * 1024)


def test_timeouts_reach_the_transport():
    client, transport, _sleeps = client_with(answer(), timeout=1.5, max_body_bytes=100)
    client.instance()
    assert (transport.calls[0]["connect_timeout"], transport.calls[0]["read_timeout"],
            transport.calls[0]["max_body_bytes"]) == (1.5, 1.5, 100)


def test_a_post_carries_its_json_body_and_content_type():
    client, transport, _sleeps = client_with(answer(body=b""))
    result = start_events(client, ["a", "b"])
    call = transport.calls[0]
    assert call["method"] == "POST" and call["headers"]["Content-Type"] == "application/json"
    assert json.loads(call["body"]) == {"StartRequests": [{"EventId": "a"}, {"EventId": "b"}]}
    assert call["path"] == "/metadata/scheduledevents?api-version=2020-07-01"
    assert result.data is None and result.status == 200


def test_a_utf8_bom_is_not_part_of_the_document():
    client, _transport, _sleeps = client_with(answer(body=b'\xef\xbb\xbf{"a": "b"}'))
    assert client.instance().data == {"a": "b"}
    client, _transport, _sleeps = client_with(answer(body=b"\xef\xbb\xbfvalue", content_type="text/plain"))
    assert client.instance(["compute", "vmId"], text=True).text == "value"


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_an_empty_body_where_json_is_expected(body):
    client, _transport, _sleeps = client_with(answer(body=body))
    with pytest.raises(_errors.ImdsBadResponseError, match="empty body where JSON was expected") as caught:
        client.instance()
    assert caught.value.url == INSTANCE_URL


def test_text_answers_are_returned_as_sent():
    client, _transport, _sleeps = client_with(answer(body=b" 12 \n", content_type="text/plain"))
    result = client.instance(["compute", "platformFaultDomain"], text=True)
    assert result.text == " 12 \n" and result.data is None


@pytest.mark.parametrize("content_type, body", [("text/html", b'{"a": 1}'), ("application/json", b"  <html>"),
                                                ("application/xhtml+xml", b"{}")])
def test_html_is_named_as_such(content_type, body):
    client, _transport, _sleeps = client_with(answer(body=body, content_type=content_type))
    with pytest.raises(_errors.ImdsBadResponseError, match="got HTML") as caught:
        client.instance()
    assert "without a proxy" in str(caught.value)


def test_invalid_json_points_at_format_text():
    client, _transport, _sleeps = client_with(answer(body=b"12abc"))
    with pytest.raises(_errors.ImdsBadResponseError, match="not valid JSON") as caught:
        client.instance()
    assert "use format=text" in str(caught.value) and "12abc" in str(caught.value)


def test_404_invalid_version_is_an_api_version_error():
    client, _transport, _sleeps = client_with(answer(404, {"error": "Not found. Invalid version requested"}))
    with pytest.raises(_errors.ImdsApiVersionError, match="does not know api-version 2025-04-07") as caught:
        client.instance()
    assert caught.value.status == 404 and caught.value.attempts == 1


@pytest.mark.parametrize("status, error, words", [
    (401, _errors.ImdsAccessDeniedError, "refused access (401"),
    (403, _errors.ImdsAccessDeniedError, "managed identity"),
    (404, _errors.ImdsNotFoundError, "nothing at this path (404"),
    (405, _errors.ImdsMethodNotAllowedError, "Only scheduled events accept POST"),
    (418, _errors.ImdsHttpError, "unexpected status 418"),
    (302, _errors.ImdsRedirectError, "redirect"),
])
def test_statuses_that_are_not_retried(status, error, words):
    client, transport, sleeps = client_with(answer(status, {"error": "nope"}, location="http://x"))
    with pytest.raises(error) as caught:
        client.instance()
    assert type(caught.value) is error  # pylint: disable=unidiomatic-typecheck
    assert words in str(caught.value) and caught.value.status == status
    assert len(transport.calls) == 1 and sleeps == []
    assert str(caught.value).endswith(INSTANCE_URL) or status == 302
    assert "Stopped retrying" not in str(caught.value)


@pytest.mark.parametrize("status, error", [(408, _errors.ImdsServerError), (500, _errors.ImdsServerError),
                                           (599, _errors.ImdsServerError)])
def test_408_and_5xx_are_retried_four_times(status, error):
    client, transport, sleeps = client_with(answer(status, {"message": "busy"}))
    with pytest.raises(error) as caught:
        client.instance()
    assert len(transport.calls) == 5 and sleeps == [1.0, 2.0, 4.0, 8.0]
    message = str(caught.value)
    assert "IMDS failed with %d (busy)" % status in message
    assert "Stopped retrying: 4 retries were used up." in message and "gave up after 5 attempts" in message
    assert caught.value.attempts == 5


def test_410_with_retry_after_waits_what_it_says():
    client, transport, sleeps = client_with(answer(410, b"", retry_after="3"), answer(body={"ok": 1}))
    assert client.instance().data == {"ok": 1}
    assert sleeps == [3.0] and len(transport.calls) == 2


def test_429_retry_after_as_an_http_date():
    client, _transport, sleeps = client_with(answer(429, b"", retry_after="Thu, 01 Jan 1970 00:00:00 GMT"),
                                             answer(body={"ok": 1}))
    assert client.instance().data == {"ok": 1}
    assert sleeps[0] == 0.0  # a date in the past: retry at once


@pytest.mark.parametrize("detail, hint", [
    ("Bad request. X-Forwarded-For header is not allowed", "Bypass every proxy"),
    ("Required metadata header not specified", "Metadata: true header did not arrive"),
    ("Bad request. format=json is not valid for a leaf", "request it with format=text"),
    ("Something else", "retrying it unchanged will fail again"),
])
def test_400_explains_what_to_fix(detail, hint):
    client, _transport, _sleeps = client_with(answer(400, {"error": detail}))
    with pytest.raises(_errors.ImdsBadRequestError) as caught:
        client.instance()
    assert type(caught.value) is _errors.ImdsBadRequestError  # pylint: disable=unidiomatic-typecheck
    assert hint in str(caught.value) and detail in str(caught.value)


def test_400_for_the_api_version_lists_what_imds_offers():
    refusal = answer(400, {"error": "Bad request. api-version is invalid", "newest-versions": ["2099-01-01", 7]})
    client, transport, _sleeps = client_with(refusal)
    with pytest.raises(_errors.ImdsApiVersionError) as caught:
        client.instance()
    assert caught.value.newest_versions == ["2099-01-01"] and "It offers: 2099-01-01." in str(caught.value)
    assert len(transport.calls) == 1  # nothing known to fall back to
    assert caught.value.to_result()["newest_versions"] == ["2099-01-01"]


def test_400_fallback_to_a_known_version_happens_once():
    refusal = answer(400, {"error": "Bad request. api-version is invalid", "newest-versions": ["2024-07-17"]})
    client, transport, _sleeps = client_with(refusal, answer(body={"ok": 1}))
    result = client.instance()
    assert result.api_version == "2024-07-17" and result.attempts == 2
    assert transport.calls[1]["path"] == "/metadata/instance?api-version=2024-07-17&format=json"
    client, transport, _sleeps = client_with(refusal)
    with pytest.raises(_errors.ImdsApiVersionError):
        client.instance()
    assert len(transport.calls) == 2


def test_error_text_prefers_the_description_then_the_body_then_the_reason():
    client, _transport, _sleeps = client_with(answer(404, {"error": "e", "error_description": "Identity not found"}))
    with pytest.raises(_errors.ImdsNotFoundError, match=r"\(404: Identity not found\)"):
        client.instance()
    client, _transport, _sleeps = client_with(answer(404, b"plain words"))
    with pytest.raises(_errors.ImdsNotFoundError, match=r"\(404: plain words\)"):
        client.instance()
    client, _transport, _sleeps = client_with(answer(404, b"", reason="Not Found"))
    with pytest.raises(_errors.ImdsNotFoundError, match=r"\(404: Not Found\)"):
        client.instance()
    client, _transport, _sleeps = client_with(answer(404, b"", reason=""))
    with pytest.raises(_errors.ImdsNotFoundError, match=r"\(404: no details\)"):
        client.instance()


def test_transport_errors_are_retried_then_carry_the_attempts():
    reset = _errors.ImdsConnectionResetError("closed early", url=INSTANCE_URL)
    client, transport, sleeps = client_with(reset)
    with pytest.raises(_errors.ImdsConnectionResetError) as caught:
        client.instance()
    assert caught.value.attempts == 5 and len(transport.calls) == 5 and sleeps == [1.0, 2.0, 4.0, 8.0]
    client, transport, _sleeps = client_with(_errors.ImdsBadResponseError("not http", url=INSTANCE_URL))
    with pytest.raises(_errors.ImdsBadResponseError):
        client.instance()
    assert len(transport.calls) == 1


@pytest.mark.parametrize("params, words", [({"a": True}, "Query parameters must be names with string values"),
                                           ({"a": 1.5}, "string values"), ({"": "x"}, "string values"),
                                           ({"api-version": "x"}, "api_version option")])
def test_query_parameters_are_checked(params, words):
    client, transport, _sleeps = client_with(answer())
    with pytest.raises(_errors.ImdsRequestError, match=words):
        client.get("instance", params=params)
    assert transport.calls == []


def test_integer_query_values_are_sent_as_text():
    client, transport, _sleeps = client_with(answer())
    client.get("instance", params={"index": 3})
    assert transport.calls[0]["path"] == "/metadata/instance?api-version=2025-04-07&index=3"


def test_identity_calls_send_what_they_are_given():
    client, transport, _sleeps = client_with(answer(body={"access_token": "t"}))
    request_token(client, "https://vault.azure.net", client_id="cid")
    assert transport.calls[0]["path"] == ("/metadata/identity/oauth2/token?api-version=2025-04-07&"
                                          "resource=https%3A%2F%2Fvault.azure.net&client_id=cid")
    attested_document(client, nonce="abc123")
    assert transport.calls[1]["path"] == "/metadata/attested/document?api-version=2025-04-07&nonce=abc123"
    client.get("loadbalancer")
    assert transport.calls[2]["path"] == "/metadata/loadbalancer?api-version=2025-04-07"


def test_the_endpoint_option_wins_then_the_environment():
    assert _client.resolve_endpoint("http://a", {"AZURE_IMDS_ENDPOINT": "http://b"}) == "http://a"
    assert _client.resolve_endpoint(None, {"AZURE_IMDS_ENDPOINT": "http://b"}) == "http://b"
    assert _client.resolve_endpoint("", {}) == "http://169.254.169.254"


# -- the whole message of each HTTP error, as users read it -------------------------------------

@pytest.mark.parametrize("status, body, expected", [
    (401, {"error": "no"}, "IMDS refused access (401: no). URL: %s"),
    (403, {"error": "no"}, "IMDS refused access (403: no). For identity tokens, check that the VM has this managed "
                           "identity and it may access the resource. URL: %s"),
    (404, {"error": "gone"}, "IMDS has nothing at this path (404: gone). Check the path and any route parameters; "
                             "for identity, check that a managed identity is assigned. URL: %s"),
    (405, {"error": "no"}, "IMDS does not allow this HTTP method here (405: no). Only scheduled events accept POST; "
                           "everything else is GET. URL: %s"),
    (404, {"error": "Not found. Invalid version requested"},
     "IMDS does not know api-version 2025-04-07 (404: Not found. Invalid version requested). Set api_version to a "
     "version this VM's IMDS supports; GET /metadata/versions lists them."),
    (418, b"teapot", "IMDS answered with unexpected status 418 (teapot). URL: %s"),
    (400, {"error": "Bad request. format=json is not valid for a leaf"},
     "IMDS rejected the request as invalid (400: Bad request. format=json is not valid for a leaf). This path is a "
     "single value (a leaf): request it with format=text. URL: %s"),
    (400, {"error": "Bad request. api-version is invalid", "newest-versions": []},
     "IMDS refused api-version 2025-04-07 (400: Bad request. api-version is invalid). It offers: no versions. Set "
     "the api_version option to one of those (GET /metadata/versions lists all). URL: %s"),
])
def test_whole_messages_of_errors_that_are_not_retried(status, body, expected):
    client, _transport, _sleeps = client_with(answer(status, body))
    with pytest.raises(_errors.ImdsHttpError) as caught:
        client.instance()
    assert str(caught.value) == (expected % INSTANCE_URL if "%s" in expected else expected)
    assert (caught.value.url, caught.value.status, caught.value.attempts) == (INSTANCE_URL, status, 1)
    fields = {"error_type": type(caught.value).__name__, "url": INSTANCE_URL, "status": status, "attempts": 1}
    if isinstance(caught.value, _errors.ImdsApiVersionError):
        fields["newest_versions"] = []
    assert caught.value.to_result() == fields


@pytest.mark.parametrize("status, expected", [
    (429, "IMDS kept rate-limiting this VM (429: busy). IMDS allows about 5 requests per second per VM; other "
          "processes on the VM may be polling it. Stopped retrying: the next wait would end after max_retry_time "
          "(70.0 s); raise max_retry_time to wait longer. URL: %s (gave up after 5 attempts)"),
    (410, "IMDS answered 410 Gone (busy): the metadata service is restarting or moving. Retry in a minute; if it "
          "persists, open an Azure support case. Stopped retrying: IMDS kept answering 410 Gone for the whole 70 s "
          "retry window. URL: %s (gave up after 8 attempts)"),
    (503, "IMDS failed with 503 (busy). Retry later; if it persists, open an Azure support case. Stopped retrying: "
          "4 retries were used up. URL: %s (gave up after 5 attempts)"),
])
def test_whole_messages_of_errors_retried_in_vain(status, expected):
    client, _transport, _sleeps = client_with(answer(status, {"error": "busy"}))
    with pytest.raises(_errors.ImdsHttpError) as caught:
        client.instance()
    assert str(caught.value) == expected % INSTANCE_URL


@pytest.mark.parametrize("response, expected", [
    (answer(302, b"", location="http://login.example/\x1b[2J"),
     "%s answered 302 with a redirect to http://login.example/ [2J. IMDS never redirects, so something else (often a "
     "transparent proxy) intercepted the request; the redirect was not followed. Make sure 169.254.169.254 is "
     "reached directly."),
    (answer(302, b"", content_type="text/plain"),
     "%s answered 302 with a redirect to (no Location header). IMDS never redirects, so something else (often a "
     "transparent proxy) intercepted the request; the redirect was not followed. Make sure 169.254.169.254 is "
     "reached directly."),
    (answer(body=b"<html><b>portal</b>", content_type="text/html"),
     "Expected JSON from %s but got HTML (text/html). A proxy, captive portal or another web server answered "
     "instead of IMDS; IMDS must be reached directly, without a proxy. Body starts: <html><b>portal</b>"),
    (answer(body=b"<p>", content_type=""),
     "Expected JSON from %s but got HTML (no content type). A proxy, captive portal or another web server answered "
     "instead of IMDS; IMDS must be reached directly, without a proxy. Body starts: <p>"),
    (answer(body=b""), "IMDS at %s sent an empty body where JSON was expected. Retry later; if it persists, "
                       "something other than IMDS answers."),
    (answer(body=b"{1}"), "The answer from %s is not valid JSON (Expecting property name enclosed in double quotes: "
                          "line 1 column 2 (char 1)). Body starts: {1}. If you asked for a single value, use "
                          "format=text."),
    (answer(body=b'{"a": NaN}'), "The answer from %s is not JSON: NaN is not JSON; IMDS never sends it. Body "
                                 "starts: {\"a\": NaN}"),
    (answer(body=b"[1e999]"), "The answer from %s is not JSON: the number 1e999 is too large for a float (it would "
                              "become Infinity), which is not JSON; IMDS never sends it. Body starts: [1e999]"),
    (answer(body=b"\xc3\x28"), "The answer from %s is not UTF-8 text (byte 0). IMDS always sends UTF-8; something "
                               "else answered."),
    (answer(body=b"[" * 100000), "The JSON from %s is nested too deeply to be an IMDS document."),
])
def test_whole_messages_of_answers_that_are_not_imds(response, expected):
    client, _transport, _sleeps = client_with(response)
    with pytest.raises(_errors.ImdsBadResponseError) as caught:
        client.instance()
    assert str(caught.value) == expected % INSTANCE_URL
    assert caught.value.url == INSTANCE_URL


@pytest.mark.parametrize("call, expected", [
    (lambda c: attested_document(c, nonce=""), "The attestation nonce must be 1 to 32 letters or digits, got ''."),
    (lambda c: attested_document(c, nonce="a" * 33), "The attestation nonce must be 1 to 32 letters or digits, got '%s'."
     % ("a" * 33)),
    (lambda c: request_token(c, "r", object_id="o", msi_res_id="m"),
     "client_id, object_id and msi_res_id are mutually exclusive; got msi_res_id, object_id."),
    (lambda c: request_token(c, ""), "An identity token needs a resource, for example https://management.azure.com/."),
    (lambda c: start_events(c, ["a", ""]),
     "Give at least one scheduled event id (a non-empty string) to approve."),
    (lambda c: c.get(""), "The IMDS path is empty. Give a path under /metadata/, for example instance or versions."),
    (lambda c: c.get("instance/.."), "Invalid IMDS path segment '..' in 'instance/..': use letters, digits, '_', '.', "
                                     "'-' separated by '/' (for example instance/network/interface/0/macAddress)."),
    (lambda c: c.get("instance", params={"api-version": "1"}),
     "Set api-version with the api_version option, not as an extra query parameter."),
    (lambda c: c.get("instance", params={"n": None}), "Query parameters must be names with string values; got 'n'=None."),
])
def test_whole_messages_of_refused_requests(call, expected):
    client, transport, _sleeps = client_with(answer())
    with pytest.raises(_errors.ImdsRequestError) as caught:
        call(client)
    assert str(caught.value) == expected and transport.calls == []


def test_metadata_paths():
    assert _client.metadata_path("/metadata/instance/compute/") == "/metadata/instance/compute"
    assert _client.metadata_path("metadata/versions") == "/metadata/versions"
    assert _client.metadata_path(["instance", "network", "interface", 0]) == "/metadata/instance/network/interface/0"
    assert _client.metadata_path("identity/oauth2/token") == "/metadata/identity/oauth2/token"


# -- 400, redirects and fallbacks: which words lead to which advice ---------------------------

@pytest.mark.parametrize("detail, hint", [
    ("Bad request. X-Forwarded-For header is not allowed",
     "A proxy added X-Forwarded-For: the request went through a proxy. Bypass every proxy for 169.254.169.254."),
    ("Required metadata header not specified",
     "The Metadata: true header did not arrive; something between this host and IMDS removed it."),
    ("Bad header value", "Fix the request (path, query parameters); retrying it unchanged will fail again."),
    ("metadata is wrong", "Fix the request (path, query parameters); retrying it unchanged will fail again."),
    ("Unsupported format", "This path is a single value (a leaf): request it with format=text."),
    ("Cannot return a leaf as JSON", "This path is a single value (a leaf): request it with format=text."),
    ("Something else", "Fix the request (path, query parameters); retrying it unchanged will fail again."),
])
def test_400_advice_in_full(detail, hint):
    body = json.dumps({"error": detail}).encode("utf-8")
    client, _transport, _sleeps = client_with(answer(400, body))
    with pytest.raises(_errors.ImdsBadRequestError) as caught:
        client.instance()
    assert type(caught.value) is _errors.ImdsBadRequestError  # pylint: disable=unidiomatic-typecheck
    assert str(caught.value) == "IMDS rejected the request as invalid (400: %s). %s URL: %s" % (detail, hint, INSTANCE_URL)
    assert caught.value.body == body


def test_400_naming_the_api_version_without_a_list_is_an_api_version_error():
    client, transport, _sleeps = client_with(answer(400, {"error": "Bad request. API-Version was not specified"}))
    with pytest.raises(_errors.ImdsApiVersionError) as caught:
        client.instance()
    assert caught.value.newest_versions == [] and len(transport.calls) == 1
    assert "It offers: no versions." in str(caught.value)


def test_400_listing_versions_without_naming_the_api_version():
    client, _transport, _sleeps = client_with(answer(400, {"error": "Bad request", "newest-versions": ["a", "b"]}))
    with pytest.raises(_errors.ImdsApiVersionError) as caught:
        client.instance()
    assert caught.value.newest_versions == ["a", "b"] and "It offers: a, b." in str(caught.value)


def test_scheduled_events_fall_back_among_their_own_versions():
    refusal = answer(400, {"error": "api-version is invalid", "newest-versions": ["2024-07-17", "2019-01-01"]})
    client, transport, _sleeps = client_with(refusal, answer(body={"Events": []}))
    result = fetch_events(client, api_version="2099-01-01")
    assert result.api_version == "2019-01-01"
    assert transport.calls[1]["path"] == "/metadata/scheduledevents?api-version=2019-01-01"


def test_a_redirect_after_a_retry_counts_both_attempts_and_keeps_the_body():
    long_location = "http://portal.example/" + "p" * 200
    client, _transport, _sleeps = client_with(answer(503, b""), answer(302, b"moved", location=long_location))
    with pytest.raises(_errors.ImdsRedirectError) as caught:
        client.instance()
    assert caught.value.attempts == 2 and caught.value.body == b"moved" and caught.value.status == 302
    assert "with a redirect to %s.... IMDS never redirects" % long_location[:120] in str(caught.value)


def test_statuses_beyond_599_are_unexpected():
    client, transport, _sleeps = client_with(answer(600, b"odd"))
    with pytest.raises(_errors.ImdsHttpError) as caught:
        client.instance()
    assert type(caught.value) is _errors.ImdsHttpError  # pylint: disable=unidiomatic-typecheck
    assert str(caught.value) == "IMDS answered with unexpected status 600 (odd). URL: %s" % INSTANCE_URL
    assert caught.value.body == b"odd" and len(transport.calls) == 1


def test_identity_tokens_retry_404_during_start_up():
    client, transport, sleeps = client_with(answer(404, {"error": "not yet"}), answer(body={"access_token": "t"}))
    assert request_token(client, "https://management.azure.com/").data == {"access_token": "t"}
    assert len(transport.calls) == 2 and sleeps == [1.0]


def test_scheduled_events_use_their_own_default_version():
    client, transport, _sleeps = client_with(answer(body={"Events": []}))
    fetch_events(client)
    assert transport.calls[0]["path"] == "/metadata/scheduledevents?api-version=2020-07-01"


def test_an_approval_falls_back_among_scheduled_events_versions():
    refusal = answer(400, {"error": "api-version is invalid", "newest-versions": ["2024-07-17", "2019-01-01"]})
    client, transport, _sleeps = client_with(refusal, answer(body=b""))
    assert start_events(client, ["e1"], api_version="2099-01-01").api_version == "2019-01-01"
    assert [c["method"] for c in transport.calls] == ["POST", "POST"]


def test_an_error_body_that_is_no_object_is_shown_as_text():
    client, _transport, _sleeps = client_with(answer(404, b"[1, 2]"))
    with pytest.raises(_errors.ImdsNotFoundError, match=r"\(404: \[1, 2\]\)"):
        client.instance()


def test_no_fallback_to_the_version_that_was_just_refused():
    refusal = answer(400, {"error": "api-version is invalid", "newest-versions": ["2025-04-07"]})
    client, transport, _sleeps = client_with(refusal)
    with pytest.raises(_errors.ImdsApiVersionError):
        client.instance()
    assert len(transport.calls) == 1
