#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: metadata_info
short_description: Read any path of the Azure Instance Metadata Service
version_added: 0.1.0
description:
  - Sends one GET to C(/metadata/<path>) on the Azure Instance Metadata Service (IMDS) and returns the
    parsed JSON as RV(data), or the raw answer as RV(text) with O(format=text).
  - Works for every category, for example C(versions), C(instance/compute/vmId), C(loadbalancer),
    C(scheduledevents), C(attested/document) and C(identity/info).
  - Use M(imds.azure.metadata_facts) to gather the whole instance document as facts.
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - imds.azure.attributes
  - imds.azure.client
attributes:
  check_mode:
    support: full
    details: The module only reads, so check mode returns the same data.
  async:
    support: partial
    details:
      - POSIX hosts only. On Windows each attempt is a module run of its own, so C(async) is refused.
      - Refused for secret answers (identity tokens, user data), whose async job result would reach the output
        through C(async_status), unhidden.
options:
  path:
    description:
      - The path below C(/metadata/), such as V(instance/network/interface/0/macAddress).
      - Segments are letters, digits, C(_), C(.) and C(-), separated by C(/); array elements are
        addressed by their index. A leading C(/metadata/) is accepted and ignored.
    type: str
    required: true
  format:
    description:
      - V(json) parses the answer into RV(data). V(text) returns it unparsed in RV(text).
      - IMDS answers a single value (a leaf, such as C(instance/compute/vmId)) only with V(text).
      - V(text) exists only for C(instance) paths; it is refused for the others before any request is sent.
      - Not set, the path decides, from the collection's table of IMDS paths - V(text) for a leaf of C(instance)
        (any key below C(compute) or C(network) that is not an object, an array or an array element), V(json)
        for everything else. RV(format) says which one was used. Set V(json) to read as an object a key that
        IMDS added after this collection's table.
      - Earlier versions of this module always defaulted to V(json), so a leaf failed unless V(text) was set.
    type: str
    choices: [json, text]
  api_version:
    description:
      - The IMDS api-version to request.
      - Defaults to V(2025-04-07), to V(2020-07-01) for C(scheduledevents), and to none for C(versions),
        which takes no api-version.
      - A date written C(YYYY-MM-DD); anything else is refused before any request. A version this collection
        knows for another category only (an instance version for C(scheduledevents), as C(module_defaults) for
        the whole group sets) is replaced by the path's default instead of being sent to a certain 400.
      - If IMDS refuses it and lists the versions it offers, the request is retried once with the newest
        version that both IMDS and this collection know, with a warning naming both; RV(api_version) says which
        one answered.
    type: str
  query:
    description:
      - Extra query parameters, for example C(nonce) for C(attested/document) or
        C(resource) for C(identity/oauth2/token).
      - C(api-version) and C(format) have options of their own and are refused here.
    type: dict
    default: {}
  include_user_data:
    description:
      - Return C(compute.userData) and C(compute.customData).
      - When V(false), reading C(instance/compute/userData) or C(instance/compute/customData) fails, and both
        keys are left out of the answers of C(instance) and C(instance/compute).
      - When V(true), the whole task result is hidden from output (as C(no_log) does), because users put
        bootstrap keys and join tokens in user data even though Azure tells them not to. The registered
        variable still holds the data for the next task.
      - The answer is then sealed on the host to a key pair the action plugin makes for the task, so no
        connection plugin can print it either, at any verbosity; see M(imds.azure.identity_token).
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - The api-version, the formats, the retry rules and whether an answer is secret come from one table of
    IMDS paths shared by every module of this collection.
  - An C(identity/oauth2/token) answer holds a bearer token, so its task result is hidden from output at
    every verbosity (as C(no_log) does), and it crosses the connection sealed to the task's own key, as with
    M(imds.azure.identity_token); the registered variable still holds it. Prefer
    M(imds.azure.identity_token), which does the same with clearer options.
  - Error messages for C(identity) and user data paths never quote what IMDS answered; they name the path
    and the status.
seealso:
  - module: imds.azure.metadata_facts
  - module: imds.azure.identity_token
author:
  - imds.azure contributors (@imds-azure)
"""

EXAMPLES = r"""
- name: List the api-versions IMDS supports
  imds.azure.metadata_info:
    path: versions
  register: versions

- name: Read one value (a leaf is read with format text, the default for leaves)
  imds.azure.metadata_info:
    path: instance/compute/vmId
  register: vm_id  # vm_id.text

- name: Read the load balancer metadata
  imds.azure.metadata_info:
    path: loadbalancer
  register: lb

