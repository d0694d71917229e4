/*
 * ktune.h — the C API of libktune (C99; compiles as C and as C++).
 *
 * For callers that are not C++: a compiler written in C, Rust, Python (ctypes/cffi), Go (cgo), ...
 * It wraps ktune::Engine (engine/engine.hpp) with opaque handles and status codes. docs/c-api.md
 * has a walk-through; examples/c_lookup/lookup.c is a complete program.
 *
 *   ktune_engine* engine = NULL;
 *   ktune_spec* spec = NULL;
 *   ktune_answer* answer = NULL;
 *   const char* names[] = {"M", "N", "K"};
 *   const int64_t values[] = {4096, 4096, 4096};
 *   if (ktune_engine_create(NULL, &engine) != KTUNE_OK ||
 *       ktune_spec_load_file("sgemm.json", &spec) != KTUNE_OK ||
 *       ktune_lookup(engine, spec, names, values, 3, "NVIDIA H100 80GB HBM3", "sm_90", &answer) != KTUNE_OK) {
 *     fprintf(stderr, "ktune: %s\n", ktune_last_error_message());
 *   }
 *   ... ktune_answer_get(answer, "BM", &bm) ...
 *   ktune_answer_destroy(answer); ktune_spec_destroy(spec); ktune_engine_destroy(engine);
 *
 * Conventions
 * - Every function that can fail returns a ktune_status; KTUNE_OK (0) is success. Results come
 *   back through out-parameters, which are written only on success.
 * - On failure, ktune_last_error_message() says what went wrong in one line (naming the spec
 *   field, the size, the file, ...). The message is thread-local: each thread sees the outcome of
 *   its own last call. It is "" after a success, and the pointer stays valid until the next call
 *   of a status-returning ktune function on the same thread.
 * - A NULL handle, out-parameter or required string is an error (KTUNE_ERROR_INVALID_ARGUMENT),
 *   never a crash. The *_destroy functions accept NULL and do nothing (like free).
 * - Ownership: whatever a *_create / *_load / ktune_lookup / ktune_tune call hands out belongs to
 *   the caller, who releases it with the matching *_destroy. Strings returned by accessors belong
 *   to the handle they came from and live as long as it. Strings passed in are copied; the
 *   caller may free them as soon as the call returns.
 * - No C++ exception crosses this boundary: anything unexpected becomes KTUNE_ERROR_INTERNAL with
 *   the exception's text as the message.
 * - Thread safety: an engine may be used from several threads at once (lookups run concurrently;
 *   tunings on one engine take turns, the GPU being one resource). Specs and answers are
 *   immutable once made, so they may be shared between threads; destroying a handle while another
 *   thread uses it is the caller's bug.
 * - Versioning: KTUNE_C_API_VERSION is the version of this header; ktune_c_api_version() returns
 *   the version of the library at run time. They differ only when a program built against one
 *   header runs with another library. New functions and new rule values keep the version; any
 *   other change (a struct's layout, a function's signature) bumps it.
 */
#ifndef KTUNE_H
#define KTUNE_H

#include <stddef.h>
#include <stdint.h>

#define KTUNE_C_API_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define KTUNE_API __attribute__((visibility("default")))
#else
#define KTUNE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes; they mirror ktune::Errc (engine/common/result.hpp) and their values never change. */
typedef enum ktune_status {
  KTUNE_OK = 0,
  KTUNE_ERROR_INVALID_SPEC = 1,     /* the kernel spec is malformed or contradicts itself */
  KTUNE_ERROR_INVALID_ARGUMENT = 2, /* a caller-supplied value is wrong: NULL, sizes, options */
  KTUNE_ERROR_IO = 3,               /* a file could not be read or written */
  KTUNE_ERROR_NOT_FOUND = 4,        /* the thing asked for does not exist (a file, a parameter) */
  KTUNE_ERROR_NO_GPU = 5,           /* no driver or no device where one is needed */
  KTUNE_ERROR_CORRUPT = 6,          /* stored data failed validation */
  KTUNE_ERROR_CONFLICT = 7,         /* an operation would overwrite something it was told not to */
  KTUNE_ERROR_UNSUPPORTED = 8,      /* valid, but not something this build can do */
  KTUNE_ERROR_INTERNAL = 9          /* anything else (an unexpected exception, out of memory) */
} ktune_status;

