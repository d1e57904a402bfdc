"""What ansible.windows.win_powershell does with a script's ``$Ansible.Result`` on Windows PowerShell
5.1, read from the real ``plugins/modules/win_powershell.ps1`` of a given ansible.windows release.

Sources (each behaviour below names its own):
- ``win_powershell.ps1`` of ansible.windows 2.1.0 (in ansible 9.0.1), 3.3.0 (ansible 12.3.0, the
  pinned development copy) and 3.8.0 (ansible 14.5.0), unpacked by tools/setup.sh;
- ansible-core's ``lib/ansible/module_utils/csharp/Ansible.Basic.cs`` (2.16 to 2.21 alike here):
  ``ToJson`` runs ``ConvertTo-Json -InputObject $args[0] -Depth 99 -Compress``, and the option
  types ``int`` (``ParseInt``: an int, else ``Int32.Parse`` of its string form), ``str``, ``dict``,
  ``bool``, ``list`` and ``choices``; an option not in the spec fails the module;
- Microsoft's ConvertTo-Json documentation for Windows PowerShell 5.1: an enum is written as its
  number (``-EnumsAsStrings`` only exists from PowerShell 6), a DateTime as ``"\\/Date(ms)\\/"``,
  an array given by ``-InputObject`` stays an array even with one element.

Nothing is assumed about a release: its option spec (``depth`` and ``error_action`` defaults, option
types) and the branches of its ``Convert-OutputObject`` are read from the file with a PowerShell
grammar. Every branch the model knows is keyed by its condition's text; a release whose function has
a branch the model does not know is refused (``UnknownRelease``), never approximated.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

from helpers import paths
from helpers.powershell import Enum, PSObject, Refused, nodes_in, parse, unwrap

# ansible.windows release -> its win_powershell.ps1 (tools/setup.sh puts them there).
RELEASES = {
    "2.1.0": paths.CACHE / "ansible-windows" / "2.1.0" / "ansible_collections" / "ansible" / "windows",
    "3.3.0": paths.COLLECTIONS_PATH / "ansible_collections" / "ansible" / "windows",
    "3.8.0": paths.CACHE / "ansible-windows" / "3.8.0" / "ansible_collections" / "ansible" / "windows",
}
OLDEST, NEWEST = "2.1.0", "3.8.0"


class UnknownRelease(Refused):
    """The release's win_powershell.ps1 does something this model does not know."""


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Convert-OutputObject's branches by condition text (whitespace squeezed), as written in the releases
# read above, in the order the file gives them. Each maps to the name of the rule below.
KNOWN_BRANCHES = {
    "$null -eq $InputObject": "null",
    "(&$isType -InputObject $InputObject -Type ([Enum])) -and $Depth -ge 0": "enum_while_depth_lasts",
    "$InputObject -is [DateTime]": "datetime",
    "&$isType -InputObject $InputObject -Type ([DateTimeOffset])": "datetimeoffset",
    "&$isType -InputObject $InputObject -Type ([Type])": "type",
    "$InputObject -is [string]": "string",
    "&$isType -InputObject $InputObject -Type ([switch])": "switch",
    "$InputObject.GetType().IsValueType": "value_type",
    "'GetType' -in ($InputObject.PSObject | ForEach-Object Methods | ForEach-Object Name) -and "
    "$InputObject.GetType().IsValueType": "value_type",
    "$Depth -lt 0": "flatten_to_string",
    "$InputObject -is [Collections.IList]": "list",
    "$InputObject -is [Collections.IDictionary]": "dictionary",
}


