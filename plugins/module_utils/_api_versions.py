# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# STABILITY: this module_utils is private to imds.azure. Its names and signatures
# may change in any release; do not import it from other collections.

"""The IMDS api-versions this collection knows, newest last."""

from typing import Optional

# Every version listed by Microsoft's newest IMDS documentation.
INSTANCE_API_VERSIONS = (
    "2017-03-01", "2017-04-02", "2017-08-01", "2017-10-01", "2017-12-01",
    "2018-02-01", "2018-04-02", "2018-10-01", "2019-02-01", "2019-03-11",
    "2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01", "2019-08-15",
    "2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01",
    "2020-12-01", "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01",
    "2021-08-01", "2021-10-01", "2021-11-01", "2021-11-15", "2021-12-13",
    "2023-07-01", "2023-11-15", "2024-03-15", "2024-07-17", "2025-04-07",
)

# Scheduled events are versioned on their own (IMDS.md, Scheduled events).
SCHEDULED_EVENTS_API_VERSIONS = (
    "2017-03-01", "2017-08-01", "2017-11-01", "2019-01-01", "2019-04-01", "2019-08-01", "2020-07-01",
)

DEFAULT_API_VERSION = INSTANCE_API_VERSIONS[-1]
DEFAULT_SCHEDULED_EVENTS_API_VERSION = SCHEDULED_EVENTS_API_VERSIONS[-1]


def newest_known(offered: list, known: tuple = INSTANCE_API_VERSIONS) -> Optional[str]:
    """Return the newest version that IMDS offered and this collection knows, if any.

    ``offered`` comes from an untrusted response body, so anything that is not a
    plain string is ignored rather than trusted.
    """
    candidates = [v for v in offered if isinstance(v, str) and v in known]
    return max(candidates) if candidates else None
