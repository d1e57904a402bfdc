"""Property tests over JSON decoding of IMDS answers: any body gives data, text or the collection's
typed error, and data that comes back is plain JSON (no NaN, no Infinity)."""

from __future__ import annotations

import json
import math

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _answer_errors, _client, _errors
from ansible_collections.imds.azure.plugins.module_utils._transport import HttpResponse
from helpers.fuzz import value_or_typed_error
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

URL = "http://127.0.0.1:8080/metadata/instance?api-version=2025-04-07"
CONTENT_TYPES = st.sampled_from(["application/json; charset=utf-8", "text/html", "text/plain", "", "application/xhtml+xml",
                                 "\x1b[31mapplication/json"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)
JSON_LIKE = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode("utf-8")),
    st.sampled_from([b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"1e999", b"-1E400", b"\xef\xbb\xbf{}", b"",
                     b"   ", b"<html>", b"\xff\xfe{}", b"[" * 5000, b'{"a": 1' + b"0" * 5000 + b"}", b'"\\ud800"']),
    st.binary(max_size=200),
    st.text(alphabet="[]{}\",:0123456789.eE+-tfnulNaIiy ", max_size=60).map(lambda t: t.encode("utf-8")),
)


def finite_everywhere(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(finite_everywhere(item) for item in value)
    if isinstance(value, dict):
        return all(finite_everywhere(item) for item in value.values())
    return True


def decode(body: bytes, content_type: str, expect: str):
    response = HttpResponse(200, "OK", {"content-type": content_type}, body)
    return value_or_typed_error(_client._decode_success,  # pylint: disable=protected-access
                                _errors.ImdsBadResponseError, response, URL, "2025-04-07", expect, 1)


@given(body=JSON_LIKE, content_type=CONTENT_TYPES, expect=st.sampled_from(["json", "text", "any"]))
def test_any_body_gives_data_text_or_a_bad_response(body, content_type, expect):
    result, error = decode(body, content_type, expect)
    if error is not None:
        assert error.url == URL
        assert all(ch.isprintable() for ch in str(error))
        return
    assert result.status == 200 and result.url == URL
    if expect == "text":
        assert isinstance(result.text, str)
    else:
        assert finite_everywhere(result.data)
        json.dumps(result.data, allow_nan=False)  # plain JSON, re-encodable


@given(value=JSON_VALUES)
def test_json_documents_round_trip(value):
    result, error = decode(json.dumps(value).encode("utf-8"), "application/json", "json")
    assert error is None, error
    assert result.data == value


@given(value=JSON_VALUES, constant=st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-2E999"]))
def test_non_finite_numbers_anywhere_are_refused(value, constant):
    body = ('{"x": %s, "y": [%s]}' % (json.dumps(value), constant)).encode("utf-8")
    _result, error = decode(body, "application/json", "json")
    assert isinstance(error, _errors.ImdsBadResponseError)
    assert "is not JSON" in str(error)


@given(body=st.binary(max_size=300), status=st.sampled_from([400, 404, 410, 429, 500, 503]), reason=st.text(max_size=30))
def test_error_bodies_never_break_the_error_itself(body, status, reason):
    """Whatever an error answer holds, it becomes the typed HTTP error with a printable message."""
    response = HttpResponse(status, reason, {"content-type": "application/json"}, body)
    error = _answer_errors.http_error(response, URL, "2025-04-07", 1, "")
    assert isinstance(error, _errors.ImdsHttpError) and error.status == status
    assert all(ch.isprintable() for ch in str(error))
