#pragma once
// The spec of the small Kernel Tuner cache the import and export tests round-trip: two tuned
// parameters with a constraint, nothing to launch (imports and exports never run the kernel).
namespace ktune::testing {

inline constexpr const char* kKernelTunerToySpec = R"({
  "ktune_spec": 1, "name": "toy", "entry": "k",
  "source": {"code": "extern \"C\" __global__ void k(float* out) {}"},
  "sizes": ["N"],
  "params": {"BX": [32, 64, 128], "TX": [1, 2, 4]},
  "constraints": ["BX * TX <= 256"],
  "default": {"BX": 32, "TX": 1},
  "launch": {"grid": [1], "block": [1]},
  "args": [{"name": "out", "type": "float*", "count": 1, "output": true}],
  "verify": false
})";

}  // namespace ktune::testing
