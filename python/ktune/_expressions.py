"""Python expressions (Kernel Tuner's restrictions, grid divisors, problem sizes) as ktune
expressions (docs/spec.md, "Expressions"), and Python callables as explicit tables.

A string is translated node by node where ktune's integer expression means the same thing; where
it may not (true division `/`, `**`, floor division on values that may be negative, unknown
functions), it is evaluated in Python once per combination of the parameters it names, and the
result becomes an explicit expression over those parameters (`table_expression`). A callable is
evaluated the same way, over the parameters it reads.
"""

import ast
import itertools

# ktune expressions are limited to 4096 characters (docs/spec.md); explicit tables are split
# into constraints below that.
MAX_EXPRESSION_CHARS = 4000
# Python evaluations of one callable or untranslatable string, at most: beyond that the space is
# too large to enumerate in Python in reasonable time, and the caller is told to write a string.
MAX_PYTHON_EVALUATIONS = 2_000_000


class NotTranslatable(Exception):
    """The expression has no exact ktune equivalent; evaluate it in Python instead."""


_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_EXACT_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


class _Translator:
    def __init__(self, names, nonnegative):
        self.names = names              # {python name: ktune expression text}
        self.nonnegative = nonnegative  # every value of every name is >= 0
        self.used = set()

    def __call__(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise NotTranslatable(type(node).__name__)
        return method(node)

    def _Expression(self, node):
        return self(node.body)

    def _Name(self, node):
        if node.id in self.names:
            self.used.add(node.id)
            return self.names[node.id]
        if node.id in ("True", "False"):
            return "1" if node.id == "True" else "0"
        raise NotTranslatable(f"unknown name {node.id!r}")

    def _Constant(self, node):
        if isinstance(node.value, bool):
            return "1" if node.value else "0"
        if isinstance(node.value, int):
            return str(node.value) if node.value >= 0 else f"({node.value})"
        raise NotTranslatable(f"constant {node.value!r}")

    def _BinOp(self, node):
        left, right = self(node.left), self(node.right)
        if type(node.op) in _EXACT_BINARY:
            if isinstance(node.op, ast.Sub):
                self.nonnegative = False  # a difference may be negative: // and % would differ from C
            return f"({left} {_EXACT_BINARY[type(node.op)]} {right})"
        if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and self.nonnegative:
            # Python floors, ktune truncates like C: the same on non-negative operands.
            return f"({left} {'/' if isinstance(node.op, ast.FloorDiv) else '%'} {right})"
        raise NotTranslatable(type(node.op).__name__)

    def _UnaryOp(self, node):
        operand = self(node.operand)
        if isinstance(node.op, ast.Not):
            return f"(!{operand})"
        if isinstance(node.op, ast.USub):
            self.nonnegative = False
            return f"(-{operand})"
        if isinstance(node.op, ast.UAdd):
            return operand
        raise NotTranslatable(type(node.op).__name__)

    def _BoolOp(self, node):
        joiner = " && " if isinstance(node.op, ast.And) else " || "
        return "(" + joiner.join(f"({self(v)} != 0)" for v in node.values) + ")"

    def _Compare(self, node):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators):
            if type(op) in _COMPARE:
                parts.append(f"({self(left)} {_COMPARE[type(op)]} {self(right)})")
            elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                value = self(left)
                member = "(" + " || ".join(f"({value} == {self(e)})" for e in right.elts) + ")" if right.elts else "0"
                parts.append(member if isinstance(op, ast.In) else f"(!{member})")
            else:
                raise NotTranslatable(type(op).__name__)
            left = right
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"

    def _IfExp(self, node):
        return f"(({self(node.test)}) ? {self(node.body)} : {self(node.orelse)})"

    def _Call(self, node):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise NotTranslatable("call")
        name, args = node.func.id, node.args
        if name in ("min", "max") and len(args) >= 2:
            text = self(args[0])
            for a in args[1:]:
                text = f"{name}({text}, {self(a)})"
            return text
        if name == "abs" and len(args) == 1:
            return f"abs({self(args[0])})"
        if name == "int" and len(args) == 1:
            return self(args[0])  # the operand is an integer already when it translates
        raise NotTranslatable(f"function {name}")