/* Which rule of the lookup table produced an answer (docs/lookup-table.md, store/lookup.hpp). */
typedef enum ktune_rule {
  KTUNE_RULE_EXACT = 0,        /* tuned for exactly these sizes on this device and toolchain */
  KTUNE_RULE_NEAREST_SIZE = 1, /* the same device's closest tuned sizes */
  KTUNE_RULE_SAME_ARCH = 2,    /* another device of the same architecture */
  KTUNE_RULE_DEFAULT = 3,      /* nothing usable: the spec's default configuration */
  KTUNE_RULE_TUNED = 4,        /* ktune_tune only: measured just now (and remembered) */
  KTUNE_RULE_BUCKET = 5        /* tuned for the bucket of these sizes (the spec's "buckets") */
} ktune_rule;

/* Opaque handles. */
typedef struct ktune_engine ktune_engine; /* the store, the compile pool and the GPU runner */
typedef struct ktune_spec ktune_spec;     /* a parsed kernel spec (docs/spec.md) */
typedef struct ktune_answer ktune_answer; /* a configuration and where it came from */
typedef struct ktune_binary ktune_binary; /* a tuned configuration's cubin and launch geometry */

/* How an engine lives inside a long-running process. Fill with ktune_engine_options_init, then
 * change what you need. The defaults suit an embedded engine: nothing starts before it is needed,
 * compile workers exit after 30 s idle, the GPU runner frees the problem's buffers after each
 * request and exits (giving all its GPU memory back) after 60 s idle; both start again on demand.
 * The layout is part of KTUNE_C_API_VERSION. */
typedef struct ktune_engine_options {
  const char* store_path;         /* NULL or "" = $KTUNE_DB, else ~/.cache/ktune/ktune.db */
  size_t workers;                 /* compile worker processes; 0 = min(cores, 32) */
  int warm_start;                 /* non-zero: start workers and runner at create (ktune_engine_wait_ready) */
  int64_t worker_idle_timeout_ms; /* a worker idle this long exits; 0 = never */
  int64_t runner_idle_timeout_ms; /* the runner idle this long exits; 0 = never */
  int runner_frees_problem;       /* non-zero: problem buffers freed after each tune/measure */
} ktune_engine_options;

/* What an engine has done, for a compiler's logs (ktune_engine_counters). */
typedef struct ktune_counters {
  uint64_t compiles_started;    /* submitted to the compile pool (cache hits included) */
  uint64_t compiles_finished;   /* results delivered, failures and cache hits included */
  uint64_t compiles_failed;     /* finished without a cubin */
  uint64_t compiles_from_cache; /* answered by the cubin cache */
  double wait_seconds;          /* callers blocked in tune, binary, wait_ready */
  uint64_t tunings_run;         /* tune requests that ran a search */
  uint64_t tunings_from_table;  /* tune requests answered by an exact table entry */
  uint64_t lookups;             /* lookups answered */
  size_t workers_alive;         /* compile worker processes running now */
  int runner_alive;             /* non-zero: the GPU runner process is running now */
} ktune_counters;

/* Options of ktune_tune. Fill with ktune_tune_options_init, then change what you need. The
 * layout is part of KTUNE_C_API_VERSION: a new field means a new version. */
typedef struct ktune_tune_options {
  const char* strategy;     /* "bestfirst" (default), "coordesc", "exhaustive" or "random"; NULL = default */
  uint64_t max_evaluations; /* new configurations to evaluate at most; 0 = no limit */
  double max_seconds;       /* wall-time budget; 0 = no limit */
  int refine;               /* non-zero: coordinate descent from the table's answer, not return it */
  int force;                /* non-zero: tune even when the table has an exact answer */
  const char* arch;         /* compile for this architecture instead of the GPU's; NULL = the GPU's */
} ktune_tune_options;

