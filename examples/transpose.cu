// Out-of-place fp32 matrix transpose through shared-memory tiles: out (N x M) = in (M x N)^T,
// both row-major, any M, N. The tuning parameters are C++ template arguments
// (spec "pass_params": "template"): ktune compiles the name expression transpose<TILE, RPT, PAD>.
//
// A block moves one TILE x TILE tile: it reads rows of `in` (coalesced), parks them in shared
// memory, and writes rows of `out` from the tile's columns (coalesced again). The block is
// TILE x (TILE / RPT) threads, each moving RPT elements: more work per thread means fewer threads
// and more loads in flight per thread (RPT), bigger tiles mean fewer blocks and longer bursts.
// Reading a tile column hits one shared-memory bank 32 times unless each row is padded by one
// float (PAD = 1), which skews the columns across banks.
template <int TILE, int RPT, int PAD>
__global__ void __launch_bounds__(TILE * (TILE / RPT))
transpose(const float* __restrict__ in, float* __restrict__ out, int M, int N) {
  static_assert(TILE % RPT == 0, "RPT must divide TILE");
  constexpr int ROWS = TILE / RPT;  // blockDim.y
  __shared__ float tile[TILE][TILE + PAD];

  const int tx = threadIdx.x, ty = threadIdx.y;
  const int in_col = blockIdx.x * TILE + tx;  // column of `in`
  const int in_row0 = blockIdx.y * TILE;      // first row of `in` in this tile
#pragma unroll
  for (int j = 0; j < TILE; j += ROWS) {
    const int r = in_row0 + ty + j;
    if (r < M && in_col < N) tile[ty + j][tx] = __ldg(in + (size_t)r * N + in_col);
  }
  __syncthreads();

  const int out_col = blockIdx.y * TILE + tx;  // column of `out` = row of `in`
  const int out_row0 = blockIdx.x * TILE;      // row of `out` = column of `in`
#pragma unroll
  for (int j = 0; j < TILE; j += ROWS) {
    const int r = out_row0 + ty + j;
    if (r < N && out_col < M) out[(size_t)r * M + out_col] = tile[tx][ty + j];
  }
}
