# -*- coding: utf-8 -*-
# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""TEST DOUBLE of imds.azure.win_imds_attempt (plugins/modules/win_imds_attempt.ps1), in Python.

The tests have no Windows machine. They install this file as win_imds_attempt.py in a test-only
copy of the collection (tests/doubles/windows_double.py), for hosts whose shell reports the
PowerShell family. It does what the .ps1 does, step for step, with real sockets:
connect within connect_timeout_ms; send the request bytes; read until the server closes the
connection, one deadline of read_timeout_ms for the whole answer; stop past max_bytes; seal the
answer when seal_to is given; report failures by the name Windows gives them. Same options, same
return keys, same failure behaviour. There is no proxy and no redirect handling, as a socket has none.

What it models of Windows, and where each comes from:

- Options are read as Ansible.Basic reads them (ansible-core 2.19 ``lib/ansible/module_utils/csharp/
  Ansible.Basic.cs``, ``FromJson`` with .NET Framework's JavaScriptSerializer, ``ParseInt``,
  ``ParseStr``): ``int`` is ``Int32.Parse(value.ToString())`` unless the JSON number already is an
  Int32, so a number past 2^31-1 (an Int64 or Decimal to the serializer) or any fraction fails the
  module with Ansible.Basic's "argument for X is of type Y and we were unable to convert to int: Z".
  The script declares no ``float`` option (``ParseFloat`` is single precision and culture dependent).
- Failures: PowerShell wraps an exception of a .NET method call in ``MethodInvocationException``
  (``$_.Exception``; Microsoft Learn, System.Management.Automation.MethodInvocationException), and
  ``NetworkStream.Read`` wraps a socket failure in ``IOException`` (Microsoft Learn,
  NetworkStream.Read: "IOException ... The underlying Socket is closed" / socket error inside). The
  script walks ``InnerException`` to the innermost one: a ``SocketException`` gives its
  ``SocketErrorCode`` name and message, which is the Windows Sockets error text (Microsoft Learn,
  "Windows Sockets Error Codes"; SocketException.Message is the system message of its code). An errno
  this double cannot map to a Windows code fails the module instead of guessing.
- Sealing: ``RSACryptoServiceProvider.Encrypt(data, $true)`` is OAEP with SHA-1 and MGF1-SHA-1
  (Microsoft Learn, RSACryptoServiceProvider.Encrypt, fOAEP); ``AesCryptoServiceProvider`` defaults to
  CBC mode and PKCS7 padding (Microsoft Learn, SymmetricAlgorithm.Mode / .Padding), with a random IV
  from ``GenerateIV``. Done here with ``cryptography``, as .NET would, not with the collection's own
  ``_seal.py``, so that a bug there does not hide here.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import os
import re
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from cryptography.hazmat.primitives import hashes, padding as block_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

INT32 = (-2 ** 31, 2 ** 31 - 1)
INT64 = (-2 ** 63, 2 ** 63 - 1)
DECIMAL_MAX = 79228162514264337593543950335
OVERFLOW = "Value was either too large or too small for an Int32."
BAD_FORMAT = "Input string was not in a correct format."

# errno -> (System.Net.Sockets.SocketError name, the Windows Sockets message Windows would report).
SOCKET_ERRORS = {
    errno.ECONNREFUSED: ("ConnectionRefused",
                         "No connection could be made because the target machine actively refused it"),
    errno.ENETUNREACH: ("NetworkUnreachable", "A socket operation was attempted to an unreachable network"),
    errno.EHOSTUNREACH: ("HostUnreachable", "A socket operation was attempted to an unreachable host"),
    errno.EADDRNOTAVAIL: ("AddressNotAvailable", "The requested address is not valid in its context"),
    errno.ECONNRESET: ("ConnectionReset", "An existing connection was forcibly closed by the remote host"),
    errno.ECONNABORTED: ("ConnectionAborted",
                         "An established connection was aborted by the software in your host machine"),
    errno.EPIPE: ("Shutdown", "A request to send or receive data was disallowed because the socket had already "
                              "been shut down in that direction with a previous shutdown call"),
    errno.ETIMEDOUT: ("TimedOut", "A connection attempt failed because the connected party did not properly respond "
                                  "after a period of time, or established connection failed because connected host "
                                  "has failed to respond"),
}
HOST_NOT_FOUND = ("HostNotFound", "No such host is known")


