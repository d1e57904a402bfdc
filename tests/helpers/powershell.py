"""PowerShell as the tests see it: parsed with a real PowerShell grammar (tree-sitter-powershell),
and a small interpreter for the subset the collection's scripts use, so that a test double acts on
what a script asks instead of recognising it by its identity.

The interpreter runs statement lists of assignments, pipelines of cmdlets with named parameters,
``if`` on a pipeline, ``@(...)``, ``@{...}``, string, number and array literals, ``$x.Count`` and
``-gt``/``-eq``/``-ne``. Anything else - a native command, a positional argument, a cmdlet or a
parameter the double does not implement, a redirection - is refused with ``Refused``, so a script
can never pass a test by doing something the double merely ignores.
"""

from __future__ import annotations

from pathlib import Path

import tree_sitter
import tree_sitter_powershell

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# Grammar levels that wrap a single expression.
_PASS_THROUGH = {"logical_expression", "bitwise_expression", "comparison_expression", "additive_expression",
                 "multiplicative_expression", "format_expression", "range_expression", "array_literal_expression",
                 "unary_expression", "pipeline_chain", "left_assignment_expression", "pipeline",
                 "expression_with_unary_operator", "parenthesized_expression"}


class Refused(Exception):
    """The script asks for something this interpreter (or the double behind it) does not do."""


class PowerShellError(Exception):
    """A terminating error, as PowerShell would raise it (ErrorActionPreference Stop)."""


def parse(text: str):
    return PARSER.parse(text.encode("utf-8"))


def syntax_errors(text: str) -> list:
    """(line, column, text) of every ERROR or missing node: what makes the grammar reject the script."""
    found = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, node.text.decode("utf-8", "replace")[:60]))
        for child in node.children:
            walk(child)

    walk(parse(text).root_node)
    return found


def nodes(text: str, node_type: str) -> list:
    """Every node of a type, for rules checked over the tree."""
    return nodes_in(parse(text).root_node, node_type)


def unwrap(node):
    while node.type in _PASS_THROUGH and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def _named(node) -> list:
    return [child for child in node.named_children if child.type != "comment"]


