# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""Turn an IMDS answer that is not a success into the typed error that explains it.

It also holds the strict JSON reader (``loads_strict``) that both a success and an error
body go through. It imports only ``_errors``; ``_client`` imports it.

Paths that can return secrets (identity tokens, user data) are "private": their
errors quote at most an error code, never the answer itself.
"""

from typing import Optional

import json
import math
import re

from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsAccessDeniedError,
    ImdsApiVersionError,
    ImdsBadRequestError,
    ImdsBadResponseError,
    ImdsGoneError,
    ImdsHttpError,
    ImdsMethodNotAllowedError,
    ImdsNotFoundError,
    ImdsRedirectError,
    ImdsServerError,
    ImdsThrottledError,
    excerpt,
)

# OAuth-style error codes ("invalid_request") cannot hold a token, so they may be quoted from private paths.
_ERROR_CODE_RE = re.compile(r"^[A-Za-z_]{1,40}\Z")
NOT_QUOTED = "(the answer is not quoted: this path can return secrets)"
# Fixed texts that IMDS documents for the identity category; quoting them cannot leak anything.
_DOCUMENTED_IDENTITY_ERRORS = frozenset({"Identity not found"})


class NotJsonNumber(ValueError):
    """NaN, Infinity, -Infinity or a number too large for a float: Python's json accepts them, JSON does not."""


