#!/usr/bin/env python3
"""Evaluates examples/cutlass/gemm_sm90*.json for the harness: the launch (grid, block, shared memory,
cluster) and the three tensor_map args (dims, strides, box, swizzle) of one configuration at each
shape, with the spec expression evaluator of tools/bench/compare (ktune_spec.py, ktune's grammar). The
harness (cutlass_gemm_bench --geometry FILE) then launches exactly what the spec says.

Usage: spec_geometry.py SPEC NAME=K1:V1,K2:V2,... --shapes MxNxK[,...]   (unnamed parameters: the default)
One line per shape: NAME M N K gx gy gz block smem cx cy, then for tma_A, tma_W, tma_D:
d0 d1 d2 s1 s2 b0 b1 b2 swizzle.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compare"))
from ktune_spec import Expr  # noqa: E402


def value(expr, env):
    return expr if isinstance(expr, int) else Expr(str(expr)).eval(env)


def main():
    spec_path, config_text = sys.argv[1], sys.argv[2]
    shapes = sys.argv[sys.argv.index("--shapes") + 1]
    raw = json.loads(Path(spec_path).read_text())
    name, assignments = config_text.split("=", 1)
    config = dict(raw["default"])
    for item in assignments.split(","):
        key, text = item.split(":", 1)
        config[key] = text if isinstance(raw["params"][key][0], str) else int(text)
    for key, v in config.items():
        if v not in raw["params"][key]:
            sys.exit(f"{name}: {key}={v} is not one of the spec's values {raw['params'][key]}")
    maps = {a["name"]: a for a in raw["args"] if a.get("type") == "tensor_map"}
    for shape in shapes.split(","):
        m, n, k = (int(x) for x in shape.split("x"))
        env = {**config, "M": m, "N": n, "K": k}
        for c in raw.get("constraints", []):
            if not Expr(c).eval(env):
                sys.exit(f"{name} at {shape}: the spec's constraint fails: {c}")
        launch = raw["launch"]
        grid = [value(g, env) for g in launch["grid"]] + [1] * (3 - len(launch["grid"]))
        block = value(launch["block"][0], env)
        smem = value(launch.get("shared_memory", 0), env)
        cluster = [value(c, env) for c in launch.get("cluster", [1, 1])][:2]
        out = [name, m, n, k, *grid, block, smem, *cluster]
        for map_name in ("tma_A", "tma_W", "tma_D"):
            a = maps[map_name]
            out += [value(d, env) for d in a["dims"]] + [value(s, env) for s in a["strides"]]
            out += [value(b, env) for b in a["box"]] + [value(a.get("swizzle", 0), env)]
        print(" ".join(str(x) for x in out))


if __name__ == "__main__":
    main()
