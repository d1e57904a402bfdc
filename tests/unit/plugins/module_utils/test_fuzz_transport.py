"""Property tests over the HTTP response reader: whatever bytes a peer sends, the reader returns an
answer or raises one of the collection's typed errors, and never hangs or lets a raw exception out."""

from __future__ import annotations

import io

import pytest
from ansible_collections.imds.azure.plugins.module_utils import _errors, _transport
from helpers.fuzz import value_or_typed_error
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.fuzz

URL = "http://127.0.0.1:8080/metadata/instance"
CAP = 2048

LATIN1 = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40)
TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)
STATUS_LINES = st.one_of(
    st.builds("HTTP/1.1 {} {}".format, st.integers(min_value=0, max_value=1200), LATIN1),
    st.builds("HTTP/1.0 {} {}".format, st.integers(min_value=100, max_value=599), LATIN1),
    st.sampled_from(["HTTP/1.1 200 OK", "HTTP/1.1 429 Too Many Requests", "HTTP/1.1 \u00b200 OK",
                     "HTTP/1.1 503 \x1b[31mred\x1b[0m", "HTTP/1.1 200", "ICY 200 OK", "", "HTTP/9.9 200 OK"]),
    LATIN1,
)
LENGTH_VALUES = st.one_of(st.integers(min_value=-5, max_value=10 ** 20).map(str),
                          st.sampled_from(["\u00b2", "1\u00b3", " 5 ", "5, 5", "+5", "0x10", "", "5\t"]), LATIN1)
HEADERS = st.lists(st.one_of(
    st.tuples(TOKEN, LATIN1),
    st.tuples(st.just("Content-Length"), LENGTH_VALUES),
    st.tuples(st.just("Transfer-Encoding"), st.sampled_from(["chunked", "gzip, chunked", "identity", "Chunked"])),
    st.tuples(st.just("Retry-After"), LATIN1),
), max_size=8)


def chunked(body: bytes, sizes: list, junk: bytes) -> bytes:
    """``body`` in chunked encoding, cut at ``sizes``; ``junk`` replaces a size line when not empty."""
    out, start = [], 0
    for size in sizes + [len(body)]:
        piece = body[start:start + size]
        start += len(piece)
        if piece:
            out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    out.append(junk or b"0\r\n\r\n")
    return b"".join(out)


BODIES = st.binary(max_size=3 * CAP)
RESPONSES = st.one_of(
    st.binary(max_size=600),  # anything at all
    st.builds(lambda status, headers, body: ("%s\r\n%s\r\n" % (status, "".join(
        "%s: %s\r\n" % pair for pair in headers))).encode("latin-1") + body, STATUS_LINES, HEADERS, BODIES),
    st.builds(lambda headers, body, sizes, junk: ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n" % "".join(
        "%s: %s\r\n" % pair for pair in headers)).encode("latin-1") + chunked(body, sizes, junk),
        HEADERS, BODIES, st.lists(st.integers(min_value=1, max_value=600), max_size=6),
        st.one_of(st.just(b""), st.binary(max_size=20), st.sampled_from([b"\xb2\r\n", b"-5\r\n", b"zz\r\n"]))),
)


class _PiecewiseRaw(io.RawIOBase):
    """A peer's bytes arriving in pieces of the given sizes, as a socket delivers them."""

    def __init__(self, data: bytes, pieces: list) -> None:
        super().__init__()
        self._data = data
        self._pieces = list(pieces) or [len(data) or 1]
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self._pieces[self._offset % len(self._pieces)] or 1)
        piece = self._data[self._offset:self._offset + size]
        buffer[:len(piece)] = piece
        self._offset += len(piece)
        return len(piece)


def peer_stream(data: bytes, pieces: list = ()) -> io.BufferedReader:
    """A stream for ``_transport.read_response``: the peer's whole answer, then the connection closes."""
    return io.BufferedReader(_PiecewiseRaw(data, list(pieces)))


def read(data: bytes, pieces: list = (), cap: int = CAP):
    return value_or_typed_error(_transport.read_response, _errors.ImdsError, peer_stream(data, pieces), "GET", URL,
                                cap, 2.0)


@given(data=RESPONSES, pieces=st.lists(st.integers(min_value=1, max_value=64), max_size=5))
def test_any_bytes_give_an_answer_or_a_typed_error(data, pieces):
    response, error = read(data, pieces)
    if error is not None:
        assert error.url == URL
        assert all(ch.isprintable() for ch in str(error)), "untrusted bytes reached the message raw"
        return
    assert 100 <= response.status <= 999
    assert len(response.body) <= CAP
    assert response.reason.isprintable()
    assert all(name == name.lower() for name in response.headers)


@given(status=st.integers(min_value=200, max_value=599), reason=LATIN1, body=st.binary(max_size=CAP),
       use_chunks=st.booleans(), sizes=st.lists(st.integers(min_value=1, max_value=300), max_size=6),
       pieces=st.lists(st.integers(min_value=1, max_value=64), max_size=5))
def test_well_formed_answers_arrive_whole(status, reason, body, use_chunks, sizes, pieces):
    """Length-delimited and chunked bodies, however the bytes are split, come back exactly
    (204 and 304 answers have no body, whatever follows their headers)."""
    framing = b"Transfer-Encoding: chunked\r\n" if use_chunks else b"Content-Length: %d\r\n" % len(body)
    payload = chunked(body, sizes, b"") if use_chunks else body
    head = ("HTTP/1.1 %d %s\r\n" % (status, reason.replace("\r", "").replace("\n", ""))).encode("latin-1")
    response, error = read(head + framing + b"Content-Type: application/json\r\n\r\n" + payload, pieces)
    assert error is None, error
    expected = b"" if status in (204, 304) else body
    assert (response.status, response.body, response.content_type) == (status, expected, "application/json")


@given(extra=st.integers(min_value=1, max_value=CAP), use_chunks=st.booleans(), declare=st.booleans())
def test_bodies_over_the_cap_are_refused(extra, use_chunks, declare):
    body = b"x" * (CAP + extra)
    if use_chunks:
        framing, payload = b"Transfer-Encoding: chunked\r\n", chunked(body, [700], b"")
    else:
        framing, payload = (b"Content-Length: %d\r\n" % len(body)) if declare else b"Connection: close\r\n", body
    _response, error = read(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n" + payload)
    assert isinstance(error, _errors.ImdsResponseTooLargeError)
    assert "2048-byte limit" in str(error)