def _refuse_constant(name: str):
    """parse_constant for json: NaN, Infinity and -Infinity are refused (it always raises)."""
    raise NotJsonNumber("%s is not JSON; IMDS never sends it" % name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJsonNumber("the number %s is too large for a float (it would become Infinity), which is not JSON; "
                            "IMDS never sends it" % excerpt(text, 40))
    return value


def loads_strict(text: str) -> object:
    """``json.loads`` without the extensions Python allows (NaN, Infinity, numbers that overflow to inf)."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def error_body(response) -> dict:
    """The JSON error object IMDS sends with a failure, or {} if the body is not one."""
    try:
        data = loads_strict(response.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def redirect_error(response, url: str, attempts: int) -> ImdsRedirectError:
    location = excerpt(response.headers.get("location", "(no Location header)"), 120)
    return ImdsRedirectError(
        "%s answered %d with a redirect to %s. IMDS never redirects, so something else (often a "
        "transparent proxy) intercepted the request; the redirect was not followed. Make sure "
        "169.254.169.254 is reached directly." % (url, response.status, location),
        url=url, status=response.status, body=response.body, attempts=attempts)


def http_error(response, url: str, version: Optional[str], attempts: int,
               give_up_reason: str, private: bool = False) -> ImdsHttpError:
    """The error for a status IMDS answered with and that was not (or no longer) retried."""
    status = response.status
    detail = _error_text(response, private)
    common = dict(url=url, status=status, body=None if private else response.body, attempts=attempts)
    if status == 400:
        return _bad_request_error(response, url, version, detail, common)
    if status == 404 and "version" in detail.lower():
        # A 2019 IMDS answered an unknown api-version with 404 "Invalid version requested".
        return ImdsApiVersionError(
            "IMDS does not know api-version %s (404: %s). Set api_version to a version this VM's IMDS "
            "supports; GET /metadata/versions lists them." % (version, detail), **common)
    known = {
        401: (ImdsAccessDeniedError, "IMDS refused access (401: %s)."),
        403: (ImdsAccessDeniedError, "IMDS refused access (403: %s). For identity tokens, check that "
                                     "the VM has this managed identity and it may access the resource."),
        404: (ImdsNotFoundError, "IMDS has nothing at this path (404: %s). Check the path and any "
                                 "route parameters; for identity, check that a managed identity is assigned."),
        405: (ImdsMethodNotAllowedError, "IMDS does not allow this HTTP method here (405: %s). Only "
                                         "scheduled events accept POST; everything else is GET."),
        410: (ImdsGoneError, "IMDS answered 410 Gone (%s): the metadata service is restarting or moving. "
                             "Retry in a minute; if it persists, open an Azure support case."),
        429: (ImdsThrottledError, "IMDS kept rate-limiting this VM (429: %s). IMDS allows about 5 requests "
                                  "per second per VM; other processes on the VM may be polling it."),
    }
    if status in known:
        error_class, template = known[status]
        message = template % detail
    elif status == 408 or 500 <= status <= 599:
        error_class = ImdsServerError
        message = "IMDS failed with %d (%s). Retry later; if it persists, open an Azure support case." % (
            status, detail)
    else:
        error_class = ImdsHttpError
        message = "IMDS answered with unexpected status %d (%s)." % (status, detail)
    if give_up_reason and give_up_reason != "this error is not retried":
        message += " Stopped retrying: %s." % give_up_reason
    return error_class("%s URL: %s" % (message, url), **common)


def not_utf8_error(response, url: str, position: int, private: bool) -> ImdsBadResponseError:
    return ImdsBadResponseError(
        "The answer from %s is not UTF-8 text (byte %d). IMDS always sends UTF-8; "
        "something else answered." % (url, position), url=url, status=response.status,
        body=None if private else response.body)


def html_error(text: str, content_type: str, url: str, private: bool) -> ImdsBadResponseError:
    return ImdsBadResponseError(
        "Expected JSON from %s but got HTML (%s). A proxy, captive portal or another web server "
        "answered instead of IMDS; IMDS must be reached directly, without a proxy. Body starts: %s"
        % (url, excerpt(content_type, 60) or "no content type", _quoted(text, private)), url=url,
        body=None if private else text)


def empty_json_error(url: str) -> ImdsBadResponseError:
    return ImdsBadResponseError("IMDS at %s sent an empty body where JSON was expected. Retry later; "
                                "if it persists, something other than IMDS answers." % url, url=url)


def not_json_error(text: str, url: str, problem: Exception, private: bool) -> ImdsBadResponseError:
    """The error for a body that does not parse as JSON; ``problem`` is what the parser raised."""
    if isinstance(problem, RecursionError):
        return ImdsBadResponseError("The JSON from %s is nested too deeply to be an IMDS document." % url, url=url)
    body = None if private else text
    if isinstance(problem, NotJsonNumber):
        return ImdsBadResponseError("The answer from %s is not JSON: %s. Body starts: %s"
                                    % (url, problem, _quoted(text, private)), url=url, body=body)
    return ImdsBadResponseError(
        "The answer from %s is not valid JSON (%s). Body starts: %s. If you asked for a single "
        "value, use format=text." % (url, _json_problem(problem, private), _quoted(text, private)), url=url,
        body=body)


def _error_text(response, private: bool = False) -> str:
    """What the error body says, in a few words; from a private path only its error code."""
    data = error_body(response)
    if private:
        code, description = data.get("error"), data.get("error_description")
        if description in _DOCUMENTED_IDENTITY_ERRORS:
            return "%s: %s" % (code if isinstance(code, str) and _ERROR_CODE_RE.match(code) else "error", description)
        if isinstance(code, str) and _ERROR_CODE_RE.match(code):
            return "error code %s; %s" % (code, NOT_QUOTED)
        return NOT_QUOTED
    for key in ("error_description", "error", "message"):
        if isinstance(data.get(key), str) and data[key]:
            return excerpt(data[key])
    return excerpt(response.body) or excerpt(response.reason) or "no details"


def _quoted(text: str, private: bool, limit: int = 120) -> str:
    return NOT_QUOTED if private else excerpt(text, limit)


def _json_problem(exc: Exception, private: bool) -> str:
    """Where the JSON broke; the decoder's message can quote the text, so private paths get the position only."""
    if private:
        return "at character %s" % getattr(exc, "pos", "?")
    return str(exc)


def _bad_request_error(response, url: str, version: Optional[str], detail: str,
                       common: dict) -> ImdsBadRequestError:
    offered = error_body(response).get("newest-versions")
    lowered = detail.lower()
    if isinstance(offered, list) or "api-version" in lowered:
        versions = [v for v in offered if isinstance(v, str)] if isinstance(offered, list) else []
        return ImdsApiVersionError(
            "IMDS refused api-version %s (400: %s). It offers: %s. Set the api_version option to one "
            "of those (GET /metadata/versions lists all). URL: %s"
            % (version, detail, ", ".join(versions) or "no versions", url), newest_versions=versions, **common)
    if "x-forwarded-for" in lowered:
        hint = "A proxy added X-Forwarded-For: the request went through a proxy. Bypass every proxy for 169.254.169.254."
    elif "metadata" in lowered and "header" in lowered:
        hint = "The Metadata: true header did not arrive; something between this host and IMDS removed it."
    elif "identity not found" in lowered:
        hint = ("The VM has no managed identity matching the request: check client_id, object_id or msi_res_id "
                "against the identities assigned to the VM (or assign one).")
    elif "format" in lowered or "leaf" in lowered:
        hint = "This path is a single value (a leaf): request it with format=text."
    else:
        hint = "Fix the request (path, query parameters); retrying it unchanged will fail again."
    return ImdsBadRequestError("IMDS rejected the request as invalid (400: %s). %s URL: %s" % (detail, hint, url),
                               **common)
