#!/usr/bin/env python3
"""A Kernel Tuner script in the shape of Kernel Tuner's examples/cuda/convolution.py: a 2D
convolution with the filter in __constant__ memory (cmem_args), tiles per thread (grid_div_x/y
lists), a restriction and an answer checked with atol. Runs with Kernel Tuner as written; with
ktune, change the import only (`import ktune as kernel_tuner`)."""
import numpy
import kernel_tuner

KERNEL = """
__constant__ float d_filter[FW * FH];

__global__ void convolution_kernel(float *output, const float *input) {
    int x0 = blockIdx.x * block_size_x * tile_size_x + threadIdx.x;
    int y0 = blockIdx.y * block_size_y * tile_size_y + threadIdx.y;
    #pragma unroll
    for (int ty = 0; ty < tile_size_y; ty++) {
        #pragma unroll
        for (int tx = 0; tx < tile_size_x; tx++) {
            int x = x0 + tx * block_size_x, y = y0 + ty * block_size_y;
            if (x < WIDTH && y < HEIGHT) {
                float sum = 0.0f;
                for (int j = 0; j < FH; j++)
                    for (int i = 0; i < FW; i++)
                        sum += input[(y + j) * (WIDTH + FW - 1) + x + i] * d_filter[j * FW + i];
                output[y * WIDTH + x] = sum;
            }
        }
    }
}
"""


def reference(inp, filt, width, height, fw, fh):
    image = inp.reshape(height + fh - 1, width + fw - 1)
    out = numpy.zeros((height, width), numpy.float32)
    for j in range(fh):
        for i in range(fw):
            out += image[j:j + height, i:i + width] * filt[j * fw + i]
    return out.ravel()


def tune(width=4096, height=4096, fw=7, fh=7):
    problem_size = (width, height)
    inp = numpy.random.randn((width + fw - 1) * (height + fh - 1)).astype(numpy.float32)
    filt = numpy.random.randn(fw * fh).astype(numpy.float32)
    output = numpy.zeros(width * height, numpy.float32)
    answer = [reference(inp, filt, width, height, fw, fh), None]

    tune_params = dict()
    tune_params["block_size_x"] = [16 * i for i in range(1, 9)]
    tune_params["block_size_y"] = [2 ** i for i in range(1, 6)]
    tune_params["tile_size_x"] = [1, 2, 4]
    tune_params["tile_size_y"] = [1, 2, 4]

    results, env = kernel_tuner.tune_kernel(
        "convolution_kernel", KERNEL, problem_size, [output, inp], tune_params,
        grid_div_x=["block_size_x", "tile_size_x"], grid_div_y=["block_size_y", "tile_size_y"],
        restrictions=["block_size_x*block_size_y>=64"], cmem_args={"d_filter": filt},
        compiler_options=[f"-DWIDTH={width}", f"-DHEIGHT={height}", f"-DFW={fw}", f"-DFH={fh}"],
        answer=answer, atol=1e-3, lang="cupy", quiet=True)
    best = min(results, key=lambda r: r["time"])
    print("best:", {k: best[k] for k in tune_params}, f"{best['time']:.4f} ms,", len(results), "configurations")
    return results, env


if __name__ == "__main__":
    tune()
