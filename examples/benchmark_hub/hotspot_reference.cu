// Reference for benchmark_hub's hotspot_milo.cu (ktune, issue #16): written independently of the tuned
// kernel, which shares its tile in shared memory, shrinks it step by step and ping-pongs between two
// buffers. Here one thread computes one output cell on its own: it copies the (2 tf + 1)^2 window of the
// input around the cell into local memory and applies the same Rodinia hotspot update tf times, the window's
// valid part shrinking by one cell per step. Compiled by ktune with the configuration's defines
// (temporal_tiling_factor = the configuration's, verify.match), so it answers each time-step count.
// Input layout as the tuned kernel's: (grid_width + 2 max_tfactor) x (grid_height + 2 max_tfactor) arrays,
// output cell (x, y) at input (x + max_tfactor, y + max_tfactor).
#define REF_TF temporal_tiling_factor
#define REF_WINDOW (2 * REF_TF + 1)

__global__ void hotspot_reference(const float* power, const float* temp, float* temp_dst, const float Rx_1,
                                  const float Ry_1, const float Rz_1, const float step_div_cap) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= grid_width || y >= grid_height) return;
  const int input_w = grid_width + 2 * max_tfactor;
  const int x0 = x + max_tfactor - REF_TF;  // the window's corner in the input
  const int y0 = y + max_tfactor - REF_TF;

  float t[2][REF_WINDOW][REF_WINDOW];
  float p[REF_WINDOW][REF_WINDOW];
  for (int j = 0; j < REF_WINDOW; ++j)
    for (int i = 0; i < REF_WINDOW; ++i) {
      t[0][j][i] = t[1][j][i] = temp[(y0 + j) * input_w + x0 + i];
      p[j][i] = power[(y0 + j) * input_w + x0 + i];
    }
  int now = 0;
  for (int step = 1; step <= REF_TF; ++step) {
    // The update as Rodinia writes it (2.0 is a double there too, so the arithmetic matches).
    for (int j = step; j < REF_WINDOW - step; ++j)
      for (int i = step; i < REF_WINDOW - step; ++i) {
        const float c = t[now][j][i];
        t[1 - now][j][i] = c + step_div_cap * (p[j][i] + (t[now][j + 1][i] + t[now][j - 1][i] - 2.0 * c) * Ry_1 +
                                               (t[now][j][i + 1] + t[now][j][i - 1] - 2.0 * c) * Rx_1 +
                                               (80.0f - c) * Rz_1);
      }
    now = 1 - now;
  }
  temp_dst[y * grid_width + x] = t[now][REF_TF][REF_TF];
}
