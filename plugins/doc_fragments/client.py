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
      - Base address of IMDS, as C(http://host[:port]) without a path. The port, when given, is a number
        from 1 to 65535 (C(:0) is refused, not read as port 80).
      - When not set, the environment variable E(AZURE_IMDS_ENDPOINT) on the managed node is used,
        and then the real IMDS address C(http://169.254.169.254).
      - Meant for tests and emulators. Proxies are never used, whatever this is set to.
    type: str
  timeout:
    description:
      - Seconds one attempt may take in all - connecting, sending, the status line, the headers and the
        body - so a server that sends a byte now and then cannot hold the task longer.
      - Connecting is limited to 2 seconds, or to O(timeout) when that is smaller; it counts against O(timeout).
      - A finite number greater than 0; V(nan), V(inf) and negative values are refused.
    type: float
    default: 10
  max_retry_time:
    description:
      - Upper bound, in seconds, on retrying one request. No retry wait is started that would end after
        this many seconds from the first attempt, so a call takes at most O(max_retry_time) plus one
        O(timeout) plus 2 seconds.
      - 410 Gone is retried every 10 seconds for up to 70 seconds; 408, 5xx, resets and read timeouts get up
        to 4 retries with random waits of up to 1, 2, 4 and 8 seconds.
      - A connection that cannot be made (refused, no route, connect timeout) is retried once, 0.5 seconds
        later; IMDS is served by the Azure host itself, so this is no state it passes through. On a host that
        cannot reach IMDS a task therefore fails within about 0.5 seconds when the connection is refused,
        4.5 seconds when packets are dropped, and 65 seconds at worst when something accepts the connection
        and never answers.
      - For a mixed fleet (some hosts are not Azure VMs), O(timeout=2) with O(max_retry_time=0) fails
        within 2 seconds after one attempt; see the IMDS guide on hosts that cannot reach IMDS.
      - 429 (the VM's 5 requests a second are used up, often by other tasks on the same VM) is retried for
        as long as O(max_retry_time) lasts, with random waits of up to 4, 8, 16, then 32 seconds, so that
        many callers refused at once do not come back at once.
      - A C(Retry-After) header replaces the computed wait. 400, 401, 403, 404 and 405 are never retried.
      - V(0) disables retries. A finite number of 0 or more; V(nan) and V(inf) are refused.
    type: float
    default: 70
  _seal_to:
    description:
      - Internal, set by the action plugin for secret answers (identity tokens, user data); a task that sets it
        fails. The base64 modulus of the task's RSA 2048 public key, to which the module seals its result.
    type: str
notes:
  - "Requests carry the header C(Metadata: true) and never C(X-Forwarded-For), bypass every proxy (including
    E(http_proxy), E(HTTP_PROXY), E(https_proxy) and E(all_proxy)), never follow redirects, and refuse
    bodies over 1 MiB."
  - One task sends at most 5 requests per second, the IMDS rate limit. Many tasks on one VM (forks, or
    metadata tasks delegated to one Azure host) share that limit; see the C(imds.azure) guide on contention.
  - Everything IMDS sends is treated as untrusted text. Answers that are not HTTP or not JSON (including
    V(NaN) and V(Infinity)), a non-numeric C(Content-Length), or bodies over 1 MiB fail with a clear error;
    control characters in a reason phrase or body never reach a message.
"""

    API_VERSION = r"""
options:
  api_version:
    description:
      - The IMDS api-version to request, a date written C(YYYY-MM-DD); anything else (V(2021-2-1), V(latest))
        is refused before any request.
      - If IMDS refuses it and lists the versions it offers, the request is retried once with the newest
        version that both IMDS and this collection know, with a warning naming both; the returned
        C(api_version) says which one answered.
    type: str
    default: '2025-04-07'
"""
