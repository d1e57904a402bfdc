# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this plugin_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""An IMDS client transport whose attempts happen on a Windows host.

The client (``module_utils/_client.py``) runs on the controller and keeps every decision:
retries, api-version negotiation, pacing, decoding, error texts. Each of its calls to the
transport becomes ONE run of ``imds.azure.win_imds_attempt`` on the host, which connects,
sends the bytes built here (``request_bytes``), and returns the raw answer. The answer is read
here (``parse_response``) by the same HTTP reader (``_transport.read_response``) and the same checks
(size cap, truncation, malformed HTTP) as on Linux. Both live here, not in module_utils: a Linux module
run never needs them, so they are not in its payload.

What a Windows attempt does differently, and how that is made up for:

- Connect and read timeouts are kept on the host exactly (a connect timeout, then one
  deadline for the whole answer), but every attempt also costs a module run over the
  connection (WinRM, PSRP or SSH). The retry budget (``max_retry_time``) is measured on
  the controller, so it includes those runs: a call still ends within the budget plus one
  attempt.
- Pacing is measured on the controller, before each module run. Two attempts are at least
  one module start apart on the host (hundreds of milliseconds on Windows), well above the
  0.21 s the client keeps.
- ``AZURE_IMDS_ENDPOINT`` is read from the task's ``environment`` (what a module would see),
  not from the controller's own environment and not from the host's system environment.
- The answer travels base64 encoded in the module result; the host stops reading past the
  body cap plus ``HEADER_ALLOWANCE``, so an oversized answer is never shipped whole. For a secret
  answer (``sealing`` given) the host seals it to the task's public key instead
  (``_sealing``): only ciphertext crosses the connection.
- Numbers cross as Ansible.Basic ``int`` options (Int32, ``Ansible.Basic.cs`` ``ParseInt``),
  timeouts in whole milliseconds: no ``float`` option crosses, because Ansible.Basic parses
  those as single precision with the host's culture (``ParseFloat``: ``float.Parse``). What an
  Int32 cannot hold is refused here, before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import typing as t

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsError,
    ImdsRequestError,
    ImdsResponseTooLargeError,
    excerpt,
)
from ansible_collections.imds.azure.plugins.module_utils._transport import (
    CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    MAX_BODY_BYTES,
    Endpoint,
    HttpResponse,
    read_response,
    serialise_request,
)
from ansible_collections.imds.azure.plugins.module_utils._transport_errors import (
    CONNECT_REFUSED,
    CONNECT_TIMED_OUT,
    NO_ROUTE,
    read_timeout_error,
    talk_failed_error,
    too_large_error,
    unreachable_error,
)

ATTEMPT_MODULE = "imds.azure.win_imds_attempt"

# Room for the status line and headers on top of the body cap.
HEADER_ALLOWANCE = 64 * 1024

# SocketError names that mean "no route" (WSAENETUNREACH, WSAEHOSTUNREACH, WSAEADDRNOTAVAIL).
_NO_ROUTE_CODES = frozenset({"NetworkUnreachable", "HostUnreachable", "AddressNotAvailable"})

# The largest Ansible.Basic ``int`` option (System.Int32).
INT32_MAX = 2 ** 31 - 1

RunModule = t.Callable[[str, dict], dict]


class ImdsHostModuleError(ImdsError):
    """The module that carries an attempt did not run properly on the host (not a network failure)."""


def host_transport(run_module: RunModule, sealing=None) -> t.Callable[..., HttpResponse]:
    """A transport for ``ImdsClient`` that makes each attempt with ``run_module(name, args)`` on the host.

    ``sealing``: the task's ``_sealing.SealingKey`` when the answers are secret; each answer then comes
    back sealed to it.
    """

    def send(endpoint: Endpoint, method: str, path: str, headers: dict, body: bytes | None = None,
             connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = DEFAULT_READ_TIMEOUT,
             max_body_bytes: int = MAX_BODY_BYTES, **_later_options) -> HttpResponse:
        raw_request = request_bytes(endpoint, method, path, headers, body)
        args = attempt_args(endpoint, raw_request, connect_timeout, read_timeout, max_body_bytes)
        if sealing is not None:
            args["seal_to"] = sealing.public
        result = run_module(ATTEMPT_MODULE, args)
        return response_from_attempt(result, endpoint, method, path, connect_timeout, read_timeout, max_body_bytes,
                                     sealing)

    return send


def request_bytes(endpoint: Endpoint, method: str, path: str, headers: dict, body: bytes | None = None) -> bytes:
    """The exact bytes ``_transport.send`` writes for this request, plus ``Connection: close``.

    The host sends them as they are: the same serialisation and the same refusal of line breaks in
    the path or headers as on Linux, and a connection the server closes after its answer, so the end
    of the answer is the end of the stream the host returns.
    """
    return serialise_request(endpoint, method, path, dict(headers, Connection="close"), body)


def parse_response(raw: bytes, endpoint: Endpoint, method: str, path: str,
                   max_body_bytes: int = MAX_BODY_BYTES) -> HttpResponse:
    """Read an answer that the host received, with the checks ``_transport.send`` applies.

    ``raw`` is everything the server sent until it closed the connection: status line, headers,
    body (chunked or not). A body that stops short of its Content-Length, or that is larger than
    ``max_body_bytes``, fails exactly as it would in ``send``.
    """
    with io.BytesIO(raw) as stream:
        return read_response(stream, method, endpoint.base_url + path, max_body_bytes, 0.0)


