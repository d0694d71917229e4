#!/usr/bin/env python3
"""Makes the small input files of the benchmark_hub specs in this folder, as benchmark_hub's scripts compute them.

    python3 examples/benchmark_hub/make_data.py        (writes next to this script; needs numpy)

The files are committed (each under 10 KB); this script is their recipe. Random data comes from a fixed seed, so
running it again gives the same bytes.
- convolution_filter.npy: the 15x15 filter (float32, normal), kernels/convolution_milo.py's
  `filter_weights = numpy.random.randn(15 * 15)`: both the `filter` argument (read by convolution_naive) and the
  __constant__ d_filter (read by convolution_kernel; Kernel Tuner's cmem_args) are filled from it.
- dedispersion_shifts.npy: the per-channel delays (float32[1536]), get_shifts() of kernels/dedisp_milo/dedispersion_milo.py.
- pnpoly_vertices.npy: the 600-vertex polygon (float32 (600, 2): x, y), Kernel Tuner's examples/cuda/pnpoly.py
  (a unit circle through sorted random angles, clockwise).
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(16)  # issue #16


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array), allow_pickle=False)


def dedispersion_shifts():
    # Constants of dedispersion_milo.py / dedispersion.h.
    nr_samples, nr_channels = 25000, 1536
    channel_bandwidth, sampling_time, min_freq, down_sampling = 0.1953125, 0.00004096, 1425.0, 1
    max_freq = min_freq + ((nr_channels - 1) * channel_bandwidth)
    inverse_high_freq = 1 / max_freq**2
    time_unit = nr_samples * sampling_time
    channels = np.arange(nr_channels, dtype=np.float32)
    inverse_freq = 1.0 / (min_freq + (channels * channel_bandwidth)) ** 2
    shifts = (4148.808 * (inverse_freq - inverse_high_freq) * (nr_samples / down_sampling)) / time_unit
    shifts[-1] = 0
    shifts = shifts.astype(np.float32)
    # dedispersion_milo.py asserts this: every read stays inside a channel's nr_samples + max_shift samples.
    assert 650 > (0.0 + 2048 * 0.02) * shifts[0]
    return shifts


save("convolution_filter.npy", rng.randn(15 * 15).astype(np.float32))
save("dedispersion_shifts.npy", dedispersion_shifts())
angles = np.sort(rng.rand(600) * 2.0 * np.pi)[::-1]
save("pnpoly_vertices.npy", np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32))
print("wrote convolution_filter.npy, dedispersion_shifts.npy, pnpoly_vertices.npy in", HERE)
