"""PowerShell as the tests see it: parsed with a real PowerShell grammar (tree-sitter-powershell),
and a small interpreter for the subset the collection's scripts use, so that a test double acts on
what a script asks instead of recognising it by its identity.

The interpreter runs statement lists of assignments, pipelines of cmdlets with named parameters,
``if``/``else`` on a pipeline, ``try``/``catch`` (untyped), ``@(...)``, ``@{...}``, script blocks
(for Select-Object's calculated properties), ``[string]``/``[int]``/``[bool]`` casts, string,
number and array literals, property access and ``-gt``/``-eq``/``-ne``. Anything else - a native
command, a positional argument, a cmdlet or a parameter the double does not implement, a
redirection, a cast it does not know the result of - is refused with ``Refused``, so a script can
never pass a test by doing something the double merely ignores.

Objects are modelled as Windows PowerShell 5.1 has them: a cmdlet's output is a ``PSObject`` (its
properties, not a dictionary: win_powershell converts the two differently), an enum property is an
``Enum`` (the cast ``[string]`` gives its name, ``[int]`` its number), a hashtable is a dict.

Errors follow about_CommonParameters and about_Preference_Variables (Windows PowerShell 5.1): a
cmdlet reports either a non-terminating error (``NonTerminatingError``: ``-ErrorAction`` or else
``$ErrorActionPreference`` decides - SilentlyContinue/Ignore drop it, Continue writes it to the
error stream and goes on, Stop makes it terminating) or a terminating one (``PowerShellError``:
``-ErrorAction`` does not stop it; only ``try``/``catch`` does). A pipeline assigned to a variable
gives ``$null`` for no output, the object itself for one, an array for more (about_Assignment_Operators);
``@(...)`` always gives an array.
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
    """A terminating error: it ends the script unless a ``try``/``catch`` around it catches it,
    whatever ``-ErrorAction`` says. ``exception_type`` is the .NET type the catch block sees."""

    def __init__(self, message: str, exception_type: str = "System.Management.Automation.RuntimeException") -> None:
        super().__init__(message)
        self.exception_type = exception_type


class NonTerminatingError(PowerShellError):
    """A non-terminating error (Write-Error in a cmdlet): the error action decides what it does."""


class Enum:
    """A .NET enum value: ``[string]`` gives ``name``, ``[int]`` gives ``value``."""

    def __init__(self, type_name: str, name: str, value: int) -> None:
        self.type_name, self.name, self.value = type_name, name, value

    def __repr__(self) -> str:
        return "Enum(%s.%s=%d)" % (self.type_name, self.name, self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, Enum) and (self.type_name, self.value) == (other.type_name, other.value)

    def __hash__(self) -> int:
        return hash((self.type_name, self.value))


class PSObject:
    """An object with properties (a cmdlet's output, Select-Object's rows, a PSCustomObject): not a
    dictionary for win_powershell's Convert-OutputObject. ``hidden`` holds what the double needs
    and PowerShell would not show (the route an object stands for)."""

    def __init__(self, type_name: str, properties: dict, hidden=None) -> None:
        self.type_name = type_name
        self.properties = dict(properties)
        self.hidden = hidden

    def get(self, name: str, default=None):
        for key, value in self.properties.items():
            if key.lower() == name.lower():
                return value
        return default

    def __repr__(self) -> str:
        return "PSObject(%s, %r)" % (self.type_name, self.properties)


class ScriptBlock:
    """``{ ... }``: run by the interpreter that made it, with ``$_`` bound to one object."""

    def __init__(self, interpreter: "Interpreter", node) -> None:
        self.interpreter, self.node = interpreter, node

    def invoke(self, current):
        return self.interpreter.run_block(self.node, current)


def error_record(error: PowerShellError) -> PSObject:
    """``$_`` in a catch block: an ErrorRecord whose Exception has the type and message."""
    exception = PSObject(error.exception_type, {"Message": str(error)})
    return PSObject("System.Management.Automation.ErrorRecord", {"Exception": exception})


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

    def __init__(self, cmdlets: dict, environment: dict | None = None, error_action: str = "Continue") -> None:
        """``error_action``: the ``$ErrorActionPreference`` the host sets before the script runs
        (win_powershell's ``error_action`` option; PowerShell's own default is Continue)."""
        self.cmdlets = {name.lower(): function for name, function in cmdlets.items()}
        self.environment = {k.lower(): v for k, v in (environment or {}).items()}
        self.error_action = error_action
        self.errors = []  # the error stream: non-terminating errors written under Continue

    def run(self, text: str, parameters: dict | None = None) -> dict:
        """{"changed": ..., "result": ...} as win_powershell returns them (``$Ansible.Changed`` default true)."""
        errors = syntax_errors(text)
        if errors:
            raise Refused("the script does not parse: %s" % errors)
        root = parse(text).root_node
        self.variables = {"true": True, "false": False, "null": None, "erroractionpreference": self.error_action,
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
                if any(c.type == "elseif_clauses" for c in statement.named_children):
                    raise Refused("elseif branches")
                otherwise = [c for c in statement.named_children if c.type == "else_clause"]
                if _truthy(self._pipeline(condition)):
                    output += self._block(block)
                elif otherwise:
                    output += self._block([c for c in _named(otherwise[0]) if c.type == "statement_block"][0])
            elif statement.type == "try_statement":
                output += self._try(statement)
            elif statement.type == "pipeline":
                value = self._pipeline(statement)
                output += value if isinstance(value, list) else ([] if value is None else [value])
            else:
                raise Refused("statement %s" % statement.type)
        return output

    def _block(self, block) -> list:
        inner = [c for c in _named(block) if c.type == "statement_list"]
        return self._statements(inner[0]) if inner else []

    def _try(self, statement) -> list:
        """try { } catch { }: a terminating error in the try block runs the catch block with $_ set."""
        body = [c for c in _named(statement) if c.type == "statement_block"][0]
        clauses = [c for c in statement.named_children if c.type == "catch_clauses"]
        if any(c.type == "finally_clause" for c in statement.named_children) or not clauses:
            raise Refused("try without catch, or finally")
        [catch] = _named(clauses[0])
        if any(c.type == "catch_type_list" for c in catch.named_children):
            raise Refused("typed catch clauses")
        try:
            return self._block(body)
        except PowerShellError as exc:
            saved = self.variables.get("_")
            self.variables["_"] = error_record(exc)
            try:
                return self._block([c for c in _named(catch) if c.type == "statement_block"][0])
            finally:
                self.variables["_"] = saved

    def run_block(self, script_block, current):
        """Run a script block's statements with ``$_`` = ``current``; its output (one value or a list)."""
        saved = self.variables.get("_")
        self.variables["_"] = current
        try:
            body = nodes_in(script_block, "statement_list")[:1]
            output = self._statements(body[0]) if body else []
        finally:
            self.variables["_"] = saved
        return _unrolled(output)

    def _pipeline(self, node):
        node = unwrap(node)
        if node.type == "assignment_expression":
            target, _operator, value = _named(node)
            result = self._pipeline(value)
            if unwrap(value).type in ("pipeline_chain", "command"):
                result = _unrolled(result)
            self._assign(unwrap(target), result)
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
            if target.text.decode().lower() != "$null":  # $null = ... discards the output
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
            value, name = self._expression(owner), member.text.decode()
            if isinstance(value, PSObject) and value.get(name, _MISSING) is not _MISSING:
                return value.get(name)
            if name.lower() == "count":
                return len(_as_list(value))
            if isinstance(value, dict) and value is not self.variables["ansible"]:
                return value.get(name)
            raise Refused("member %s of %r" % (name, value))
        if kind == "expression_with_unary_operator":
            [operand] = _named(node)
            return self._expression(operand)
        if kind == "cast_expression":
            type_node, operand = _named(node)
            return cast(type_node.text.decode().strip("[]").lower(), self._expression(operand))
        if kind == "script_block_expression":
            return ScriptBlock(self, node)
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
        body = [c for c in node.named_children if c.type == "hash_literal_body"]
        for entry in [c for c in (body[0].named_children if body else []) if c.type == "hash_entry"]:
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
        action = str(parameters.pop("ErrorAction", self.variables["erroractionpreference"])).lower()
        if action not in ("stop", "continue", "silentlycontinue", "ignore"):
            raise Refused("error action %s" % action)
        try:
            return _as_list(function(parameters, pipeline_input))
        except NonTerminatingError as exc:
            if action == "stop":
                # ActionPreferenceStopException: the error becomes terminating, catchable.
                raise PowerShellError(str(exc), exc.exception_type) from exc
            if action == "continue":
                self.errors.append(str(exc))
            return []

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


