"""Managed identities of the emulated VM, and the token endpoint's choice among them.

IMDS (IMDS.md): ``client_id``, ``object_id`` and ``msi_res_id`` select a user-assigned identity and
are mutually exclusive; one that names no identity of the VM, or a VM without any identity, gets
400 ``invalid_request`` "Identity not found". Without a selector the system-assigned identity is used,
or the only user-assigned one.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time

SELECTORS = ("client_id", "object_id", "msi_res_id")
DEFAULT_TENANT_ID = "abd8daee-d393-4239-9377-883adda3d40f"
DEFAULT_CLIENT_ID = "be5947ed-3560-4afe-9504-59967a63f810"
DEFAULT_OBJECT_ID = "0f6a3c9e-3a43-4e63-9c4e-8b0a6f0b1c11"
TOKEN_LIFETIME = 3599

ERR_NOT_FOUND = "Identity not found"
ERR_AMBIGUOUS = ("Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                 "identity in the token request")  # (assumed wording)


class IdentityError(Exception):
    """The request cannot get a token; ``args[0]`` is the error_description IMDS sends with 400."""


class Identities:
    """``system``: the system-assigned identity (dict with client_id, object_id) or None;
    ``user``: user-assigned identities (dicts with client_id, object_id, msi_res_id)."""

    def __init__(self, system: dict | None, user: list | None = None, tenant_id: str = DEFAULT_TENANT_ID) -> None:
        self.system = system
        self.user = list(user or [])
        self.tenant_id = tenant_id
        self.issued_tokens = []  # type: list[str]
        self._lock = threading.Lock()

    @classmethod
    def from_dict(cls, data: dict) -> "Identities":
        """``{"systemAssigned": {...} | null, "userAssigned": [...], "tenantId": ...}`` (a profile's identities)."""
        return cls(data.get("systemAssigned"), data.get("userAssigned"), data.get("tenantId", DEFAULT_TENANT_ID))

    @property
    def any(self) -> bool:
        return self.system is not None or bool(self.user)

    def select(self, params: dict) -> dict:
        """The identity a token request names; raises IdentityError as IMDS would answer 400."""
        chosen = [(key, params[key]) for key in SELECTORS if params.get(key)]
        if not chosen:
            if self.system is not None:
                return self.system
            if len(self.user) == 1:
                return self.user[0]
            raise IdentityError(ERR_AMBIGUOUS if self.user else ERR_NOT_FOUND)
        key, value = chosen[0]
        for identity in self.user + ([self.system] if self.system else []):
            # Azure compares ids case-insensitively (they are GUIDs and ARM ids).
            if str(identity.get(key, "")).lower() == value.lower():
                return identity
        raise IdentityError(ERR_NOT_FOUND)

    def token(self, identity: dict, resource: str) -> dict:
        """A token answer shaped like IMDS's (numbers as strings); the JWT is unsigned but well formed."""
        now = int(time.time())

        def part(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        claims = {"aud": resource, "tid": self.tenant_id, "iat": now, "nbf": now, "exp": now + TOKEN_LIFETIME,
                  "appid": identity.get("client_id", ""), "oid": identity.get("object_id", ""),
                  "jti": base64.urlsafe_b64encode(os.urandom(12)).decode()}
        access_token = ".".join([part({"typ": "JWT", "alg": "none"}), part(claims), "emulator"])
        with self._lock:
            self.issued_tokens.append(access_token)
        return {"access_token": access_token, "client_id": identity.get("client_id", ""),
                "expires_in": str(TOKEN_LIFETIME), "expires_on": str(now + TOKEN_LIFETIME),
                "ext_expires_in": str(TOKEN_LIFETIME), "not_before": str(now), "resource": resource,
                "token_type": "Bearer"}
