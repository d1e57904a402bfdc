"""Where and when AIA downloads go, end to end through ansible-playbook (issue 18).

First the issue's reproduction in the machine's own namespace: a document signed by a self-made CA
whose certificate names http://127.0.0.1:<port>/internal-admin?action=delete as its issuer URL. The
local server there must receive no request, with the defaults and with the user's own allow-list.

Then, inside a network namespace, an allowed CA host that the test owns: the namespace's own hosts
file (ip-netns(8) mounts /etc/netns/NAME/hosts over /etc/hosts) names www.microsoft.com as a public
address on its loopback device, where a stand-in publication host serves the test intermediate. The
product runs unchanged; nothing leaves the namespace.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time

import pytest
from azure_imds_emulator.pki import EmulatorPki
from azure_imds_emulator.server import ImdsEmulator
from helpers import paths
from helpers.aia_server import PUBLIC_ADDRESS, AiaServer
from helpers.ansible_runner import module_play, run_playbook

NONCE = "4242"
INTERNAL = "/internal-admin?action=delete"
LONG_BASE64 = re.compile(r"MII[A-Za-z0-9+/]{200,}")


def document(pki: EmulatorPki, nonce: str = NONCE) -> dict:
    content = ImdsEmulator().attested_content("2025-04-07", nonce)
    return {"encoding": "pkcs7", "signature": pki.sign(json.dumps(content, separators=(",", ":")).encode())}


def verify_play(cases: dict) -> str:
    """One set_fact per case: the document through the filter with the case's options; then one debug of all."""
    tasks = []
    for name, (doc, options) in cases.items():
        arguments = ", ".join("%s=%s" % (key, json.dumps(value)) for key, value in options.items())
        tasks.append("""    - name: verify {name}
      ansible.builtin.set_fact:
        {name}: "{{{{ doc_{name} | imds.azure.verify_attestation(nonce='{nonce}', {arguments}) }}}}"
      vars:
        doc_{name}: {doc}""".format(name=name, nonce=NONCE, arguments=arguments.replace('"', "'"),
                                    doc=json.dumps(doc)))
    report = "\n".join("          %s: \"{{ %s }}\"" % (name, name) for name in cases)
    return """- hosts: all
  gather_facts: false
  tasks:
%s
    - name: report
      ansible.builtin.debug:
        msg:
%s
""" % ("\n".join(tasks), report)


def test_reproduction_module_sends_nothing_to_the_internal_url(tmp_path, emulator):
    """attestation_info (aia_fetch on by default) on a document whose AIA names the controller's own admin URL."""
    with AiaServer({INTERNAL: (200, {}, b"deleted everything")}) as trap:
        emulator.pki = EmulatorPki(include_intermediate=False,
                                   aia_url="http://127.0.0.1:%d%s" % (trap.port, INTERNAL))
        root = tmp_path / "root.pem"
        emulator.pki.write_root(str(root))
        play = module_play("imds.azure.attestation_info", "ca_path: %s\naia_cache_dir: %s" % (root, tmp_path / "aia"),
                           name="attest", ignore_errors=True)
        run = run_playbook(tmp_path, play, env={"AZURE_IMDS_ENDPOINT": emulator.url}, args=["-vvv"])
        assert trap.requests == []
    task = run.task("attest")
    assert task["status"] == "failed" and task["result"]["checks"]["chain"] is False
    assert any("refused: port %d is not the default port of http" % trap.port in note
               for note in task["result"]["notes"]), task["result"]["notes"]
    assert "Missing intermediate" in task["result"]["msg"] and "see the notes" in task["result"]["msg"]
    # Issue 22: the failure never prints the signature, at any verbosity.
    assert "attested_document" not in task["result"] and not LONG_BASE64.search(run.output)


def test_reproduction_filter_defaults_and_user_allow_list(tmp_path):
    with AiaServer({INTERNAL: (200, {}, b"deleted everything")}) as trap:
        with_port = EmulatorPki(include_intermediate=False, aia_url="http://127.0.0.1:%d%s" % (trap.port, INTERNAL))
        root = tmp_path / "root.pem"
        doc = document(with_port)
        with_port.write_root(str(root))
        base = {"ca_path": str(root), "aia_fetch": True, "aia_cache_dir": str(tmp_path / "aia")}
        cases = {
            "defaults": (doc, base),
            "user_allows_it": (doc, dict(base, aia_allowed_hosts=["127.0.0.1"])),
        }
        run = run_playbook(tmp_path, verify_play(cases))
        assert run.rc == 0, run.output
        assert trap.requests == []
    msg = run.task("report")["result"]["msg"]
    assert any("host 127.0.0.1 is not in aia_allowed_hosts" in n or "port %d" % trap.port in n
               for n in msg["defaults"]["notes"])
    assert any("port %d is not the default port of http" % trap.port in n for n in msg["user_allows_it"]["notes"])
    for name in cases:
        assert msg[name]["verified"] is False and msg[name]["checks"]["signature"] is True


