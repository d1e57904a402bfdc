# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The words for an exchange with IMDS that failed on the wire.

Both transports use them: ``_transport`` (Python sockets on the managed node) and the
Windows transport on the controller, so a refused connection or a silent peer reads
the same on every host. This module imports only ``_errors``: the transports import it,
never the other way round.
"""

import errno
import socket

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsConnectionResetError,
    ImdsResponseTooLargeError,
    ImdsTimeoutError,
    ImdsUnreachableError,
    ROUTE_HINT,
    excerpt,
)

# The socket errors that mean "no route": the missing-route problem the imds_route role fixes.
NO_ROUTE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})

# Why a connection could not be made, as ``unreachable_error`` takes it.
CONNECT_TIMED_OUT = "timed out"
CONNECT_REFUSED = "refused"
NO_ROUTE = "no route"


def connect_error(url: str, exc: OSError, connect_timeout: float) -> ImdsUnreachableError:
    """The error for a socket that could not connect, from the exception ``create_connection`` raised."""
    if isinstance(exc, socket.timeout):
        return unreachable_error(url, CONNECT_TIMED_OUT, connect_timeout=connect_timeout)
    if isinstance(exc, ConnectionRefusedError):
        return unreachable_error(url, CONNECT_REFUSED)
    if exc.errno in NO_ROUTE_ERRNOS:
        return unreachable_error(url, NO_ROUTE, detail=describe(exc))
    return unreachable_error(url, describe(exc))


def unreachable_error(url: str, reason: str, connect_timeout: float = 0.0,
                      detail: str = "") -> ImdsUnreachableError:
    """The error for a connection that could not be made; ``reason`` is one of the constants above
    or a description of the failure. ``connect_timeout`` is the limit that passed, for CONNECT_TIMED_OUT."""
    if reason == CONNECT_TIMED_OUT:
        text = ("No connection to IMDS at %s within %.1f s (connect timed out): no route leads there, "
                "or packets are dropped on the way." % (url, connect_timeout))
    elif reason == CONNECT_REFUSED:
        text = ("IMDS at %s refused the connection: nothing listens on that address and port. "
                "If you overrode the endpoint (option endpoint or AZURE_IMDS_ENDPOINT), check it." % url)
    elif reason == NO_ROUTE:
        text = "Could not connect to IMDS at %s: there is no route to it (%s)." % (url, detail)
    else:
        text = "Could not connect to IMDS at %s: %s." % (url, reason)
    return ImdsUnreachableError("%s %s" % (text, ROUTE_HINT), url=url)


def read_timeout_error(url: str, time_limit: float) -> ImdsTimeoutError:
    """The error for a connection that stood but brought no complete answer within the attempt's time."""
    return ImdsTimeoutError(
        "IMDS at %s accepted the connection but did not answer within %.1f s (the timeout option bounds "
        "each attempt: connecting, the status line, the headers and the body together). It may be "
        "overloaded, or something other than IMDS holds this address. %s" % (url, time_limit, ROUTE_HINT),
        url=url)


def talk_failed_error(url: str, detail: str) -> ImdsConnectionResetError:
    """The error for a connection that broke while the request or the answer was under way."""
    return ImdsConnectionResetError(
        "The connection to IMDS at %s failed while talking (%s)." % (url, detail), url=url)


def cut_short_error(url: str, detail: str) -> ImdsConnectionResetError:
    """The error for a connection that closed before the whole answer had arrived."""
    return ImdsConnectionResetError(
        "The connection to IMDS at %s was closed before a complete answer arrived (%s)." % (url, detail), url=url)


def too_large_error(url: str, limit: int, detail: str = "") -> ImdsResponseTooLargeError:
    """The error for an answer larger than ``limit`` bytes; ``detail`` says how that was known."""
    return ImdsResponseTooLargeError(
        "The answer from %s is larger than the %d-byte limit (%s). IMDS documents are a few "
        "kilobytes; a proxy or another server probably answered. Query a narrower path "
        "(for example instance/compute) if you really need more."
        % (url, limit, detail or "more than %d bytes arrived" % limit), url=url)


def describe(exc: BaseException) -> str:
    """A short, printable account of ``exc`` that names its type when its text does not."""
    text = excerpt(str(exc)) or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, text) if type(exc).__name__ not in text else text