class Release:
    """One ansible.windows release's win_powershell, as its .ps1 says."""

    def __init__(self, version: str, path: Path | None = None) -> None:
        """``path``: another copy of the file (tests change one to see the model follow it)."""
        self.version = version
        path = path or RELEASES[version] / "plugins" / "modules" / "win_powershell.ps1"
        if not path.is_file():
            raise FileNotFoundError("%s is missing: run `make setup` (tools/setup.sh unpacks ansible.windows %s)"
                                    % (path, version))
        self.path = path
        self.text = path.read_text(encoding="utf-8-sig")
        root = parse(self.text).root_node
        self.options = _options(root)
        self.branches = _branches(root)

    def default(self, option: str):
        return self.options[option].get("default")

    # -- Ansible.Basic: the module's options ----------------------------------------------------

    def validated(self, module_args: dict) -> dict:
        """The options as Ansible.Basic hands them to the module, or ValueError with its message."""
        unknown = sorted(set(module_args) - set(self.options))
        if unknown:
            raise ValueError("Unsupported parameters for (ansible.windows.win_powershell) module: %s. Supported "
                             "parameters include: %s" % (", ".join(unknown), ", ".join(sorted(self.options))))
        params = {}
        for name, spec in self.options.items():
            value = module_args.get(name, spec.get("default"))
            if spec.get("required") and value is None:
                raise ValueError("missing required arguments: %s" % name)
            if value is not None:
                value = _typed(name, spec, value)
                if spec.get("choices") and value not in spec["choices"]:
                    raise ValueError("value of %s must be one of: %s, got: %s" % (name, ", ".join(spec["choices"]), value))
            params[name] = value
        return params

    # -- Convert-OutputObject, then ConvertTo-Json on Windows PowerShell 5.1 ---------------------

    def convert(self, value, depth: int):
        """``Convert-OutputObject -InputObject value -Depth depth`` of this release."""
        for rule in self.branches:
            matched, converted = getattr(self, "_" + rule)(value, depth)
            if matched:
                return converted
        return {name: self.convert(item, depth - 1) for name, item in _properties(value).items()}

    def _null(self, value, depth):
        return value is None, None

    def _enum_while_depth_lasts(self, value, depth):
        if isinstance(value, Enum) and depth >= 0:
            return True, {"Type": value.type_name, "String": value.name, "Value": value.value}
        return False, None

    def _datetime(self, value, depth):
        if isinstance(value, datetime.datetime):
            return True, value.isoformat()  # ToString('o')
        return False, None

    def _datetimeoffset(self, value, depth):
        return False, None  # the double's cmdlets return no DateTimeOffset

    def _type(self, value, depth):
        return False, None  # nor System.Type objects

    def _string(self, value, depth):
        return isinstance(value, str), value

    def _switch(self, value, depth):
        return False, None  # nor switch parameters

    def _value_type(self, value, depth):
        # int, bool and enum values (passed on raw, for ConvertTo-Json to write).
        return isinstance(value, (bool, int, float, Enum)), value

    def _flatten_to_string(self, value, depth):
        if depth < 0:
            if isinstance(value, list):
                return True, " ".join(_object_string(item) for item in value)
            return True, _object_string(value)
        return False, None

    def _list(self, value, depth):
        if isinstance(value, list):
            return True, [self.convert(item, depth - 1) for item in value]
        return False, None

    def _dictionary(self, value, depth):
        if isinstance(value, dict):
            return True, {key: self.convert(item, depth - 1) for key, item in value.items()}
        return False, None

    def module_json(self, result: dict) -> str:
        """The module's result as Ansible.Basic writes it (ToJson: ConvertTo-Json on 5.1)."""
        return convert_to_json_51(result)


