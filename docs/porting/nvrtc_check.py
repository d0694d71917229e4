#!/usr/bin/env python3
"""Tiny NVRTC compile check (ctypes, no nvcc): nvrtc_check.py FILE [-n NAME_EXPR]... [NVRTC options...]
Prints OK/FAIL, the lowered names and the log. Single-threaded; -arch defaults to sm_90."""
import ctypes, sys, os
lib = ctypes.CDLL("/usr/local/cuda/lib64/libnvrtc.so")
args = sys.argv[1:]
path = args.pop(0)
names, opts = [], []
while args:
    a = args.pop(0)
    if a == "-n": names.append(args.pop(0))
    else: opts.append(a)
if not any(o.startswith(("-arch", "--gpu-architecture")) for o in opts): opts.append("-arch=sm_90")
src = open(path, "rb").read()
prog = ctypes.c_void_p()
assert lib.nvrtcCreateProgram(ctypes.byref(prog), src, os.path.basename(path).encode(), 0, None, None) == 0
for n in names: assert lib.nvrtcAddNameExpression(prog, n.encode()) == 0
argv = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
rc = lib.nvrtcCompileProgram(prog, len(opts), argv)
sz = ctypes.c_size_t(); lib.nvrtcGetProgramLogSize(prog, ctypes.byref(sz))
log = ctypes.create_string_buffer(sz.value); lib.nvrtcGetProgramLog(prog, log)
print("OK" if rc == 0 else f"FAIL rc={rc}")
if rc == 0:
    for n in names:
        low = ctypes.c_char_p(); r = lib.nvrtcGetLoweredName(prog, n.encode(), ctypes.byref(low))
        print(" ", n, "->", low.value.decode() if r == 0 else f"(no lowered name rc={r})")
l = log.value.decode(errors="replace").strip()
if l: print(l[:3000])
sys.exit(0 if rc == 0 else 1)