class Interpreter:
    """Runs a script against ``cmdlets``: name -> callable(parameters, pipeline_input) -> list of objects.
    A cmdlet raises PowerShellError for a non-terminating error the caller may silence with
    ``-ErrorAction SilentlyContinue``."""

    def __init__(self, cmdlets: dict, environment: dict | None = None) -> None:
        self.cmdlets = {name.lower(): function for name, function in cmdlets.items()}
        self.environment = {k.lower(): v for k, v in (environment or {}).items()}

    def run(self, text: str, parameters: dict | None = None) -> dict:
        """{"changed": ..., "result": ...} as win_powershell returns them (``$Ansible.Changed`` default true)."""
        errors = syntax_errors(text)
        if errors:
            raise Refused("the script does not parse: %s" % errors)
        root = parse(text).root_node
        self.variables = {"true": True, "false": False, "null": None,
                          "ansible": {"changed": True, "result": {}}}
        for child in _named(root):
            if child.type == "param_block":
                self._bind(child, dict(parameters or {}))
            elif child.type == "statement_list":
                self._statements(child)
            else:
                raise Refused("top-level %s" % child.type)
        ansible = self.variables["ansible"]
        return {"changed": bool(ansible["changed"]), "result": ansible["result"]}

    # -- parameters --------------------------------------------------------------------------------

    def _bind(self, block, given: dict) -> None:
        for parameter in nodes_in(block, "script_parameter"):
            name = next(c for c in parameter.named_children if c.type == "variable").text.decode()[1:]
            text = parameter.text.decode()
            mandatory = "Mandatory = $true" in text or "Mandatory=$true" in text
            if name not in given:
                if mandatory:
                    raise PowerShellError("Cannot process command because of one or more missing mandatory "
                                          "parameters: %s." % name)
                self.variables[name.lower()] = None
                continue
            value = given.pop(name)
            if "[int]" in text:
                if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
                    raise PowerShellError("Cannot convert value \"%s\" to type \"System.Int32\"." % value)
                value = int(value)
            elif "[string]" in text:
                value = "" if value is None else str(value)
            if "ValidateSet(" in text:
                allowed = [s.text.decode().strip("'\"") for s in nodes_in(parameter, "string_literal")]
                if value not in allowed:
                    raise PowerShellError("Cannot validate argument on parameter '%s'. The argument \"%s\" does "
                                          "not belong to the set \"%s\"." % (name, value, ",".join(allowed)))
            self.variables[name.lower()] = value
        if given:
            raise PowerShellError("A parameter cannot be found that matches parameter name '%s'." % sorted(given)[0])

    # -- statements --------------------------------------------------------------------------------

    def _statements(self, statement_list) -> list:
        output = []
        for statement in _named(statement_list):
            if statement.type == "if_statement":
                condition, block = [c for c in _named(statement) if c.type in ("pipeline", "statement_block")][:2]
                if any(c.type in ("elseif_clauses", "else_clause") for c in statement.named_children):
                    raise Refused("else branches")
                if _truthy(self._pipeline(condition)):
                    inner = [c for c in _named(block) if c.type == "statement_list"]
                    output += self._statements(inner[0]) if inner else []
            elif statement.type == "pipeline":
                value = self._pipeline(statement)
                output += value if isinstance(value, list) else ([] if value is None else [value])
            else:
                raise Refused("statement %s" % statement.type)
        return output

    def _pipeline(self, node):
        node = unwrap(node)
        if node.type == "assignment_expression":
            target, _operator, value = _named(node)
            self._assign(unwrap(target), self._pipeline(value))
            return None
        if node.type == "pipeline_chain":
            elements = _named(node)
            data = self._command(elements[0], None) if elements[0].type == "command" else _as_list(
                self._expression(elements[0]))
            for element in elements[1:]:
                if element.type != "command":
                    raise Refused("a pipeline element that is not a command: %s" % element.type)
                data = self._command(element, data)
            return data
        if node.type == "command":
            return self._command(node, None)
        return self._expression(node)

    def _assign(self, target, value) -> None:
        if target.type == "variable":
            self.variables[target.text.decode()[1:].lower()] = value
            return
        if target.type == "member_access" and target.text.decode().lower() in ("$ansible.changed", "$ansible.result"):
            self.variables["ansible"][target.text.decode().split(".")[1].lower()] = value
            return
        raise Refused("assignment to %s" % target.text.decode())

    # -- expressions -------------------------------------------------------------------------------

    def _expression(self, node):
        node = unwrap(node)
        kind = node.type
        if kind == "variable":
            return self._variable(node.text.decode()[1:])
        if kind == "string_literal":
            text = node.text.decode()
            if text.startswith('"') and "$" in text:
                raise Refused("expandable strings")
            return text[1:-1]
        if kind == "integer_literal":
            return int(node.text.decode())
        if kind == "generic_token":
            return node.text.decode()
        if kind == "array_literal_expression":
            return [self._expression(child) for child in _named(node)]
        if kind == "array_expression":
            inner = [c for c in _named(node) if c.type == "statement_list"]
            return self._statements(inner[0]) if inner else []
        if kind == "hash_literal_expression":
            return self._hash(node)
        if kind == "member_access":
            owner, member = _named(node)
            value, name = self._expression(owner), member.text.decode().lower()
            if name == "count":
                return len(_as_list(value))
            raise Refused("member %s" % name)
        if kind == "comparison_expression":
            left, operator, right = _named(node)
            a, b, op = self._expression(left), self._expression(right), operator.text.decode().lower()
            if op == "-gt":
                return a > b
            if op in ("-eq", "-ne"):
                return (a == b) == (op == "-eq")
            raise Refused("operator %s" % op)
        raise Refused("expression %s (%s)" % (kind, node.text.decode()[:40]))

    def _variable(self, name: str):
        lowered = name.lower()
        if lowered.startswith("env:"):
            if lowered[4:] not in self.environment:
                raise Refused("environment variable %s" % name)
            return self.environment[lowered[4:]]
        if lowered not in self.variables:
            raise Refused("the variable $%s is used before it is set" % name)
        return self.variables[lowered]

    def _hash(self, node) -> dict:
        table = {}
        for entry in nodes_in(node, "hash_entry"):
            key, value = [c for c in _named(entry) if c.type != "assignement_operator"][:2]
            table[key.text.decode()] = self._pipeline(value)
        return table

    # -- commands ----------------------------------------------------------------------------------

    def _command(self, node, pipeline_input):
        names = [c for c in node.named_children if c.type in ("command_name", "command_name_expr")]
        if not names or names[0].type != "command_name" or any(
                c.type == "command_invokation_operator" for c in node.named_children):
            raise Refused("native or computed commands: %s" % node.text.decode()[:60])
        name = names[0].text.decode()
        parameters = self._parameters(node)
        function = self.cmdlets.get(name.lower())
        if function is None:
            raise Refused("the double does not implement %s" % name)
        action = str(parameters.pop("ErrorAction", "Stop"))
        try:
            return _as_list(function(parameters, pipeline_input))
        except PowerShellError:
            if action == "SilentlyContinue":
                return []
            raise

    def _parameters(self, node) -> dict:
        parameters = {}
        elements = [c for c in (_elements_of(node) or []) if c.type != "command_argument_sep"]
        pending = None
        for element in elements:
            if element.type == "redirection":
                raise Refused("redirection %s" % element.text.decode())
            if element.type == "command_parameter":
                if pending is not None:
                    parameters[pending] = True
                pending = element.text.decode().lstrip("-").rstrip(":")
                continue
            if pending is None:
                raise Refused("positional argument %s" % element.text.decode())
            parameters[pending] = self._expression(element)
            pending = None
        if pending is not None:
            parameters[pending] = True
        return parameters


def _elements_of(node):
    for child in node.named_children:
        if child.type == "command_elements":
            return child.named_children
    return None


def nodes_in(node, node_type: str) -> list:
    found = []

    def walk(current):
        if current.type == node_type:
            found.append(current)
        for child in current.children:
            walk(child)

    walk(node)
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _truthy(value) -> bool:
    """PowerShell's truth: an empty array is false, a one-element array is its element's truth."""
    if isinstance(value, list):
        return _truthy(value[0]) if len(value) == 1 else bool(value)
    return bool(value)


def scripts_in(root: Path) -> list:
    return sorted(p for pattern in ("*.ps1", "*.psm1") for p in root.rglob(pattern))