/* ---- Library information (never fail, never touch the last error) ---- */

/* The library's KTUNE_C_API_VERSION. */
KTUNE_API int ktune_c_api_version(void);
/* The ktune version, e.g. "0.1.0". Static storage. */
KTUNE_API const char* ktune_version(void);
/* "ok", "invalid_spec", ... ("unknown" for other values). Static storage. */
KTUNE_API const char* ktune_status_name(ktune_status status);
/* "exact", "nearest_size", "same_arch", "default", "tuned" ("unknown" for other values). */
KTUNE_API const char* ktune_rule_name(ktune_rule rule);

/* The message of this thread's last failed call ("" after a success). Never NULL. Valid until
 * the next status-returning ktune call on this thread. */
KTUNE_API const char* ktune_last_error_message(void);

/* ---- Engine ---- */

/* Opens (creating it if needed) the store at store_path; NULL or "" = $KTUNE_DB, else
 * ~/.cache/ktune/ktune.db. Needs no GPU: the GPU runner starts on the first call that needs it. */
KTUNE_API ktune_status ktune_engine_create(const char* store_path, ktune_engine** out);
/* Sets the defaults above (store_path NULL). */
KTUNE_API ktune_status ktune_engine_options_init(ktune_engine_options* options);
/* ktune_engine_create with lifecycle options. */
KTUNE_API ktune_status ktune_engine_create_with_options(const ktune_engine_options* options, ktune_engine** out);
/* Starts what is not started yet and waits until every compile worker and the GPU runner are
 * ready; the error says what could not start (KTUNE_ERROR_NO_GPU where there is no GPU). */
KTUNE_API ktune_status ktune_engine_wait_ready(ktune_engine* engine, int64_t timeout_ms);
/* Stops the workers and the runner and refuses further tunings and compiles (lookups still
 * work); a tuning already running is finished first. Returns within timeout_ms (+ the runner's
 * 2 s exit grace), with an error if that tuning was still running (the workers and the runner
 * then stop when it ends). ktune_engine_destroy waits for everything. */
KTUNE_API ktune_status ktune_engine_shutdown(ktune_engine* engine, int64_t timeout_ms);
/* Destroying an engine inherited through fork() in the child touches none of the parent's
 * processes; every other call on it there fails with KTUNE_ERROR_UNSUPPORTED (create a new
 * engine in the child). */
KTUNE_API void ktune_engine_destroy(ktune_engine* engine);
/* The engine's counters now. */
KTUNE_API ktune_status ktune_engine_counters(const ktune_engine* engine, ktune_counters* out);
/* The store file the engine uses (owned by the engine). */
KTUNE_API ktune_status ktune_engine_store_path(const ktune_engine* engine, const char** out);
/* This machine's GPU, as keys name it: "NVIDIA H100 80GB HBM3" and "sm_90" (owned by the
 * engine). KTUNE_ERROR_NO_GPU, with the reason, where there is none. */
KTUNE_API ktune_status ktune_engine_device(ktune_engine* engine, const char** name, const char** arch);

/* ---- Kernel specs ---- */

/* Parses a spec file; a relative "source" is resolved against the file's folder. Errors name the
 * file and the field (KTUNE_ERROR_INVALID_SPEC), or the file that could not be read. */
KTUNE_API ktune_status ktune_spec_load_file(const char* path, ktune_spec** out);
/* Parses a spec from JSON text; base_dir resolves a relative "source" and include dirs (NULL =
 * relative to the current directory). */
