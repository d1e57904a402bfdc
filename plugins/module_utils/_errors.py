# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Typed errors raised by the IMDS client.

Modules turn them into ``fail_json`` and plugins into ``AnsibleError`` at the
edge, so every message here must say what happened and what to do about it.
"""

from typing import List, Optional, Union

ROUTE_HINT = (
    "Is this an Azure VM? IMDS answers only from inside one. On a Windows failover cluster "
    "the cluster adapter's 169.254.0.0/16 route hijacks IMDS traffic: the imds.azure.imds_route "
    "role installs the missing 169.254.169.254/32 route."
)

EXCERPT_LIMIT = 200


def excerpt(body: Optional[Union[bytes, str]], limit: int = EXCERPT_LIMIT) -> str:
    """Return a short, printable preview of an untrusted response body."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in body.strip())
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


class ImdsError(Exception):
    """Base class of every error the IMDS client raises."""

    retryable = False

    def __init__(self, message: str, url: Optional[str] = None, status: Optional[int] = None,
                 body: Optional[Union[bytes, str]] = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.body = body
        self.attempts = attempts

    def __str__(self) -> str:
        if self.attempts > 1:
            return "%s (gave up after %d attempts)" % (self.message, self.attempts)
        return self.message

    def to_result(self) -> dict:
        """Return the fields a module adds to its failure result."""
        return {
            "error_type": type(self).__name__,
            "url": self.url,
            "status": self.status,
            "attempts": self.attempts,
        }


class ImdsUnreachableError(ImdsError):
    """No TCP connection to IMDS could be made (refused, no route, connect timeout)."""

    retryable = True


class ImdsTimeoutError(ImdsError):
    """IMDS accepted the connection but did not answer in time."""

    retryable = True


class ImdsConnectionResetError(ImdsError):
    """The connection was closed before a complete response arrived."""

    retryable = True


class ImdsHttpError(ImdsError):
    """IMDS answered with an HTTP error status."""


class ImdsBadRequestError(ImdsHttpError):
    """400: the request itself is wrong; retrying the same request cannot help."""


class ImdsApiVersionError(ImdsBadRequestError):
    """The api-version was refused and no known version could replace it."""

    def __init__(self, message: str, url: Optional[str] = None, status: Optional[int] = None,
                 body: Optional[Union[bytes, str]] = None, attempts: int = 1,
                 newest_versions: Optional[List[str]] = None) -> None:
        super().__init__(message, url=url, status=status, body=body, attempts=attempts)
        self.newest_versions = list(newest_versions or [])

    def to_result(self) -> dict:
        result = super().to_result()
        result["newest_versions"] = self.newest_versions
        return result


class ImdsAccessDeniedError(ImdsHttpError):
    """401 or 403."""


class ImdsNotFoundError(ImdsHttpError):
    """404: the path or element does not exist."""


class ImdsMethodNotAllowedError(ImdsHttpError):
    """405: the category does not accept this HTTP method."""


class ImdsGoneError(ImdsHttpError):
    """410 for longer than the retry window."""


class ImdsThrottledError(ImdsHttpError):
    """429 for longer than the retry budget."""


class ImdsServerError(ImdsHttpError):
    """5xx (or 408) for longer than the retry budget."""


class ImdsBadResponseError(ImdsError):
    """The answer is not what IMDS sends: HTML, malformed JSON, a redirect, bad encoding."""


class ImdsRedirectError(ImdsBadResponseError):
    """IMDS never redirects; a redirect means something else answered."""


class ImdsResponseTooLargeError(ImdsBadResponseError):
    """The body exceeded the size cap."""


class ImdsRequestError(ImdsError):
    """The caller asked for something the client refuses to send (bad path, bad option)."""