def names_in(text):
    """The identifiers a Python expression names, or raises SyntaxError."""
    return {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}


def translate(text, params, constants=None):
    """A Python expression over the tuning parameters (and named integer constants) as a ktune
    expression with exactly the same value, or raises NotTranslatable (SyntaxError for no
    expression at all)."""
    constants = constants or {}
    names = {name: name for name in params}
    names.update({name: str(value) if value >= 0 else f"({value})" for name, value in constants.items()})
    nonnegative = all(v >= 0 for values in params.values() for v in values) and all(
        v >= 0 for v in constants.values())
    translator = _Translator(names, nonnegative)
    return translator(ast.parse(text, mode="eval"))


class _ReadKeys(dict):
    """A configuration that remembers which parameters a callable read."""

    def __init__(self, values, read):
        super().__init__(values)
        self._read = read

    def __getitem__(self, key):
        self._read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._read.add(key)
        return super().get(key, default)


def _conjunction(names, values):
    return " && ".join(f"{n} == {v}" if v >= 0 else f"{n} == ({v})" for n, v in zip(names, values))


def evaluate_per_configuration(function, params, what):
    """Calls function(config_dict) on every configuration of the product of params (once each) and
    returns (names it depends on, {values of those names: result}). The names are the keys the
    function read (a superset is safe: on each call the keys it read decided its result)."""
    names = list(params)
    total = 1
    for values in params.values():
        total *= len(values)
    if total > MAX_PYTHON_EVALUATIONS:
        raise ValueError(
            f"{what}: evaluating it in Python once per configuration would take {total} calls (more than "
            f"{MAX_PYTHON_EVALUATIONS}); write it as a string expression ktune can translate")
    read, results = set(), []
    for combination in itertools.product(*params.values()):
        config = _ReadKeys(zip(names, combination), read)
        results.append((combination, function(config)))
    used = [n for n in names if n in read]
    index = [names.index(n) for n in used]
    table = {}
    for combination, result in results:
        table[tuple(combination[i] for i in index)] = result
    return used, table


def table_constraints(used, table):
    """A boolean table over the parameters `used` as ktune constraints (each under the expression
    length limit): the valid combinations as one disjunction when that fits, else the invalid ones
    excluded, in as many constraints as needed. An empty list when every combination is valid."""
    valid = [k for k, ok in table.items() if ok]
    invalid = [k for k, ok in table.items() if not ok]
    if not invalid:
        return []
    if not valid:
        return ["0"]
    if not used:
        return []
    disjunction = " || ".join(f"({_conjunction(used, k)})" for k in valid)
    if len(disjunction) <= MAX_EXPRESSION_CHARS:
        return [disjunction]
    constraints, current = [], []
    for k in invalid:
        term = f"({_conjunction(used, k)})"
        if current and sum(len(t) + 4 for t in current) + len(term) + 4 > MAX_EXPRESSION_CHARS:
            constraints.append("!(" + " || ".join(current) + ")")
            current = []
        current.append(term)
    constraints.append("!(" + " || ".join(current) + ")")
    return constraints


def table_expression(used, table, what):
    """An integer-valued table over the parameters `used` as one ktune expression (nested ?:)."""
    distinct = sorted(set(table.values()))
    if len(distinct) == 1:
        return str(distinct[0])
    # One branch per distinct value (the most frequent one last, as the fall-through).
    by_value = {}
    for k, v in table.items():
        by_value.setdefault(v, []).append(k)
    ordered = sorted(by_value, key=lambda v: len(by_value[v]))
    text = str(ordered[-1])
    for v in reversed(ordered[:-1]):
        condition = " || ".join(f"({_conjunction(used, k)})" for k in by_value[v])
        text = f"(({condition}) ? {v} : {text})"
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"{what}: its values over the parameters {used} do not fit a ktune expression "
                         f"({len(text)} characters, at most {MAX_EXPRESSION_CHARS}); write it as an "
                         "integer expression of the parameters")
    return text
