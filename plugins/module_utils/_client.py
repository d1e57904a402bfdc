# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The one IMDS client that every imds.azure module and plugin uses.

It adds what IMDS requires (``Metadata: true``, an api-version, no proxy), paces
requests under the 5 per second limit, retries what may succeed later, and turns
every other outcome into a typed error from ``_errors``.
"""

from typing import List, Optional, Union

import math
import os
import random
import re
import time
from urllib.parse import quote, urlencode

from ansible_collections.imds.azure.plugins.module_utils import _answer_errors, _transport
from ansible_collections.imds.azure.plugins.module_utils._answer_errors import loads_strict
from ansible_collections.imds.azure.plugins.module_utils._api_versions import DEFAULT_API_VERSION
from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsError,
    ImdsRequestError,
    ImdsUnreachableError,
    excerpt,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import rule_for_path
from ansible_collections.imds.azure.plugins.module_utils._retry import GONE_RETRY_WINDOW, RetryState, parse_retry_after

ENDPOINT_ENV_VAR = "AZURE_IMDS_ENDPOINT"

# How long one request may keep retrying (``max_retry_time``): the 70 s IMDS documents for 410.
DEFAULT_MAX_RETRY_TIME = GONE_RETRY_WINDOW

# IMDS allows about 5 requests per second per VM. The wait is counted from the end of the previous
# exchange, not from its start: IMDS saw that request before it answered, so five waits of 0.21 s
# put more than a second between any six arrivals, however long each request was under way.
MIN_REQUEST_INTERVAL = 0.21

# Used with fullmatch: "$" would also match before a trailing newline.
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.\-]+")
# Every IMDS api-version is a date, YYYY-MM-DD (IMDS.md, Versions; the OpenAPI file has no other form).
_API_VERSION_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


class ImdsResult:
    """A successful IMDS answer: parsed ``data`` (JSON) or ``text``."""

    __slots__ = ("url", "status", "api_version", "content_type", "data", "text", "attempts")

    def __init__(self, url: str, status: int, api_version: Optional[str], content_type: str,
                 data=None, text: Optional[str] = None, attempts: int = 1) -> None:
        self.url = url
        self.status = status
        self.api_version = api_version
        self.content_type = content_type
        self.data = data
        self.text = text
        self.attempts = attempts


def check_api_version(value: str, option: str = "api_version") -> None:
    """Refuse, before any request, an api-version that IMDS cannot know (it would cost a 400 and a fallback)."""
    if not isinstance(value, str) or not _API_VERSION_RE.fullmatch(value):
        raise ImdsRequestError(
            "%s must be an IMDS api-version, a date written YYYY-MM-DD such as %s (IMDS has no 'latest'); got %s. "
            "Leave it unset for the newest version this collection knows, or list the versions this VM's IMDS "
            "offers with imds.azure.metadata_info path=versions." % (option, DEFAULT_API_VERSION, excerpt(repr(value), 60)))


def resolve_endpoint(option: Optional[str], environ=None) -> str:
    """The endpoint option wins, then ``AZURE_IMDS_ENDPOINT``, then the real IMDS address."""
    if option:
        return option
    env = os.environ if environ is None else environ
    return env.get(ENDPOINT_ENV_VAR) or _transport.DEFAULT_ENDPOINT


def metadata_path(path: Union[str, list, tuple]) -> str:
    """Build ``/metadata/<path>`` from a relative path, refusing anything that could escape it.

    ``path`` is ``"instance/compute/vmId"`` or a list of segments (ints allowed
    for array indexes). Segments are letters, digits, ``_``, ``.`` and ``-``.
    """
    if isinstance(path, str):
        # No whitespace stripping: "instance/compute\n" is refused, not quietly read as instance/compute.
        segments = path.strip("/").split("/")
        if path.startswith("metadata/") or path.startswith("/metadata/"):
            segments = segments[1:]
    else:
        segments = [str(s) for s in path]
    if not segments or segments == [""]:
        raise ImdsRequestError("The IMDS path is empty. Give a path under /metadata/, for example instance or versions.")
    for segment in segments:
        if not _SEGMENT_RE.fullmatch(segment) or segment in (".", ".."):
            raise ImdsRequestError(
                "Invalid IMDS path segment %r in %r: use letters, digits, '_', '.', '-' separated by '/' "
                "(for example instance/network/interface/0/macAddress)." % (segment, path))
    return "/metadata/" + "/".join(quote(s, safe="") for s in segments)


class ImdsClient:
    """Client for http://169.254.169.254/metadata. One instance paces its own requests."""

    def __init__(self, endpoint: Optional[str] = None, api_version: str = DEFAULT_API_VERSION,
                 timeout: float = _transport.DEFAULT_READ_TIMEOUT,
                 connect_timeout: float = _transport.CONNECT_TIMEOUT,
                 max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
                 max_body_bytes: int = _transport.MAX_BODY_BYTES,
                 clock=time.monotonic, sleep=time.sleep, transport=_transport.send, environ=None,
                 jitter=random.random, warnings: Optional[List[str]] = None) -> None:
        _check_seconds("timeout", timeout, zero_allowed=False)
        _check_seconds("connect_timeout", connect_timeout, zero_allowed=False)
        _check_seconds("max_retry_time", max_retry_time, zero_allowed=True)
        self.endpoint = _transport.Endpoint(resolve_endpoint(endpoint, environ))
        self.api_version = api_version
        self.timeout = float(timeout)
        self.connect_timeout = min(float(connect_timeout), self.timeout)
        self.max_retry_time = float(max_retry_time)
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self._jitter = jitter
        self._last_exchange_ended_at: Optional[float] = None
        self.requests_sent = 0
        # What a task should show as warnings, such as an api-version IMDS refused and the one that replaced it.
        # The caller may hand in its own list, to report them however the task ends.
        self.warnings: List[str] = [] if warnings is None else warnings

    def instance(self, route=(), text: bool = False) -> ImdsResult:
        """GET /metadata/instance[/route...]; ``text`` asks for format=text (needed for leaves).

        The other categories are asked for by the one module that reads them, in its logic (``_*_logic``).
        """
        path = ["instance"] + list(route)
        return self.get(path, params={"format": "text" if text else "json"}, expect="text" if text else "json")

    def get(self, path, params: Optional[dict] = None, api_version: Optional[str] = "", expect: str = "json",
            known_versions: Optional[tuple] = None, retry_not_found: Optional[bool] = None) -> ImdsResult:
        """GET ``/metadata/<path>`` and return the decoded answer (see ``request``)."""
        return self.request("GET", path, params=params, api_version=api_version, expect=expect,
                            known_versions=known_versions, retry_not_found=retry_not_found)

    def request(self, method: str, path, params: Optional[dict] = None, api_version: Optional[str] = "",
                expect: str = "json", body: Optional[bytes] = None, known_versions: Optional[tuple] = None,
                retry_not_found: Optional[bool] = None) -> ImdsResult:
        """Send ``method`` to ``/metadata/<path>`` (with retries) and return the decoded answer.

        ``api_version`` of ``""`` means the client's default; ``None`` sends none
        (only ``versions`` takes none). ``expect`` is json, text or any. The known versions, the 404
        retry rule and whether errors may quote the answer come from the path table (``_path_rules``)
        unless given.
        """
        request_path = metadata_path(path)
        rule = rule_for_path(request_path)
        known_versions = rule.known_versions if known_versions is None else known_versions
        retry_not_found = rule.retry_not_found if retry_not_found is None else retry_not_found
        version = self.api_version if api_version == "" else api_version
        if version:
            check_api_version(version)
        extra = _check_params(params or {})
        retries = RetryState(self._clock(), self.max_retry_time, retry_not_found=retry_not_found, jitter=self._jitter)
        attempts = 0
        while True:
            query = ([("api-version", version)] if version else []) + extra
            path_and_query = request_path + ("?" + urlencode(query) if query else "")
            url = self.endpoint.base_url + path_and_query
            attempts += 1
            try:
                response = self._send(method, path_and_query, body)
            except ImdsError as exc:
                exc.attempts = attempts
                decision = retries.decide(self._clock(), retryable_error=exc.retryable,
                                          unreachable=isinstance(exc, ImdsUnreachableError))
                if not decision.retry:
                    raise
                self._sleep(decision.delay)
                continue
            if 200 <= response.status < 300:
                return _decode_success(response, url, version, expect, attempts, rule.private)
            if 300 <= response.status < 400:
                raise _answer_errors.redirect_error(response, url, attempts)
            if response.status == 400:
                offered = _answer_errors.error_body(response).get("newest-versions")
                replacement = retries.replacement_version(version, offered, known_versions)
                if replacement:
                    self._warn("IMDS refused api-version %s at %s (400) and offered newer ones; the request was "
                               "repeated with %s, the newest that both IMDS and this collection know. Set api_version "
                               "to %s, or leave it unset, to spare the refused request."
                               % (version, request_path, replacement, replacement))
                    version = replacement
                    continue
            decision = retries.decide(self._clock(), status=response.status,
                                      retry_after=parse_retry_after(response.headers.get("retry-after")))
            if decision.retry:
                self._sleep(decision.delay)
                continue
            raise _answer_errors.http_error(response, url, version, attempts, decision.give_up_reason, rule.private)

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _send(self, method: str, path_and_query: str, body: Optional[bytes]) -> _transport.HttpResponse:
        self._pace()
        headers = {"Metadata": "true", "User-Agent": "imds.azure"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        self.requests_sent += 1
        try:
            return self._transport(self.endpoint, method, path_and_query, headers, body,
                                   connect_timeout=self.connect_timeout, read_timeout=self.timeout,
                                   max_body_bytes=self.max_body_bytes)
        finally:
            self._last_exchange_ended_at = self._clock()

    def _pace(self) -> None:
        if self._last_exchange_ended_at is not None:
            wait = self._last_exchange_ended_at + MIN_REQUEST_INTERVAL - self._clock()
            if wait > 0:
                self._sleep(wait)


def _check_seconds(option: str, value, zero_allowed: bool) -> None:
    """Refuse NaN, infinities, negative (and, where it makes no sense, zero) durations, naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 or (
            value == 0 and not zero_allowed):
        raise ImdsRequestError(
            "The %s option must be a finite number of seconds %s, got %r." % (
                option, "of 0 or more" if zero_allowed else "greater than 0", value))


def _check_params(params: dict) -> list:
    reserved = {"api-version": "api_version"}
    pairs = []
    for name, value in params.items():
        if name in reserved:
            raise ImdsRequestError("Set %s with the %s option, not as an extra query parameter." % (name, reserved[name]))
        if not isinstance(name, str) or not name or not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ImdsRequestError("Query parameters must be names with string values; got %r=%r." % (name, value))
        pairs.append((name, str(value)))
    return pairs


def _decode_success(response: _transport.HttpResponse, url: str, version: Optional[str], expect: str,
                    attempts: int, private: bool = False) -> ImdsResult:
    content_type = response.content_type
    result = ImdsResult(url, response.status, version, content_type, attempts=attempts)
    if expect == "any" and not response.body.strip():
        return result
    text = _decode_text(response, url, private)
    if expect == "text":
        result.text = text
        return result
    result.data = _parse_json(text, content_type, url, private)
    return result


def _decode_text(response: _transport.HttpResponse, url: str, private: bool = False) -> str:
    body = response.body
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _answer_errors.not_utf8_error(response, url, exc.start, private)


def _parse_json(text: str, content_type: str, url: str, private: bool = False) -> object:
    stripped = text.lstrip()
    if content_type in ("text/html", "application/xhtml+xml") or stripped[:1] == "<":
        raise _answer_errors.html_error(text, content_type, url, private)
    if not stripped:
        raise _answer_errors.empty_json_error(url)
    try:
        return loads_strict(text)
    except (ValueError, RecursionError) as exc:
        raise _answer_errors.not_json_error(text, url, exc, private)