@pytest.fixture
def ca_namespace(make_netns, tmp_path):
    """A namespace where www.microsoft.com is a public address served by a stand-in, and some allowed names
    resolve inward; a trap listens on 127.0.0.1:80 and records whatever reaches it."""
    namespace = make_netns("aia")
    namespace.add_address(PUBLIC_ADDRESS + "/32")
    namespace.set_hosts({"www.microsoft.com": PUBLIC_ADDRESS, "cacerts.digicert.com": "127.0.0.1",
                         "caissuers.microsoft.com": "10.20.30.40", "cacerts.geotrust.com": "100.64.1.2"})
    return namespace


def serve(namespace, tmp_path, name: str, bind: str, routes: dict):
    """Start aia_server.py in the namespace; returns the file its requests are logged to."""
    routes_file, log = tmp_path / ("%s-routes.json" % name), tmp_path / ("%s-requests.log" % name)
    routes_file.write_text(json.dumps({path: [status, headers, base64.b64encode(body).decode()]
                                       for path, (status, headers, body) in routes.items()}))
    log.write_text("")
    process = namespace.spawn([paths.PYTHON, str(paths.TESTS / "helpers" / "aia_server.py"), bind, "80",
                               str(routes_file), str(log)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return log


def test_aia_inside_a_namespace(ca_namespace, tmp_path):
    pkis = {name: EmulatorPki(include_intermediate=False, aia_url=url) for name, url in {
        "published": "http://www.microsoft.com/pkiops/certs/test-ca.crt",
        "redirected": "http://www.microsoft.com/moved",
        "redirected_inside": "http://www.microsoft.com/to-inside",
        "rebinding": "http://cacerts.digicert.com/test-ca.crt",
        "private": "http://caissuers.microsoft.com/test-ca.crt",
        "shared": "http://cacerts.geotrust.com/test-ca.crt",
        "replayed": "http://www.microsoft.com/pkiops/certs/replayed-ca.crt",
    }.items()}
    cases = {}
    for name, pki in pkis.items():
        root = tmp_path / ("%s-root.pem" % name)
        doc = document(pki, nonce="9999" if name == "replayed" else NONCE)
        pki.write_root(str(root))
        cases[name] = (doc, {"ca_path": str(root), "aia_fetch": True, "aia_cache_dir": str(tmp_path / name)})
    publisher = serve(ca_namespace, tmp_path, "publisher", PUBLIC_ADDRESS, {
        "/pkiops/certs/test-ca.crt": (200, {}, pkis["published"].intermediate_der()),
        "/moved": (302, {"Location": "/pkiops/certs/moved-ca.crt"}, b""),
        "/pkiops/certs/moved-ca.crt": (200, {}, pkis["redirected"].intermediate_der()),
        "/to-inside": (302, {"Location": "http://127.0.0.1" + INTERNAL}, b""),
        "/pkiops/certs/replayed-ca.crt": (200, {}, pkis["replayed"].intermediate_der()),
    })
    trap = serve(ca_namespace, tmp_path, "trap", "127.0.0.1", {INTERNAL: (200, {}, b"deleted everything")})
    run = run_playbook(tmp_path, verify_play(cases), prefix=ca_namespace.prefix)
    assert run.rc == 0, run.output
    msg = run.task("report")["result"]["msg"]
    time.sleep(0.1)  # the servers append their logs before answering; this only settles the file reads
    assert publisher.read_text().split() == ["/pkiops/certs/test-ca.crt", "/moved", "/pkiops/certs/moved-ca.crt",
                                             "/to-inside"]
    assert trap.read_text() == ""
    assert msg["published"]["verified"] is True and len(msg["published"]["chain"]) == 3
    assert msg["redirected"]["verified"] is True
    for name, rule in (("redirected_inside", "host 127.0.0.1 is not in aia_allowed_hosts"),
                       ("rebinding", "cacerts.digicert.com resolves to an address that 127.0.0.1 is loopback"),
                       ("private", "caissuers.microsoft.com resolves to an address that 10.20.30.40 is private"),
                       ("shared", "100.64.1.2 is shared address space (100.64.0.0/10)")):
        assert msg[name]["verified"] is False, name
        assert any(rule in note for note in msg[name]["notes"]), (name, msg[name]["notes"])
    assert msg["replayed"]["checks"]["nonce"] is False
    assert "AIA URLs were not followed: the document had already failed" in msg["replayed"]["notes"]
