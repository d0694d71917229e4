#!/usr/bin/env python3
"""Compile examples/cutlass/gemm_sm90.cu with the real NVRTC (ctypes) to one cubin per configuration.

Usage: nvrtc_compile.py --cutlass INCLUDE_DIR --out DIR [--shims DIR] [--jobs N] NAME=DEFINES ...
  DEFINES: comma-separated NAME:VALUE pairs, e.g.
  coop256=TILE_M:128,TILE_N:256,TILE_K:64,CLUSTER_M:2,CLUSTER_N:1,STAGES:4,KERNEL_SCHEDULE:cutlass::gemm::KernelTmaWarpSpecializedCooperative,...
The options are the ones the spec gives ktune (sm_90a, -default-device, -DNDEBUG, --device-int128,
include dirs: nvrtc_shims first, then CUTLASS, then the toolkit's include/cccl): see
examples/cutlass/README.md.
"""
import argparse, ctypes, concurrent.futures, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "..", "..", "examples", "cutlass", "gemm_sm90.cu")


def compile_one(lib_path, source, options, out_path):
    lib = ctypes.CDLL(lib_path)
    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), source, b"gemm_sm90.cu", 0, None, None) != 0:
        return False, "nvrtcCreateProgram failed", 0.0
    opts = [o.encode() for o in options]
    started = time.time()
    rc = lib.nvrtcCompileProgram(prog, len(opts), (ctypes.c_char_p * len(opts))(*opts))
    seconds = time.time() - started
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    if rc != 0:
        return False, log.value.decode(errors="replace")[-4000:], seconds
    lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetCUBIN(prog, cubin)
    with open(out_path, "wb") as f:
        f.write(cubin.raw)
    warnings = [l for l in log.value.decode(errors="replace").splitlines() if "Performance Loss" in l]
    return True, "\n".join(warnings), seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cutlass", required=True, help="CUTLASS include dir (holds cute/ and cutlass/)")
    ap.add_argument("--shims", default=os.path.join(HERE, "..", "..", "..", "examples", "cutlass", "nvrtc_shims"))
    ap.add_argument("--cuda", default="/usr/local/cuda")
    ap.add_argument("--nvrtc", default=None, help="libnvrtc.so (default: CUDA/lib64/libnvrtc.so)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--source", default=SOURCE, help="default: examples/cutlass/gemm_sm90.cu")
    ap.add_argument("configs", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    source = open(a.source, "rb").read()
    lib_path = a.nvrtc or os.path.join(a.cuda, "lib64", "libnvrtc.so")
    base = ["-arch=sm_90a", "-default-device", "-std=c++17", "-DNDEBUG", "--device-int128",
            f"-I{a.shims}", f"-I{a.cutlass}", f"-I{a.cuda}/include", f"-I{a.cuda}/include/cccl"]
    jobs = {}
    with concurrent.futures.ProcessPoolExecutor(a.jobs) as pool:
        for config in a.configs:
            name, defines = config.split("=", 1)
            opts = base + [f"-D{d.replace(':', '=', 1)}" for d in defines.split(",") if d]
            jobs[name] = pool.submit(compile_one, lib_path, source, opts, os.path.join(a.out, name + ".cubin"))
        failed = False
        for name, job in jobs.items():
            ok, log, seconds = job.result()
            print(f"{name}: {'ok' if ok else 'FAILED'} ({seconds:.0f} s)\n{log}".rstrip(), flush=True)
            failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
