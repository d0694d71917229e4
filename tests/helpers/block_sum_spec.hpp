#pragma once
// A kernel whose constraint names a size (issue #14's `BLOCK * ITEMS <= N`), so that whether a
// configuration is valid depends on the sizes: the spec JSON, with the default's BLOCK given
// (ITEMS = 1; the default then needs N >= default_block).
#include <string>

namespace ktune::testing {

inline std::string block_sum_spec(int default_block) {
  return R"spec({
  "ktune_spec": 1, "name": "block_sum", "source": {"code": "__global__ void block_sum(const float* x, float* y, int n) {}"},
  "entry": "block_sum", "sizes": ["N"],
  "params": {"BLOCK": [64, 128, 256, 512], "ITEMS": [1, 2, 4, 8]},
  "constraints": ["BLOCK * ITEMS <= N"],
  "default": {"BLOCK": )spec" +
         std::to_string(default_block) + R"spec(, "ITEMS": 1},
  "launch": {"grid": ["ceil_div(N, BLOCK * ITEMS)"], "block": ["BLOCK"]},
  "args": [{"name": "x", "type": "const float*", "count": "N", "init": "random"},
           {"name": "y", "type": "float*", "count": "N", "output": true},
           {"name": "n", "type": "int", "value": "N"}],
  "verify": {"against": "default"}
})spec";
}

}  // namespace ktune::testing
