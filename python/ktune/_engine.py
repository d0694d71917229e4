"""The parts of ktune.Engine that are clearer in Python: the
bundled helper executables, the context manager and tune_async's concurrent.futures.Future."""

import concurrent.futures
import os
import threading

from ktune import _ktune

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _bundled(name):
    """The helper executable installed in this package's folder (pip install), or None: the engine
    then finds it as the C++ library does ($KTUNE_WORKER / $KTUNE_RUNNER, the build tree)."""
    path = os.path.join(_PACKAGE_DIR, name)
    return path if os.access(path, os.X_OK) else None


class Engine(_ktune.Engine):
    """One engine: the store (SQLite), the compile workers and the GPU runner.

    Engine(db=None, workers=0, device=0, replay=None, cubin_cache=None, use_cubin_cache=True,
           worker_executable=None, runner_executable=None, worker_idle_timeout=30.0,
           runner_idle_timeout=60.0, warm_start=False)

    db: the store file (None: $KTUNE_DB, else ~/.cache/ktune/ktune.db). workers: compile worker
    processes (0: one per core, at most 32). device: the GPU ordinal. replay: a ktune.Recording to
    measure from instead of a GPU. The helper executables default to the ones bundled with the
    package. Use it as a context manager, or call close().
    """

    def __init__(self, db=None, workers=0, device=0, replay=None, cubin_cache=None,
                 use_cubin_cache=True, worker_executable=None, runner_executable=None,
                 worker_idle_timeout=30.0, runner_idle_timeout=60.0, warm_start=False):
        self._device = device
        super().__init__(
            db=None if db is None else os.fspath(db),
            workers=workers,
            device=device,
            replay=replay,
            cubin_cache=None if cubin_cache is None else os.fspath(cubin_cache),
            use_cubin_cache=use_cubin_cache,
            worker_executable=worker_executable or _bundled("ktune-worker"),
            runner_executable=runner_executable or _bundled("ktune-runner"),
            worker_idle_timeout=worker_idle_timeout,
            runner_idle_timeout=runner_idle_timeout,
            warm_start=warm_start,
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def tune(self, spec, sizes, strategy=None, budget=0, max_seconds=0.0, force=False, refine=False,
             arch=None, seed=1, progress=None, on_evaluation=None):
        """Tunes the spec at these sizes and returns a TuneResult; answers from the lookup table
        when it has an exact answer, unless force or refine. The GIL is released while the engine
        works; progress(Progress) and on_evaluation(Measurement) are called from the engine's thread
        with the GIL held, and the first exception one raises is raised here when the tuning ends.

        strategy: bestfirst (default), coordesc, exhaustive, random. budget: new evaluations at
        most (0: no limit). max_seconds: 0 for no limit. arch: compile for this instead of the GPU's.
        """
        return self._tune_async(spec, sizes, strategy=strategy, budget=budget, max_seconds=max_seconds,
                                force=force, refine=refine, arch=arch, seed=seed, progress=progress,
                                on_evaluation=on_evaluation).result()

    def tune_async(self, spec, sizes, **options):
        """tune() in the background: returns a concurrent.futures.Future of the TuneResult (its
        exception: the tuning's error, or what a callback raised). Takes tune()'s keywords."""
        waiting = self._tune_async(spec, sizes, **options)
        future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()

        def wait():  # the wait itself releases the GIL
            try:
                future.set_result(waiting.result())
            except BaseException as error:  # noqa: BLE001  (handed to the caller through the future)
                future.set_exception(error)

        threading.Thread(target=wait, name="ktune-tune-async", daemon=True).start()
        return future

    def kernel(self, spec, sizes, on_miss="default", **tune_options):
        """The tuned kernel at these sizes as a callable on PyTorch/CuPy tensors (ktune.Kernel):
        looked up now (on_miss: "tune", "default" or "error" when nothing is tuned), compiled,
        loaded on the first call, launched on the caller's current stream."""
        from ktune._launcher import Kernel

        return Kernel(self, spec, sizes, on_miss=on_miss, device=self._device, **tune_options)