_MISSING = object()


def _unrolled(output: list):
    """What a variable receives from a pipeline: $null, the one object, or an array."""
    if not output:
        return None
    return output[0] if len(output) == 1 else output


def cast(type_name: str, value):
    """``[string]``, ``[int]`` and ``[bool]`` as Windows PowerShell 5.1 converts the values the
    collection's scripts cast (about_Type_Conversion); anything else is refused."""
    if type_name == "string":
        if value is None:
            return ""
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, Enum):
            return value.name
        if isinstance(value, (str, int)):
            return str(value)
        if isinstance(value, list):  # $OFS, a space by default
            return " ".join(cast("string", item) for item in value)
        raise Refused("[string] of %r" % (value,))
    if type_name == "int":
        if value is None:
            return 0
        if isinstance(value, Enum):
            value = value.value
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)
        if isinstance(value, int):
            if not -2 ** 31 <= value < 2 ** 31:
                raise PowerShellError("Cannot convert value \"%s\" to type \"System.Int32\". Error: \"Value was either "
                                      "too large or too small for an Int32.\"" % value, "System.InvalidCastException")
            return value
        raise Refused("[int] of %r" % (value,))
    if type_name == "bool":
        if isinstance(value, (bool, int, str, type(None), list)) and not isinstance(value, Enum):
            return _truthy(value)
        raise Refused("[bool] of %r" % (value,))
    raise Refused("the cast [%s]" % type_name)


def _truthy(value) -> bool:
    """PowerShell's truth: an empty array is false, a one-element array is its element's truth."""
    if isinstance(value, list):
        return _truthy(value[0]) if len(value) == 1 else bool(value)
    return bool(value)


def scripts_in(root: Path) -> list:
    return sorted(p for pattern in ("*.ps1", "*.psm1") for p in root.rglob(pattern))