KTUNE_API ktune_status ktune_spec_load_json(const char* json_text, const char* base_dir, ktune_spec** out);
KTUNE_API void ktune_spec_destroy(ktune_spec* spec);
/* The spec's "name" (owned by the spec). */
KTUNE_API ktune_status ktune_spec_name(const ktune_spec* spec, const char** out);
/* The problem size names the spec declares, in its order (owned by the spec). */
KTUNE_API ktune_status ktune_spec_size_count(const ktune_spec* spec, size_t* out);
KTUNE_API ktune_status ktune_spec_size_name(const ktune_spec* spec, size_t index, const char** out);

/* ---- Lookup and tuning ----
 * Sizes are n_sizes parallel entries of size_names and size_values, in any order; every size the
 * spec declares must be given exactly once (errors name the missing, unknown or repeated size).
 * The arrays may be NULL only when n_sizes is 0. */

/* Answers from the lookup table; never tunes, never runs anything on a GPU. The key is computed
 * for device_name and arch (e.g. "NVIDIA H100 80GB HBM3", "sm_90"): with both given no GPU is
 * needed, so a build machine can answer for a production one. A NULL device_name or arch is taken
 * from this machine's GPU (KTUNE_ERROR_NO_GPU where there is none). When nothing usable is
 * tuned, the answer is the spec's default with rule KTUNE_RULE_DEFAULT: that is a success. */
KTUNE_API ktune_status ktune_lookup(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                                    const int64_t* size_values, size_t n_sizes, const char* device_name,
                                    const char* arch, ktune_answer** out);

/* Sets the defaults: bestfirst, no limits, no refine, no force, the GPU's architecture. */
KTUNE_API ktune_status ktune_tune_options_init(ktune_tune_options* options);

/* Blocks until tuned on this machine's GPU and remembers the winner; an exact table entry is
 * returned at once (rule KTUNE_RULE_EXACT) unless options say force or refine; otherwise the rule
 * is KTUNE_RULE_TUNED. options NULL = defaults. KTUNE_ERROR_NO_GPU where there is no GPU. */
KTUNE_API ktune_status ktune_tune(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                                  const int64_t* size_values, size_t n_sizes, const ktune_tune_options* options,
                                  ktune_answer** out);

/* The tuned configuration's cubin and launch geometry at these sizes (the table's answer, any
 * rule; the spec's default when nothing is tuned), from the cubin cache or compiled through the
 * pool. device_name/arch as for ktune_lookup; no GPU is needed when both are given. */
KTUNE_API ktune_status ktune_binary_get(ktune_engine* engine, const ktune_spec* spec, const char* const* size_names,
                                        const int64_t* size_values, size_t n_sizes, const char* device_name,
                                        const char* arch, ktune_binary** out);
KTUNE_API void ktune_binary_destroy(ktune_binary* binary);
/* The ELF bytes (owned by the binary), for cuLibraryLoadData / cuModuleLoadData. */
KTUNE_API ktune_status ktune_binary_cubin(const ktune_binary* binary, const void** data, size_t* size);
/* The symbol to load (lowered name; owned by the binary). */
KTUNE_API ktune_status ktune_binary_entry(const ktune_binary* binary, const char** out);
/* The architecture compiled for, "sm_90" (owned by the binary). */
KTUNE_API ktune_status ktune_binary_arch(const ktune_binary* binary, const char** out);
KTUNE_API ktune_status ktune_binary_config_string(const ktune_binary* binary, const char** out);
/* Which lookup rule chose the configuration (KTUNE_RULE_DEFAULT: the spec's default). */
KTUNE_API ktune_status ktune_binary_rule(const ktune_binary* binary, ktune_rule* out);
/* Grid and block dimensions and the dynamic shared memory in bytes (> 48 KiB needs
 * cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)). */
KTUNE_API ktune_status ktune_binary_launch(const ktune_binary* binary, int64_t grid[3], int64_t block[3],
                                           int64_t* shared_bytes);