class DoubleCannotKnow(Exception):
    """What Windows would do here is not known to the double."""


class DotNetException:
    """A .NET exception as the script sees it: type name, message, the exception it wraps."""

    def __init__(self, type_name: str, message: str, inner: "DotNetException | None" = None,
                 socket_error: str | None = None) -> None:
        self.type_name, self.message, self.inner, self.socket_error = type_name, message, inner, socket_error


def dotnet_failure(exc: OSError, method: str, arguments: int, through_stream: bool) -> DotNetException:
    """What ``$_.Exception`` holds when ``method`` fails the way ``exc`` did: MethodInvocationException around
    (IOException around, for NetworkStream reads and writes) the SocketException."""
    if isinstance(exc, socket.gaierror):
        name, text = HOST_NOT_FOUND
    elif isinstance(exc, socket.timeout):
        name, text = SOCKET_ERRORS[errno.ETIMEDOUT]
    elif getattr(exc, "errno", None) in SOCKET_ERRORS:
        name, text = SOCKET_ERRORS[exc.errno]
    else:
        raise DoubleCannotKnow("the double does not know the Windows socket error of %r" % exc)
    failure = DotNetException("System.Net.Sockets.SocketException", text, socket_error=name)
    if through_stream:
        failure = DotNetException("System.IO.IOException", "Unable to read data from the transport connection: %s."
                                  % text, failure)
    return DotNetException("System.Management.Automation.MethodInvocationException",
                           'Exception calling "%s" with "%d" argument(s): "%s"' % (method, arguments, failure.message),
                           failure)


def innermost(failure: DotNetException) -> DotNetException:
    """Get-InnermostException of the script."""
    while failure.inner is not None:
        failure = failure.inner
    return failure


def socket_error_name(failure: DotNetException) -> str:
    """Get-SocketErrorName of the script: the first SocketException's code, else the innermost type."""
    current = failure
    while current is not None:
        if current.socket_error:
            return current.socket_error
        current = current.inner
    return innermost(failure).type_name


def failure_error(kind: str, failure: DotNetException) -> dict:
    """Set-FailureError of the script."""
    code = socket_error_name(failure)
    if kind == "exchange":
        kind = "read_timeout" if code == "TimedOut" else "connection_failed"
    return {"kind": kind, "code": code, "message": innermost(failure).message}


def dotnet_type(value) -> str:
    """The .NET type JavaScriptSerializer gives a JSON value (numbers: Int32, Int64, Decimal)."""
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        for low_high, name in ((INT32, "System.Int32"), (INT64, "System.Int64")):
            if low_high[0] <= value <= low_high[1]:
                return name
        if abs(value) <= DECIMAL_MAX:
            return "System.Decimal"
    if isinstance(value, float):
        return "System.Decimal"
    if isinstance(value, str):
        return "System.String"
    raise DoubleCannotKnow("the double does not know how JavaScriptSerializer reads %r" % (value,))


def parse_int(value):
    """Ansible.Basic ``ParseInt``: the value, or the .NET exception message Int32.Parse raises."""
    kind = dotnet_type(value)
    if kind == "System.Int32":
        return value
    text = value if isinstance(value, str) else ("True" if value is True else "False" if value is False else None)
    if text is None:
        text = str(value)  # Int64 and Decimal print their digits (a fraction keeps its separator)
    if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
        raise ValueError(BAD_FORMAT)
    number = int(text)
    if not INT32[0] <= number <= INT32[1]:
        raise ValueError(OVERFLOW)
    return number


def basic_params(module: AnsibleModule, int_options: tuple) -> dict:
    """The module's options as Ansible.Basic would hand them to the script, or its failure."""
    params = dict(module.params)
    for name in int_options:
        if params.get(name) is None:
            continue
        try:
            params[name] = parse_int(params[name])
        except ValueError as exc:
            module.fail_json(msg="argument for %s is of type %s and we were unable to convert to int: %s"
                             % (name, dotnet_type(params[name]), exc))
    return params


