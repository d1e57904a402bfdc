"""Every example of README.md, run the way a user runs it, against the collection installed from its tarball.

The examples are read from README.md itself (so the README as it stands is what is tested), and each
fenced block must be claimed by exactly one check below; a block no check claims fails
``test_every_readme_block_is_claimed`` with its line number and first lines.

The collection comes from the tarball that ``tools/build.sh`` (``make build``) makes, installed with this
line's ``ansible-galaxy collection install <tarball> -p <dir>`` (the README's own install line). Galaxy is
unreachable here, so the install runs with ``--offline`` and the declared dependency (ansible.windows) is
taken from the set-up's ``.cache/collections``, which unpacks it from the ``ansible`` package on PyPI: the
same copy the other tests use. Every Ansible command of a check sees ONLY the install directory and that
dependency (``ANSIBLE_COLLECTIONS_PATH``, no sys.path scan), never this checkout.

The managed host is the controller itself (``ansible_connection=local``) with IMDS answered by the emulator on
127.0.0.1 (``AZURE_IMDS_ENDPOINT``, the override every module honours); the README's paths on the controller
(``/srv/imds-facts``, ``/var/cache/ansible/facts``) are moved into the test's directory. Each check looks at
the effect of its example (facts, groups, the token hidden yet usable, the event approved), not only rc 0.

Examples for Windows hosts run against the PowerShell-family test host (tests/doubles/windows_double.py):
``ansible_connection=local`` with a shell that reports the PowerShell family, so the collection's action
plugins take their Windows branch. Its host-side modules are TEST DOUBLES in test-only copies of the
installed collections (made of links to the install directory, never to this checkout):
imds.azure.win_imds_attempt by its Python double doing real HTTP (fact gathering, inside a network namespace
where the emulator owns 169.254.169.254), or, on the failover-cluster node of the route examples,
ansible.windows.win_powershell, ansible.windows.win_command (``route print`` only) and
imds.azure.win_imds_attempt by tests/doubles/windows_node/module_double.py, which acts on the route double
of tests/doubles/windows_route_double.py (PowerShell scripts through a real PowerShell grammar).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tarfile
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from doubles import win_powershell, windows_double, windows_node
from helpers import paths
from helpers.ansible_runner import base_env, run_playbook
from helpers.fleet import profile
from helpers.inventory import graph_groups
from helpers.served_emulator import ServedEmulator
from doubles.windows_route_double import cluster_node

README = paths.ROOT / "README.md"
# Where the README's controller paths go in a check's directory (a user picks their own).
MOVED_PATHS = {"/srv/imds-facts": "imds-facts", "/var/cache/ansible/facts": "fact-cache"}
# The VM the emulator plays: the placement the README's inventory comment names (zone 1, ...).
VM = profile("readmevm", "1", "0", "0", location="westeurope")
HOSTS_INI = "[azure_vms]\nvm1 ansible_connection=local\n"


class Block(NamedTuple):
    line: int  # of the opening fence
    lang: str
    text: str
    section: str

    def describe(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return "README.md line %d (```%s in %r): %s" % (self.line, self.lang, self.section, first)


def readme_blocks() -> list:
    blocks, section, fence, lines = [], "", None, []
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        if fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif fence is None and line.startswith("```"):
            fence, lines = (number, line[3:].strip()), []
        elif fence is not None and line.startswith("```"):
            blocks.append(Block(fence[0], fence[1], "\n".join(lines) + "\n", section))
            fence = None
        elif fence is not None:
            lines.append(line)
    return blocks


# -- which check runs which block -------------------------------------------------------------------
# check name -> predicate over a block. Every block must match exactly one.
CLAIMS = {
    "make-commands": lambda b: b.lang == "sh" and b.text.startswith("make demo"),
    "install": lambda b: "ansible-galaxy collection install imds" in b.text,
    "facts-play": lambda b: b.text.startswith("- hosts: azure_vms\n  tasks:\n    - imds.azure.metadata_facts:"),
    "play-fact-gathering": lambda b: "ansible_facts_modules:" in b.text or "imds.azure.gather_facts:" in b.text,
    "metadata-info": lambda b: "imds.azure.metadata_info:" in b.text,
    "scheduled-events": lambda b: "imds.azure.scheduled_events:" in b.text,
    "attestation-and-token": lambda b: "imds.azure.attestation_info:" in b.text,
    "module-defaults": lambda b: "module_defaults:" in b.text,
    "route-role": lambda b: "role: imds.azure.imds_route" in b.text,
    "route-tables": lambda b: "imds.azure.parse_routes" in b.text,
    "fleet-from-fact-cache": lambda b: ("fact_caching" in b.text or b.text.startswith("# azure.imds.yml")
                                        or "ansible-inventory -i azure.imds.yml" in b.text),
    "fleet-from-files": lambda b: "imds.azure.save_facts" in b.text,
    "execution-environment": lambda b: "ansible-builder build" in b.text,
    "emulator-by-hand": lambda b: "azure-imds-emulator serve" in b.text,
}

# Blocks this test does not run, and why (shown as the skip reason).
NOT_RUN = {
    "make-commands": "contributors' commands from a clone: `make test` is what runs this test, and "
                     "tests/functional/test_demo.py runs `make demo`'s script",
    "execution-environment": "`ansible-builder build` needs a container engine, which this machine lacks; "
                             "`make ee` (tools/ee.sh) runs `ansible-builder create` and introspection on the same "
                             "definition instead",
}


def claims(block: Block) -> list:
    return [name for name, predicate in CLAIMS.items() if predicate(block)]


def blocks_of(check: str) -> list:
    found = [block for block in readme_blocks() if claims(block) == [check]]
    assert found, "README.md no longer has the example(s) the check %r runs: update this test" % check
    return found


def test_every_readme_block_is_claimed():
    problems = []
    for block in readme_blocks():
        names = claims(block)
        if len(names) != 1:
            problems.append("%s\n  is claimed by %s: each block needs exactly one check in %s"
                            % (block.describe(), names or "no check", Path(__file__).name))
    assert not problems, "\n".join(problems)


def test_the_readme_starts_with_its_two_commands():
    first = readme_blocks()[0]
    assert claims(first) == ["make-commands"], first.describe()
    assert [line.split()[:2] for line in first.text.splitlines()] == [["make", "demo"], ["make", "test"]]


# -- the installed collection ---------------------------------------------------------------------------

class Installed(NamedTuple):
    collections_path: str  # install directory, then the dependencies
    install_dir: Path
    deps_dir: Path
    tarball: Path
    output: str


def build_tarball(out: Path) -> Path:
    """tools/build.sh, as `make build` runs it, into ``out``."""
    env = dict(base_env(out.parent))
    env.update(IMDS_AZURE_BUILD_DIR=str(out), IMDS_AZURE_BUILD_COPY="readme-test-copy")
    has_origin = subprocess.run(["git", "-C", str(paths.ROOT), "remote", "get-url", "origin"], capture_output=True,
                                check=False).returncode == 0
    if not has_origin and "IMDS_AZURE_REPOSITORY" not in env:
        env["IMDS_AZURE_REPOSITORY"] = "file://%s" % paths.ROOT  # what build.sh writes for a local-path origin
    completed = subprocess.run(["bash", str(paths.ROOT / "tools" / "build.sh")], env=env, capture_output=True,
                               text=True, check=False, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return Path(completed.stdout.strip().splitlines()[-1])


def dependency_dir(target: Path) -> Path:
    """The collections galaxy.yml declares, from the set-up's .cache/collections (Galaxy is unreachable)."""
    declared = yaml.safe_load((paths.ROOT / "galaxy.yml").read_text())["dependencies"] or {}
    for name in declared:
        namespace, collection = name.split(".")
        source = paths.COLLECTIONS_PATH / "ansible_collections" / namespace / collection
        assert (source / "MANIFEST.json").exists(), "the declared dependency %s is not in %s: run tools/setup.sh" % (
            name, paths.COLLECTIONS_PATH)
        link = target / "ansible_collections" / namespace / collection
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source)
    return target