- name: Poll scheduled events
  imds.azure.metadata_info:
    path: scheduledevents
  register: events

- name: Get an attested document with our own nonce
  imds.azure.metadata_info:
    path: attested/document
    query:
      nonce: "{{ 99999999 | random }}"
  register: attested
"""

RETURN = r"""
data:
  description: The parsed JSON answer.
  returned: when O(format=json)
  type: raw
  sample:
    apiVersions: ['2017-03-01', '2025-04-07']
text:
  description: The answer as text.
  returned: when O(format=text)
  type: str
  sample: 02aab8a4-74ef-476e-8182-f6d2ba4166a6
format:
  description: The format used, O(format) or the one the path needs when O(format) is not set.
  returned: success
  type: str
  sample: text
url:
  description: The URL that answered (with its query string).
  returned: always
  type: str
  sample: http://169.254.169.254/metadata/versions
api_version:
  description: The api-version that answered, or null when none was sent.
  returned: success
  type: str
  sample: '2025-04-07'
status:
  description: The HTTP status of the answer.
  returned: success
  type: int
  sample: 200
"""

from ansible_collections.imds.azure.plugins.module_utils._client import metadata_path
from ansible_collections.imds.azure.plugins.module_utils._errors import (
    ImdsApiVersionError,
    ImdsBadRequestError,
    ImdsRequestError,
)
from ansible_collections.imds.azure.plugins.module_utils._module_adapter import (
    client_argument_spec,
    client_from_params,
    run_module,
)
from ansible_collections.imds.azure.plugins.module_utils._path_rules import (
    SECRET_USER_DATA,
    format_for,
    may_be_leaf,
    rule_for,
    segments_of,
    strip_user_data,
    version_for_request,
)


def check_request(segments: tuple, rule, fmt: str, query: dict, include_user_data: bool) -> None:
    """Refuse, before sending anything, what the path table says IMDS or this module will not do."""
    if "format" in query:
        raise ImdsRequestError("Set the answer format with the format option, not in query.")
    if fmt == "text" and not rule.text_format:
        raise ImdsRequestError("format=text exists only for instance paths; %s answers JSON, so use format: json."
                               % "/".join(segments))
    if rule.secret == SECRET_USER_DATA and not include_user_data:
        raise ImdsRequestError(
            "%s is user data, which often holds secrets (bootstrap keys, join tokens). Set include_user_data: true "
            "to read it; the result is then hidden from task output." % "/".join(segments))


def leaf_hint(error: ImdsBadRequestError, segments: tuple, fmt: str) -> ImdsBadRequestError:
    """Add "use format=text" to a 400 on an instance path that may be a leaf."""
    if fmt == "json" and may_be_leaf(segments) and "format=text" not in error.message:
        error.message += (" %s may be a single value (a leaf); IMDS returns leaves only with format=text, "
                          "so set format: text." % "/".join(segments))
    return error


def argument_spec() -> dict:
    spec = client_argument_spec(api_version_default=None)
    spec.update(
        path=dict(type="str", required=True),
        format=dict(type="str", choices=["json", "text"]),
        query=dict(type="dict", default={}),
        include_user_data=dict(type="bool", default=False),
    )
    return spec


def read(params: dict, **context) -> dict:
    """The module result for validated ``params``; raises ImdsError.

    ``context`` (transport, environ) is given when this runs on the controller for a
    Windows host, through the action plugin. The path table (``_path_rules``) decides the
    api-version, the format and what is secret, once.
    """
    segments = segments_of(metadata_path(params["path"]))
    fmt = params["format"] or format_for(segments)
    rule = rule_for(segments)
    query = dict(params["query"])
    check_request(segments, rule, fmt, query, params["include_user_data"])
    if rule.text_format:
        query["format"] = fmt
    client = client_from_params(params, **context)
    try:
        result = client.get(list(segments), params=query, api_version=version_for_request(rule, params["api_version"]),
                            expect=fmt)
    except ImdsApiVersionError:
        raise
    except ImdsBadRequestError as exc:
        raise leaf_hint(exc, segments, fmt)
    output = dict(changed=False, url=result.url, api_version=result.api_version, status=result.status, format=fmt)
    if fmt == "text":
        output["text"] = result.text
    elif rule.contains_user_data and not params["include_user_data"]:
        output["data"] = strip_user_data(result.data, segments)
    else:
        output["data"] = result.data
    return client.with_warnings(output)


def main() -> None:
    run_module(argument_spec(), read)


if __name__ == "__main__":
    main()