def seal(modulus_b64: str, plain: bytes) -> dict:
    """Protect-Answer of the script, with what .NET does (see the module docstring)."""
    modulus = int.from_bytes(base64.b64decode(modulus_b64), "big")
    public_key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    material = os.urandom(64)
    wrapped = public_key.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(),
                                                        label=None))
    iv = os.urandom(16)
    padder = block_padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(material[:32]), modes.CBC(iv)).encryptor()
    data = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    header = b"imds.azure.seal.v1\nAES-256-CBC\n"
    mac = hmac.new(material[32:], header + wrapped + iv + data, hashlib.sha256).digest()
    return {"v": 1, "alg": "AES-256-CBC", "key": base64.b64encode(wrapped).decode(), "iv": base64.b64encode(iv).decode(),
            "data": base64.b64encode(data).decode(), "mac": base64.b64encode(mac).decode()}


def set_answer(answer: bytes, seal_to: str | None, result: dict) -> None:
    """Set-Answer of the script."""
    result["received"] = len(answer)
    if seal_to is not None:
        result["sealed"] = seal(seal_to, answer)
    else:
        result["response"] = base64.b64encode(answer).decode("ascii")


def exchange(sock: socket.socket, request: bytes, read_ms: int, max_bytes: int, seal_to: str | None,
             result: dict) -> None:
    started = time.monotonic()
    sock.settimeout(read_ms / 1000.0)
    sock.sendall(request)
    answer = bytearray()
    while True:
        remaining = read_ms / 1000.0 - (time.monotonic() - started)
        if remaining <= 0:
            result["error"] = {"kind": "read_timeout", "code": "TimedOut",
                               "message": "answer not complete before the read deadline"}
            break
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            result["complete"] = True
            break
        answer.extend(chunk)
        if len(answer) > max_bytes:
            result["limit_reached"] = True
            break
    set_answer(bytes(answer), seal_to, result)


def check_seal_to(module: AnsibleModule, seal_to: str | None) -> None:
    if seal_to is None:
        return
    try:
        modulus = base64.b64decode(seal_to)
    except ValueError:
        module.fail_json(msg="seal_to is not base64 text; this option is set by the imds.azure action plugins.")
    if len(modulus) != 256:
        module.fail_json(msg="seal_to is not an RSA 2048 modulus (256 bytes); this option is set by the imds.azure "
                             "action plugins.")


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        address=dict(type="str", required=True),
        port=dict(type="raw", default=80),
        request=dict(type="str", required=True),
        connect_timeout_ms=dict(type="raw", required=True),
        read_timeout_ms=dict(type="raw", required=True),
        max_bytes=dict(type="raw", required=True),
        seal_to=dict(type="str"),
    ), supports_check_mode=True)
    params = basic_params(module, ("port", "connect_timeout_ms", "read_timeout_ms", "max_bytes"))
    check_seal_to(module, params["seal_to"])
    result = dict(changed=False, response="", received=0, complete=False, limit_reached=False, error=None,
                  elapsed=0.0, sealed=None)
    request = base64.b64decode(params["request"])
    started = time.monotonic()
    sock = None
    try:
        try:
            sock = socket.create_connection((params["address"], params["port"]),
                                            timeout=params["connect_timeout_ms"] / 1000.0)
        except socket.timeout:
            result["error"] = {"kind": "connect_timeout", "code": "TimedOut",
                               "message": "no connection within the connect timeout"}
        except OSError as exc:
            result["error"] = failure_error("connect_failed", dotnet_failure(exc, "EndConnect", 1, False))
        if sock is not None:
            try:
                exchange(sock, request, params["read_timeout_ms"], params["max_bytes"], params["seal_to"], result)
            except OSError as exc:
                result["error"] = failure_error("exchange", dotnet_failure(exc, "Read", 3, True))
    except DoubleCannotKnow as exc:
        module.fail_json(msg="TEST DOUBLE refuses: %s" % exc)
    finally:
        if sock is not None:
            sock.close()
    result["elapsed"] = time.monotonic() - started
    module.exit_json(**result)


if __name__ == "__main__":
    main()
