# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""What IMDS does at each path, in one table read by every module, plugin and the client.

A path (``/metadata/`` stripped, split at ``/``) is matched by its longest prefix in
``PATH_RULES``. The rule says which api-versions the path knows and which one to
send by default, whether ``format=text`` exists there, whether a 404 is worth
retrying, and whether the answer is a secret that output, errors and logs must
never show.
"""

from typing import Optional, Sequence

from ansible_collections.imds.azure.plugins.module_utils._api_versions import (
    DEFAULT_API_VERSION,
    DEFAULT_SCHEDULED_EVENTS_API_VERSION,
    INSTANCE_API_VERSIONS,
    SCHEDULED_EVENTS_API_VERSIONS,
)

# Kinds of secret an answer can hold.
SECRET_NONE = ""
SECRET_TOKEN = "token"          # identity/oauth2/token: a bearer token
SECRET_USER_DATA = "user_data"  # compute.userData / compute.customData: user-supplied bootstrap data

# Keys of ``compute`` that hold user data (IMDS.md: base64, often holding join keys). The one list:
# metadata_info, metadata_facts and the inventory all leave these out unless include_user_data.
USER_DATA_KEYS = ("userData", "customData")


class PathRule:
    """How IMDS treats the paths under one prefix."""

    __slots__ = ("prefix", "known_versions", "default_version", "text_format", "retry_not_found", "secret",
                 "methods", "contains_user_data", "private")

    def __init__(self, prefix: tuple, known_versions: tuple = INSTANCE_API_VERSIONS,
                 default_version: Optional[str] = DEFAULT_API_VERSION, text_format: bool = False,
                 retry_not_found: bool = False, secret: str = SECRET_NONE, methods: tuple = ("GET",),
                 contains_user_data: bool = False, private: bool = False) -> None:
        self.prefix = prefix
        self.known_versions = known_versions
        self.default_version = default_version
        self.text_format = text_format
        self.retry_not_found = retry_not_found
        self.secret = secret
        self.methods = methods
        # The answer is an object that may carry compute.userData/customData inside it.
        self.contains_user_data = contains_user_data
        # Error messages never quote what these paths answered (bodies, error descriptions).
        self.private = private or bool(secret)

    def __repr__(self) -> str:
        return "PathRule(%s)" % "/".join(self.prefix)


# Longest prefix wins. Sources: IMDS.md (categories, versions, errors, retry practice).
PATH_RULES = (
    # /metadata/versions takes no api-version at all.
    PathRule(("versions",), default_version=None),
    PathRule(("instance",), text_format=True, contains_user_data=True),
    PathRule(("instance", "compute"), text_format=True, contains_user_data=True),
    PathRule(("instance", "compute", "userData"), text_format=True, secret=SECRET_USER_DATA),
    PathRule(("instance", "compute", "customData"), text_format=True, secret=SECRET_USER_DATA),
    PathRule(("attested",)),
    # Identity answers 404 while the identity is still being assigned at start-up: retry it.
    PathRule(("identity",), retry_not_found=True, private=True),
    PathRule(("identity", "oauth2", "token"), retry_not_found=True, secret=SECRET_TOKEN),
    # Standard Load Balancer metadata exists from 2020-10-01 (IMDS.md).
    PathRule(("loadbalancer",), known_versions=tuple(v for v in INSTANCE_API_VERSIONS if v >= "2020-10-01")),
    PathRule(("scheduledevents",), known_versions=SCHEDULED_EVENTS_API_VERSIONS,
             default_version=DEFAULT_SCHEDULED_EVENTS_API_VERSION, methods=("GET", "POST")),
)

# A category this table does not know yet (IMDS adds some now and then) is treated plainly.
UNKNOWN_CATEGORY_RULE = PathRule(())

_RULES_BY_PREFIX = dict((rule.prefix, rule) for rule in PATH_RULES)


def rule_for(segments: Sequence[str]) -> PathRule:
    """The rule of the longest matching prefix of ``segments`` (path segments below /metadata/)."""
    segments = tuple(str(s) for s in segments)
    for length in range(len(segments), 0, -1):
        rule = _RULES_BY_PREFIX.get(segments[:length])
        if rule is not None:
            return rule
    return UNKNOWN_CATEGORY_RULE


def version_for(rule: PathRule, preferred: Optional[str]) -> Optional[str]:
    """``preferred`` if this path knows it, else the path's default (loadbalancer predates no 2019 version)."""
    return preferred if preferred in rule.known_versions else rule.default_version


def version_for_request(rule: PathRule, requested: Optional[str]) -> Optional[str]:
    """The api-version to send to a path of ``rule`` when the task asked for ``requested``.

    A version this collection knows for another category only is replaced by the path's default: an
    instance version set for the whole module_defaults group would be a certain 400 on scheduled
    events, which have versions of their own. A version nobody here knows is sent as it is; IMDS decides.
    """
    if not requested:
        return rule.default_version
    if requested in rule.known_versions:
        return requested
    if requested in INSTANCE_API_VERSIONS or requested in SCHEDULED_EVENTS_API_VERSIONS:
        return rule.default_version
    return requested


def segments_of(request_path: str) -> tuple:
    """``/metadata/a/b`` -> ``("a", "b")``."""
    parts = [p for p in request_path.split("/") if p]
    if parts and parts[0] == "metadata":
        parts = parts[1:]
    return tuple(parts)


def rule_for_path(request_path: str) -> PathRule:
    return rule_for(segments_of(request_path))


def strip_user_data(document: object, segments: Sequence[str]) -> object:
    """Return ``document`` (the JSON answer at ``segments``) without compute.userData/customData."""
    segments = tuple(segments)
    if segments == ("instance",) and isinstance(document, dict) and isinstance(document.get("compute"), dict):
        document = dict(document)
        document["compute"] = without_user_data(document["compute"])
    elif segments == ("instance", "compute") and isinstance(document, dict):
        document = without_user_data(document)
    return document


def without_user_data(compute: dict) -> dict:
    """A copy of the ``compute`` object without the keys of USER_DATA_KEYS."""
    return dict((key, value) for key, value in compute.items() if key not in USER_DATA_KEYS)