def convert_to_json_51(value) -> str:
    """``ConvertTo-Json -InputObject value -Depth 99 -Compress`` on Windows PowerShell 5.1."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, datetime.datetime):
        milliseconds = int(value.timestamp() * 1000)
        return '"\\/Date(%d)\\/"' % milliseconds
    if isinstance(value, list):
        return "[" + ",".join(convert_to_json_51(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join("%s:%s" % (json.dumps(str(k)), convert_to_json_51(v)) for k, v in value.items()) + "}"
    if isinstance(value, PSObject):
        return convert_to_json_51(value.properties)
    raise Refused("ConvertTo-Json of %r" % (value,))


def _properties(value) -> dict:
    if isinstance(value, PSObject):
        return value.properties
    raise Refused("Convert-OutputObject of %r" % (value,))


def _object_string(value) -> str:
    """``[string]$InputObject`` of a non-value-type object: PowerShell's LanguagePrimitives.ConvertTo
    string of a PSCustomObject is ``@{a=1; b=2}``; a hashtable gives its type name."""
    if isinstance(value, PSObject):
        return "@{" + "; ".join("%s=%s" % (k, _object_string(v)) for k, v in value.properties.items()) + "}"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def _typed(name: str, spec: dict, value):
    kind = spec.get("type", "str")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError("argument for %s is of type System.Boolean and we were unable to convert to int" % name)
        if isinstance(value, int):
            return value
        text = str(value) if not isinstance(value, float) or not value.is_integer() else str(int(value))
        if not re.fullmatch(r"\s*[+-]?\d+\s*", text) or not -2 ** 31 <= int(text) < 2 ** 31:
            raise ValueError("argument for %s is of type %s and we were unable to convert to int: Input string "
                             "was not in a correct format." % (name, type(value).__name__))
        return int(text)
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind == "dict":
        if not isinstance(value, dict):
            raise ValueError("argument for %s is of type %s and we were unable to convert to dict"
                             % (name, type(value).__name__))
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError("argument for %s is of type %s and we were unable to convert to bool" % (name, type(value).__name__))
    if kind == "list":
        return value if isinstance(value, list) else [value]
    raise Refused("Ansible.Basic option type %s" % kind)


def _hash_entries(node) -> dict:
    """key -> value node of a hash literal's own entries."""
    body = [c for c in node.named_children if c.type == "hash_literal_body"]
    entries = {}
    for entry in (body[0].named_children if body else []):
        if entry.type == "hash_entry":
            key, value = [c for c in entry.named_children if c.type != "comment"][:2]
            entries[key.text.decode()] = value
    return entries


def _literal(node):
    node = unwrap(node)
    text = node.text.decode()
    if node.type == "string_literal":
        return text[1:-1]
    if node.type == "integer_literal":
        return int(text)
    if node.type == "variable" and text.lower() in ("$true", "$false"):
        return text.lower() == "$true"
    if node.type == "array_literal_expression":
        return [_literal(child) for child in node.named_children]
    return text


def _options(root) -> dict:
    """The module's option spec: name -> {type, default, choices, required}, from ``$spec = @{ options = @{ } }``."""
    for assignment in nodes_in(root, "assignment_expression"):
        if assignment.named_children[0].text.decode().strip() != "$spec":
            continue
        spec = _hash_entries(unwrap(nodes_in(assignment, "hash_literal_expression")[0]))
        options = _hash_entries(unwrap(nodes_in(spec["options"], "hash_literal_expression")[0]))
        found = {}
        for name, value in options.items():
            entries = _hash_entries(unwrap(nodes_in(value, "hash_literal_expression")[0]))
            found[name] = {key: _literal(entries[key]) for key in ("type", "default", "choices", "required")
                           if key in entries}
        return found
    raise UnknownRelease("no $spec in win_powershell.ps1")


def _branches(root) -> list:
    """The rule names of Convert-OutputObject's process block, in order."""
    functions = [f for f in nodes_in(root, "function_statement")
                 if any(c.text.decode() == "Convert-OutputObject" for c in f.named_children)]
    if len(functions) != 1:
        raise UnknownRelease("Convert-OutputObject is not defined once")
    [process] = [b for b in nodes_in(functions[0], "named_block") if b.text.decode().lower().startswith("process")]
    chain = nodes_in(process, "if_statement")[0]  # the first: the process block is one if/elseif/else chain
    conditions = [[c for c in chain.named_children if c.type == "pipeline"][0]]
    for clauses in [c for c in chain.named_children if c.type == "elseif_clauses"]:
        for clause in [c for c in clauses.named_children if c.type == "elseif_clause"]:
            conditions.append([c for c in clause.named_children if c.type == "pipeline"][0])
    rules = []
    for condition in conditions:
        text_of = _squeeze(condition.text.decode())
        if text_of not in KNOWN_BRANCHES:
            raise UnknownRelease("Convert-OutputObject has a branch this model does not know: if (%s)" % text_of)
        rules.append(KNOWN_BRANCHES[text_of])
    if not any(c.type == "else_clause" for c in chain.named_children):
        raise UnknownRelease("Convert-OutputObject has no final else (objects' properties)")
    return rules