def attempt_args(endpoint: Endpoint, raw_request: bytes, connect_timeout: float, read_timeout: float,
                 max_body_bytes: int) -> dict:
    return {
        "address": endpoint.host,
        "port": host_int(endpoint.port, "port"),
        "request": base64.b64encode(raw_request).decode("ascii"),
        "connect_timeout_ms": milliseconds(connect_timeout, "connect timeout"),
        "read_timeout_ms": milliseconds(read_timeout, "timeout"),
        "max_bytes": host_int(max_body_bytes + HEADER_ALLOWANCE, "answer size cap"),
    }


def host_int(value: int, what: str) -> int:
    """``value`` as the host's Int32 option will hold it; ImdsRequestError when it cannot."""
    if not 0 <= value <= INT32_MAX:
        raise ImdsRequestError("The %s (%d) does not fit the Windows attempt module's 32-bit number (0 to %d); "
                               "use a smaller value." % (what, value, INT32_MAX))
    return value


def milliseconds(seconds: float, what: str) -> int:
    """Whole milliseconds, rounded up (a wait never ends early), as the host's Int32 option will hold them."""
    if seconds * 1000 > INT32_MAX:
        raise ImdsRequestError("The %s of %s seconds is longer than a Windows host can wait in one attempt "
                               "(at most %.3f seconds, 2^31-1 milliseconds); set a smaller timeout."
                               % (what, seconds, INT32_MAX / 1000.0))
    return max(1, math.ceil(seconds * 1000))


def response_from_attempt(result: dict, endpoint: Endpoint, method: str, path: str, connect_timeout: float,
                          read_timeout: float, max_body_bytes: int, sealing=None) -> HttpResponse:
    """Turn the module result of one attempt into the answer, or into the error ``send`` would raise."""
    url = endpoint.base_url + path
    if result.get("failed") or "error" not in result or "response" not in result:
        raise ImdsHostModuleError(
            "%s did not run on the host, so no request reached IMDS at %s: %s" % (
                ATTEMPT_MODULE, url, excerpt(str(result.get("msg") or "it returned no answer"))), url=url)
    if result["error"]:
        raise _attempt_error(result["error"], url, connect_timeout, read_timeout)
    raw = _opened(result, sealing, url) if sealing is not None else _decoded(result, url)
    if result.get("limit_reached"):
        _raise_too_large(raw, endpoint, method, path, max_body_bytes)
    return parse_response(raw, endpoint, method, path, max_body_bytes)


def _decoded(result: dict, url: str) -> bytes:
    try:
        return base64.b64decode(result["response"], validate=True)
    except (binascii.Error, TypeError, ValueError) as exc:
        raise ImdsHostModuleError("%s returned an answer that is not base64 (%s)." % (ATTEMPT_MODULE, exc), url=url)


def _opened(result: dict, sealing, url: str) -> bytes:
    """The answer the host sealed to the task's key; a secret answer that arrives unsealed is refused."""
    from ansible_collections.imds.azure.plugins.plugin_utils._sealing import UnsealError  # pylint: disable=import-outside-toplevel

    if result.get("response") or not isinstance(result.get("sealed"), dict):
        raise ImdsHostModuleError("%s returned a secret answer unsealed; is the collection on the controller "
                                  "complete?" % ATTEMPT_MODULE, url=url)
    try:
        return sealing.open(result["sealed"])
    except UnsealError as exc:
        raise ImdsHostModuleError("%s returned a sealed answer this task cannot open: %s." % (ATTEMPT_MODULE, exc),
                                  url=url)


def _raise_too_large(raw: bytes, endpoint: Endpoint, method: str, path: str, max_body_bytes: int) -> None:
    """The host stopped reading past the cap: say so as ``send`` would (declared size, or bytes seen)."""
    try:
        parse_response(raw, endpoint, method, path, max_body_bytes)
    except ImdsResponseTooLargeError:
        raise
    except ImdsError:
        pass  # the cut-off answer may end mid-chunk; it is too large all the same
    raise too_large_error(endpoint.base_url + path, max_body_bytes)


def _attempt_error(error: dict, url: str, connect_timeout: float, read_timeout: float) -> ImdsError:
    # The host's words (an exception type and its localized message) are untrusted text.
    kind, code = str(error.get("kind", "")), excerpt(str(error.get("code", "")), limit=80)
    detail = "%s: %s" % (code, excerpt(str(error.get("message", ""))))
    if kind == "connect_timeout":
        return unreachable_error(url, CONNECT_TIMED_OUT, connect_timeout=connect_timeout)
    if kind == "connect_failed":
        if code == "ConnectionRefused":
            return unreachable_error(url, CONNECT_REFUSED)
        if code in _NO_ROUTE_CODES:
            return unreachable_error(url, NO_ROUTE, detail=detail)
        return unreachable_error(url, detail)
    if kind == "read_timeout":
        return read_timeout_error(url, read_timeout)
    return talk_failed_error(url, detail)
