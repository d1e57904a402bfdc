# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by every imds.azure content that talks to IMDS."""

    DOCUMENTATION = r"""
options:
  endpoint:
    description:
      - Base address of IMDS, as C(http://host[:port]) without a path.
      - When not set, the environment variable E(AZURE_IMDS_ENDPOINT) on the managed node is used,
        and then the real IMDS address C(http://169.254.169.254).
      - Meant for tests and emulators. Proxies are never used, whatever this is set to.
    type: str
  timeout:
    description:
      - Seconds to wait for each answer once connected (the read timeout of one attempt).
      - Connecting is limited to 2 seconds, or to O(timeout) when that is smaller.
    type: float
    default: 10
  max_retry_time:
    description:
      - Upper bound, in seconds, on retrying one request. No retry wait is started that would end after
        this many seconds from the first attempt, so a call takes at most O(max_retry_time) plus one
        O(timeout) plus 2 seconds.
      - 410 Gone is retried every 10 seconds for up to 70 seconds; 408, 429, 5xx, resets and timeouts get up
        to 4 retries with waits of 1, 2, 4 and 8 seconds; a C(Retry-After) header replaces the computed wait.
        400, 401, 403, 404 and 405 are never retried.
      - V(0) disables retries.
    type: float
    default: 70
notes:
  - "Requests carry the header C(Metadata: true) and never C(X-Forwarded-For), bypass every proxy (including
    E(http_proxy), E(HTTP_PROXY), E(https_proxy) and E(all_proxy)), never follow redirects, and refuse
    bodies over 1 MiB."
  - One task sends at most 5 requests per second, the IMDS rate limit.
"""

    API_VERSION = r"""
options:
  api_version:
    description:
      - The IMDS api-version to request.
      - If IMDS refuses it and lists the versions it offers, the request is retried once with the newest
        version that both IMDS and this collection know; the returned C(api_version) says which one answered.
    type: str
    default: '2025-04-07'
"""
