"""A ktune kernel spec (docs/spec.md) read in Python, for the comparison harness.

Other tuners are given *the same* CUDA source and *the same* valid configurations as ktune, so the
spec's integer expression language (engine/common/expr.hpp) is evaluated here exactly as ktune
does: C precedence, 64-bit values, division truncating toward zero, short-circuit && || ?:.
`python3 ktune_spec.py SPEC --size M=..` prints the valid-configuration count; the CPU test
Compare.SpecSpaceMatchesKtune checks it against `ktune space` for every example, so the two
enumerations cannot drift apart.
"""
import itertools
import json
import re
import sys
from pathlib import Path

# Group 4: a string literal, a named choice compared with its parameter (whose values are strings).
_TOKEN = re.compile(r"\s*(?:(0x[0-9a-fA-F]+|\d+)|([A-Za-z_]\w*)|(\|\||&&|==|!=|<=|>=|[-+*/%<>!?:(),])|('[^']*'|\"[^\"]*\"))")


class ExprError(ValueError):
    pass


def _tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"{text!r}: unexpected character at {pos}")
        out.append(m.group(1) or m.group(2) or m.group(3) or m.group(4))
        pos = m.end()
    return out


def _trunc_div(a, b):
    if b == 0:
        raise ZeroDivisionError
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a, b):
    return a - _trunc_div(a, b) * b


def _log2(a):
    if a <= 0:
        raise ZeroDivisionError
    return a.bit_length() - 1


_FUNCS = {
    "min": (2, min), "max": (2, max), "abs": (1, abs), "log2": (1, _log2),
    "ceil_div": (2, lambda a, b: _trunc_div(a + b - 1, b)),
    "is_pow2": (1, lambda a: int(a > 0 and (a & (a - 1)) == 0)),
}


class Expr:
    """Parsed once; `eval(env)` raises ZeroDivisionError where ktune reports an evaluation error."""

    def __init__(self, text):
        self.text = str(text)
        self._toks = _tokens(self.text)
        self._pos = 0
        self._tree = self._ternary()
        if self._pos != len(self._toks):
            raise ExprError(f"{self.text!r}: unexpected {self._toks[self._pos]!r}")

    # --- parser: builds closures env -> int ---
    def _peek(self):
        return self._toks[self._pos] if self._pos < len(self._toks) else None

    def _take(self, expected=None):
        tok = self._peek()
        if tok is None or (expected and tok != expected):
            raise ExprError(f"{self.text!r}: expected {expected or 'more'}")
        self._pos += 1
        return tok

    def _ternary(self):
        cond = self._binary(0)
        if self._peek() == "?":
            self._take("?")
            a = self._ternary()
            self._take(":")
            b = self._ternary()
            return lambda env: a(env) if cond(env) else b(env)
        return cond

    _LEVELS = [["||"], ["&&"], ["==", "!="], ["<", "<=", ">", ">="], ["+", "-"], ["*", "/", "%"]]
    _OPS = {
        "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
        "<=": lambda a, b: int(a <= b), ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _trunc_div, "%": _c_mod,
    }

    def _binary(self, level):
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while self._peek() in self._LEVELS[level]:
            op = self._take()
            right = self._binary(level + 1)
            if op == "||":
                left = (lambda l, r: lambda env: int(bool(l(env)) or bool(r(env))))(left, right)
            elif op == "&&":
                left = (lambda l, r: lambda env: int(bool(l(env)) and bool(r(env))))(left, right)
            else:
                left = (lambda f, l, r: lambda env: f(l(env), r(env)))(self._OPS[op], left, right)
        return left

    def _unary(self):
        tok = self._peek()
        if tok in ("!", "-", "+"):
            self._take()
            inner = self._unary()
            return {"!": lambda env: int(not inner(env)), "-": lambda env: -inner(env), "+": inner}[tok]
        return self._primary()

    def _primary(self):
        tok = self._take()
        if tok == "(":
            inner = self._ternary()
            self._take(")")
            return inner
        if tok[0].isdigit():
            value = int(tok, 0)
            return lambda env: value
        if tok[0] in "'\"":
            text = tok[1:-1]
            return lambda env: text
        if tok in _FUNCS and self._peek() == "(":
            arity, fn = _FUNCS[tok]
            self._take("(")
            args = [self._ternary()]
            while self._peek() == ",":
                self._take(",")
                args.append(self._ternary())
            self._take(")")
            if len(args) != arity:
                raise ExprError(f"{self.text!r}: {tok} takes {arity} arguments")
            return lambda env: fn(*(a(env) for a in args))
        if tok[0].isalpha() or tok[0] == "_":
            return lambda env: env[tok]
        raise ExprError(f"{self.text!r}: unexpected {tok!r}")

    def eval(self, env):
        return self._tree(env)


def _int_or_expr(value):
    return Expr(value) if isinstance(value, str) else Expr(str(int(value)))


class KernelSpec:
    def __init__(self, path):
        self.path = Path(path)
        raw = json.loads(self.path.read_text())
        self.raw = raw
        self.name = raw["name"]
        # A pipeline (docs/spec.md): its first kernel stands for "the kernel", as in ktune's KernelSpec.
        first = raw["pipeline"][0] if "pipeline" in raw else raw
        self.entry = first["entry"]
        self.source = (self.path.parent / raw["source"]).read_text() if "source" in raw else raw["code"]
        self.size_names = list(raw["sizes"])
        self.params = dict(raw["params"])
        self.constraints = [Expr(c) for c in raw.get("constraints", [])]
        self.default = dict(raw["default"])
        launch = first["launch"]
        self.grid = [_int_or_expr(g) for g in launch["grid"]]
        self.block = [_int_or_expr(b) for b in launch["block"]]
        self.shared_memory = _int_or_expr(launch.get("shared_memory", 0))
        self.args = raw["args"]
        self.metrics = {k: Expr(v) for k, v in raw.get("metrics", {}).items()}

    def is_valid(self, config, sizes):
        env = {**sizes, **config}
        for constraint in self.constraints:
            try:
                if not constraint.eval(env):
                    return False
            except KeyError:
                continue  # names a size that was not given: ktune skips it too (`ktune space` without --size)
            except (ZeroDivisionError, OverflowError):
                return False  # ktune rejects a configuration whose constraint cannot be evaluated
        return True

    def valid_configs(self, sizes):
        names = list(self.params)
        for values in itertools.product(*(self.params[n] for n in names)):
            config = dict(zip(names, values))
            if self.is_valid(config, sizes):
                yield config

    def launch_geometry(self, config, sizes):
        env = {**sizes, **config}
        grid = [g.eval(env) for g in self.grid] + [1] * (3 - len(self.grid))
        block = [b.eval(env) for b in self.block] + [1] * (3 - len(self.block))
        return tuple(grid), tuple(block), self.shared_memory.eval(env)

    def defines(self, config):
        return "".join(f"#define {name} {value}\n" for name, value in config.items())

    def metric(self, name, sizes):
        return self.metrics[name].eval(dict(sizes)) if name in self.metrics else None


def parse_sizes(text):
    return {k: int(v) for k, v in (item.split("=") for item in text.split(","))}


if __name__ == "__main__":
    spec = KernelSpec(sys.argv[1])
    sizes = parse_sizes(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] in ("--size", "-s") else {}
    print(sum(1 for _ in spec.valid_configs(sizes)))