def run_shell(work: Path, line: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """One README command line, through bash in the check's directory, as a user types it."""
    for original, moved in MOVED_PATHS.items():
        line = line.replace(original, str(work / moved))
    return subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    """The README's install line for a tarball, run on the tarball tools/build.sh made (once per module)."""
    work = tmp_path_factory.mktemp("readme-install")
    tarball = build_tarball(work / "build")
    [block] = blocks_of("install")
    [line] = [line for line in block.text.splitlines() if ".tar.gz" in line]
    command = line.split("#")[0].strip()
    assert shlex.split(command)[-1] == tarball.name, (
        "the README installs %s but the build makes %s: update the README" % (shlex.split(command)[-1], tarball.name))
    deps = dependency_dir(work / "deps")
    install_dir = work / "collections"
    (work / "home").mkdir()
    env = base_env(work, {"ANSIBLE_COLLECTIONS_PATH": str(deps), "HOME": str(work / "home")})
    # Offline: Galaxy is unreachable; the dependency is found installed in ANSIBLE_COLLECTIONS_PATH.
    completed = run_shell(tarball.parent, "%s -p %s --offline" % (command, install_dir), env)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    collection = install_dir / "ansible_collections" / "imds" / "azure"
    assert collection.is_dir() and not collection.is_symlink(), output
    return Installed("%s:%s" % (install_dir, deps), install_dir, deps, tarball, output)


def test_install_from_the_tarball(installed):
    """The README's tarball line installed the collection and found its declared dependency."""
    assert "imds.azure:" in installed.output and "was installed successfully" in installed.output
    assert re.search(r"'ansible\.windows:[0-9.]+' is already installed", installed.output), installed.output
    manifest = json.loads((installed.install_dir / "ansible_collections/imds/azure/MANIFEST.json").read_text())
    # The oldest ansible.windows the Windows route tests model win_powershell from.
    assert manifest["collection_info"]["dependencies"] == {"ansible.windows": ">=" + win_powershell.OLDEST}
    # The Galaxy line (`ansible-galaxy collection install imds.azure`) needs Galaxy, unreachable here.


def test_the_tarball_leaves_the_emulator_package_out(installed):
    """The emulator is a Python package of its own (pip install ./emulator), not part of the collection."""
    with tarfile.open(installed.tarball) as tarball:
        carried = [name for name in tarball.getnames() if name.startswith(("emulator/", "tests/emulator/"))]
    assert not carried, carried[:5]
    assert not (installed.install_dir / "ansible_collections/imds/azure/emulator").exists()


# -- a user's project directory -------------------------------------------------------------------------

@pytest.fixture
def project(tmp_path, installed, make_emulator):
    """A user's directory: hosts.ini, the environment their commands run in, one VM's IMDS."""
    emulator = make_emulator(profile=VM)
    (tmp_path / "hosts.ini").write_text(HOSTS_INI)
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    (tmp_path / "home").mkdir()
    env = {"ANSIBLE_COLLECTIONS_PATH": installed.collections_path, "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
           "AZURE_IMDS_ENDPOINT": emulator.url, "HOME": str(tmp_path / "home")}
    return Project(tmp_path, emulator, env, installed)


class Project(NamedTuple):
    work: Path
    emulator: object
    env: dict
    installed: Installed

    def playbook(self, text: str, name: str = "site", extra_env: dict | None = None, args: list | None = None,
                 inventory: str = "hosts.ini"):
        env = dict(self.env, **(extra_env or {}))
        run = run_playbook(self.work / name, text, inventory=str(self.work / inventory), env=env, args=args)
        assert run.rc == 0, run.output
        assert "[WARNING]" not in run.stderr.replace("[WARNING]: Collection", ""), run.output
        return run

    def shell(self, line: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        env = base_env(self.work, dict(self.env, **(extra_env or {})))
        completed = run_shell(self.work, line, env)
        assert completed.returncode == 0, "%s\n%s%s" % (line, completed.stdout, completed.stderr)
        return completed


def as_play(tasks: str, extra: str = "", hosts: str = "azure_vms") -> str:
    """A task snippet of the README, as a user puts it in a play for their VMs."""
    body = "".join("    %s\n" % line if line else "\n" for line in tasks.rstrip("\n").splitlines())
    return "- hosts: %s\n  gather_facts: false\n  tasks:\n" % hosts + body + extra


def results(run, task: str) -> list:
    return [r for r in run.results if r["task"] == task]


def debug_messages(run) -> list:
    return [r["result"]["msg"] for r in results(run, "ansible.builtin.debug")]


# -- the checks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("check", sorted(NOT_RUN))
def test_not_run(check):
    blocks_of(check)
    pytest.skip("%s: %s" % (check, NOT_RUN[check]))


def test_facts_play(project):
    [block] = blocks_of("facts-play")
    run = project.playbook(block.text)
    assert debug_messages(run) == ["westeurope zone 1"]
    [facts] = results(run, "imds.azure.metadata_facts")
    assert facts["result"]["ansible_facts"]["azure_imds"]["compute"]["vmId"] == VM["compute"]["vmId"]


def test_play_fact_gathering(project):
    group_vars, play = blocks_of("play-fact-gathering")
    assert group_vars.text.startswith("# group_vars/all.yml\n"), group_vars.describe()
    (project.work / "site" / "group_vars").mkdir(parents=True)
    (project.work / "site" / "group_vars" / "all.yml").write_text(group_vars.text)
    run = project.playbook(play.text)
    [gathered] = results(run, "imds.azure.gather_facts")
    facts = gathered["result"]["ansible_facts"]
    assert facts["azure_imds"]["compute"]["name"] == "readmevm"
    assert facts["ansible_system"] == "Linux"  # ansible.builtin.setup ran too
    assert debug_messages(run) == ["Standard_A3, %s" % facts["ansible_os_family"]]
    assert len(project.emulator.requests_to("/metadata/instance")) == 1


def test_metadata_info(project):
    [block] = blocks_of("metadata-info")
    run = project.playbook(as_play(block.text))
    assert debug_messages(run) == [VM["compute"]["vmId"]]
    assert [r.path for r in project.emulator.requests] == ["/metadata/instance/compute/vmId"]


def test_scheduled_events(project):
    [block] = blocks_of("scheduled-events")
    mine = project.emulator.events.schedule("Reboot", resources=["readmevm"])
    project.emulator.events.schedule("Freeze", resources=["othervm"])
    run = project.playbook(as_play(block.text))
    listed, approved = results(run, "imds.azure.scheduled_events")
    assert [e["event_id"] for e in listed["result"]["events"]] == [mine["EventId"]]
    assert approved["result"]["approved"] == [mine["EventId"]] and approved["result"]["changed"]
    assert [r.method for r in project.emulator.requests if r.method == "POST"] == ["POST"]
    assert mine["EventStatus"] == "Started"


def test_attestation_and_token(project):
    [block] = blocks_of("attestation-and-token")
    root = project.work / "emulator-root.pem"
    project.emulator.pki.write_root(str(root))
    # The test's own task after the example: the token used in a no_log task, as the README says.
    use_token = """    - name: use the token (test)
      ansible.builtin.uri:
        url: "{{ lookup('env', 'AZURE_IMDS_ENDPOINT') }}/metadata/identity/info?api-version=2018-02-01"
        headers:
          Metadata: "true"
          Authorization: "Bearer {{ vault_token.access_token }}"
      no_log: true
"""
    # The controller's trust store is the emulator's test root (Python's ssl honours SSL_CERT_FILE).
    run = project.playbook(as_play(block.text, use_token), extra_env={"SSL_CERT_FILE": str(root)}, args=["-v"])
    [attestation] = results(run, "imds.azure.attestation_info")
    assert attestation["result"]["verified"] is True
    assert attestation["result"]["document"]["vmId"] == VM["compute"]["vmId"]
    [token] = results(run, "imds.azure.identity_token")
    issued = project.emulator.identities.issued_tokens
    assert len(issued) == 1
    everything = run.stdout + run.stderr + json.dumps(run.results)
    assert issued[0] not in everything and issued[0].split(".")[1] not in everything, "the token leaked"
    assert "censored" in json.dumps(token["result"])
    used = project.emulator.requests_to("/metadata/identity/info")
    assert [r.headers["authorization"] for r in used] == ["Bearer " + issued[0]]  # registered, usable


def test_module_defaults(project):
    [block] = blocks_of("module-defaults")
    run = project.playbook(block.text)
    [facts] = results(run, "imds.azure.metadata_facts")
    assert facts["result"]["ansible_facts"]["azure_imds"]["api_version"] == "2021-02-01"
    assert [dict(r.query)["api-version"] for r in project.emulator.requests] == ["2021-02-01"]


def groups_named_in(block: Block) -> list:
    return re.findall(r"\bazure_[a-z_]+[0-9a-z]*", block.text.splitlines()[0])


def test_fleet_from_fact_cache(project):
    config, plugin, commands = blocks_of("fleet-from-fact-cache")
    assert config.text.startswith("# ansible.cfg\n") and plugin.text.startswith("# azure.imds.yml"), config.describe()
    cache_dir = project.work / MOVED_PATHS["/var/cache/ansible/facts"]
    (project.work / "ansible.cfg").write_text(config.text.replace("/var/cache/ansible/facts", str(cache_dir)))
    (project.work / "azure.imds.yml").write_text(plugin.text)
    [facts] = blocks_of("facts-play")
    (project.work / "facts.yml").write_text(facts.text)
    gather, graph = [line.split("#")[0].strip() for line in commands.text.splitlines() if line.strip()]
    project.shell(gather)
    # jsonfile names the entry vm1 (ansible-core 2.16-2.18) or s1_vm1 (2.19+)
    assert [p.name for p in cache_dir.iterdir() if p.name.endswith("vm1")], sorted(cache_dir.iterdir())
    groups = graph_groups(project.shell(graph).stdout)
    expected = groups_named_in(plugin)
    assert len(expected) >= 3
    for group in expected:
        assert groups.get(group) == ["vm1"], (group, groups)


def test_fleet_from_files(project):
    [block] = blocks_of("fleet-from-files")
    save, config, graph = block.text.strip().splitlines()
    project.shell(save)
    saved = json.loads((project.work / "imds-facts" / "vm1.json").read_text())
    assert saved["ansible_facts"]["azure_imds"]["compute"]["name"] == "readmevm"
    project.shell(config)
    groups = graph_groups(project.shell(graph).stdout)
    for group in ("azure_zone_1", "azure_fault_domain_0", "azure_location_westeurope"):
        assert groups.get(group) == ["vm1"], (group, groups)
    assert groups.get("azure_vms") == ["vm1"]  # hosts.ini and the files, one inventory


def test_emulator_by_hand(project, tmp_path):
    """The README's emulator commands: the package (installed by tools/setup.sh with the same pip line,
    editable), its serve line on a free port, the ad-hoc command with the installed collection."""
    [block] = blocks_of("emulator-by-hand")
    install, serve, ad_hoc = block.text.splitlines()
    assert install == "pip install ./emulator"
    assert (paths.ROOT / "emulator" / "pyproject.toml").is_file()
    # The optional arguments in brackets left out; port 0 instead of 8080 (tests run side by side).
    argv = shlex.split(re.sub(r"\[[^]]*\]", "", serve).replace("127.0.0.1:8080", "127.0.0.1:0"))
    assert argv == ["azure-imds-emulator", "serve", "--listen", "127.0.0.1:0"]
    served = ServedEmulator(tmp_path, command=[str(paths.VENV_BIN / argv[0])] + argv[1:2])
    try:
        line = re.sub(r"^AZURE_IMDS_ENDPOINT=\S+", "AZURE_IMDS_ENDPOINT=" + served.url, ad_hoc)
        # No inventory: the implicit localhost, which the tests' strict setting would refuse (users' default: allowed).
        output = project.shell(line, {"ANSIBLE_INVENTORY_UNPARSED_FAILED": "0"}).stdout
    finally:
        served.stop()
    assert "localhost | SUCCESS" in output and '"vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6"' in output, output


# -- Windows hosts (test doubles, see the module docstring) ---------------------------------------------

NODE_DOUBLE = windows_double.DOUBLES / "windows_node" / "module_double.py"
WINDOWS_HOST = " ".join("%s=%s" % item for item in windows_double.WINDOWS_HOST_VARS.items())


def windows_collections(project: Project, name: str, attempt_double: Path, windows_doubles: dict) -> str:
    """ANSIBLE_COLLECTIONS_PATH for the PowerShell-family host: the installed collections, some modules doubled."""
    root = project.work / name
    windows_double.doubled_copy(project.installed.install_dir / "ansible_collections" / "imds" / "azure",
                                root / "ansible_collections" / "imds" / "azure", {"win_imds_attempt": attempt_double})
    windows_double.doubled_copy(project.installed.deps_dir / "ansible_collections" / "ansible" / "windows",
                                root / "ansible_collections" / "ansible" / "windows", windows_doubles)
    return "%s:%s" % (root, windows_double.DOUBLES)


def cluster_node_env(project: Project, node) -> tuple:
    """(environment, state file) for a run against the failover-cluster node double ``node``."""
    state = project.work / "windows-node.pickle"
    windows_node.save(node, state)
    (project.work / "windows.ini").write_text("[windows_clusters]\nnode1 %s\n" % WINDOWS_HOST)
    collections = windows_collections(project, "cluster-node", NODE_DOUBLE,
                                      {"win_powershell": NODE_DOUBLE, "win_command": NODE_DOUBLE})
    env = {"ANSIBLE_COLLECTIONS_PATH": collections, windows_node.STATE_ENV: str(state),
           windows_node.TESTS_DIR_ENV: str(paths.TESTS)}
    return env, state


def test_route_role_on_a_failover_cluster_node(project):
    [block] = blocks_of("route-role")
    node = cluster_node()  # Microsoft's failover-cluster node: 169.254.0.0/16 on the cluster adapter, no IMDS route
    assert not node.imds_reachable()
    env, state = cluster_node_env(project, node)
    run = project.playbook(block.text, extra_env=env, inventory="windows.ini")
    [route] = results(run, "imds.azure.imds_route : Install or remove the IMDS route")
    assert route["result"]["platform"] == "windows", route
    assert route["result"]["changed_stores"] == ["active", "persistent"] and route["result"]["verified"] is True
    node = windows_node.load(state)
    fixed = [(7, "0.0.0.0", 1)]  # through the primary NIC (index 7), metric 1
    assert node.imds_routes("ActiveStore") == fixed and node.imds_routes("PersistentStore") == fixed
    assert node.imds_reachable() and len(node.imds_requests) == 1  # the role's one check that IMDS answers


def test_route_tables_from_route_print(project):
    [block] = blocks_of("route-tables")
    env, _state = cluster_node_env(project, cluster_node())
    run = project.playbook(as_play(block.text, hosts="windows_clusters"), extra_env=env, inventory="windows.ini")
    [printed] = results(run, "ansible.windows.win_command")
    assert "169.254.0.0" in printed["result"]["stdout"] and "Persistent Routes:" in printed["result"]["stdout"]
    [plan] = debug_messages(run)
    assert plan["needed"] is True and plan["add"] == ["active", "persistent"], plan
    assert (plan["interface"], plan["gateway"], plan["metric"]) == ("10.0.1.10", "10.0.1.10", 1), plan
    assert "169.254.0.0/16 on-link on interface 169.254.1.156" in plan["reason"], plan


def test_play_fact_gathering_on_windows(project, make_netns):
    """The same play on a Windows host: imds.azure.gather_facts takes the Windows way (attempts by
    win_imds_attempt on the host), here inside a namespace where the emulator owns 169.254.169.254."""
    group_vars, play = blocks_of("play-fact-gathering")
    namespace = make_netns("readme")
    namespace.add_address("169.254.169.254/32")
    log = project.work / "requests.jsonl"
    namespace.start_emulator("169.254.169.254:80", "--request-log", str(log))
    python = project.work / "python-in-namespace"
    python.write_text('#!/bin/sh\nexec ip netns exec %s %s "$@"\n' % (namespace.name, paths.PYTHON))
    python.chmod(0o755)
    (project.work / "windows.ini").write_text("[azure_vms]\nwin1 %s ansible_python_interpreter=%s\n"
                                              % (WINDOWS_HOST, python))
    (project.work / "site" / "group_vars").mkdir(parents=True)
    (project.work / "site" / "group_vars" / "all.yml").write_text(group_vars.text)
    collections = windows_collections(project, "windows-host", windows_double.ATTEMPT_DOUBLE, {})
    run = project.playbook(play.text, extra_env={"ANSIBLE_COLLECTIONS_PATH": collections}, inventory="windows.ini")
    [gathered] = results(run, "imds.azure.gather_facts")
    assert gathered["result"]["ansible_facts"]["azure_imds"]["compute"]["name"] == "examplevmname"
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    # One request, made the Windows way: win_imds_attempt asks the server to close the connection.
    assert [(r["path"], r["headers"].get("connection")) for r in requests] == [("/metadata/instance", "close")]
    assert debug_messages(run) == ["Standard_A3, %s" % gathered["result"]["ansible_facts"]["ansible_os_family"]]