/* What one run launches, in order on one stream, all from the binary's cubin: the kernel (count 1,
 * the entry and launch above) or a pipeline's kernels (docs/spec.md "Pipelines"). Kernel `index`'s
 * symbol (owned by the binary) and launch as for ktune_binary_launch; its arguments are the spec's
 * "args" it takes, by name, in its parameter order. An index past the end is
 * KTUNE_ERROR_INVALID_ARGUMENT. */
KTUNE_API ktune_status ktune_binary_stage_count(const ktune_binary* binary, size_t* out);
KTUNE_API ktune_status ktune_binary_stage(const ktune_binary* binary, size_t index, const char** entry, int64_t grid[3],
                                          int64_t block[3], int64_t* shared_bytes);
KTUNE_API ktune_status ktune_binary_stage_arg_count(const ktune_binary* binary, size_t index, size_t* out);
KTUNE_API ktune_status ktune_binary_stage_arg(const ktune_binary* binary, size_t index, size_t arg, const char** name);
/* Setup kernels (docs/spec.md "Setup kernels"; count 0 when the spec has none): launch each once,
 * in order, after loading the cubin and before the first run; what they write stays. Same
 * accessors as for the stages. */
KTUNE_API ktune_status ktune_binary_setup_count(const ktune_binary* binary, size_t* out);
KTUNE_API ktune_status ktune_binary_setup(const ktune_binary* binary, size_t index, const char** entry, int64_t grid[3],
                                          int64_t block[3], int64_t* shared_bytes);
KTUNE_API ktune_status ktune_binary_setup_arg_count(const ktune_binary* binary, size_t index, size_t* out);
KTUNE_API ktune_status ktune_binary_setup_arg(const ktune_binary* binary, size_t index, size_t arg, const char** name);

/* ---- Answers ---- */

KTUNE_API void ktune_answer_destroy(ktune_answer* answer);
KTUNE_API ktune_status ktune_answer_rule(const ktune_answer* answer, ktune_rule* out);
/* The configuration: one value per tunable parameter, in the spec's order. */
KTUNE_API ktune_status ktune_answer_param_count(const ktune_answer* answer, size_t* out);
/* name (owned by the answer) and value of parameter `index`; an index past the end is
 * KTUNE_ERROR_INVALID_ARGUMENT. */
KTUNE_API ktune_status ktune_answer_param(const ktune_answer* answer, size_t index, const char** name,
                                          int64_t* value);
/* The value of the parameter called `name`; KTUNE_ERROR_NOT_FOUND when there is none. */
KTUNE_API ktune_status ktune_answer_get(const ktune_answer* answer, const char* name, int64_t* value);
/* The configuration in its human form, "BM=128 BN=128 BK=16 TM=8 TN=8" (owned by the answer). */
KTUNE_API ktune_status ktune_answer_config_string(const ktune_answer* answer, const char** out);
/* The measured kernel time in nanoseconds (median) of the matched entry; NaN for the default. */
KTUNE_API ktune_status ktune_answer_time_ns(const ktune_answer* answer, double* out);
/* The device the matched entry was tuned on ("" for the default; owned by the answer). */
KTUNE_API ktune_status ktune_answer_tuned_device(const ktune_answer* answer, const char** out);
/* Size distance between the request and the matched entry (store/lookup.hpp): 0 when exact or
 * default, e.g. 1.0 when one size is a factor of two away. */
KTUNE_API ktune_status ktune_answer_distance(const ktune_answer* answer, double* out);
/* A pipeline's kernel times: each kernel's median in nanoseconds over the samples of
 * ktune_answer_time_ns (the whole pipeline's), in launch order, with its entry as the spec names it
 * (owned by the answer). Known for ktune_tune's answers; the count is 0 for a single kernel and for
 * ktune_lookup's answers (the lookup table keeps the pipeline's time only). */
KTUNE_API ktune_status ktune_answer_stage_count(const ktune_answer* answer, size_t* out);
KTUNE_API ktune_status ktune_answer_stage_time_ns(const ktune_answer* answer, size_t index, const char** entry,
                                                  double* time_ns);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KTUNE_H */
