/*
 * lookup.c — a C99 program using ktune's C API (engine/ktune.h): asks the lookup table which
 * configuration of the example GEMM (examples/sgemm.json) to run at M=N=K=4096 on an H100, and
 * which rule of the table answered. Needs no GPU: the device is named, so only the store is read.
 *
 *   c_lookup STORE.db [SPEC.json]      (SPEC defaults to examples/sgemm.json)
 *
 * Fill the store first, e.g. `ktune import tests/data/h100-sgemm-table.json --db STORE.db`; with
 * an empty store the answer is the spec's default. Exits 1 with ktune's message on any error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/ktune.h"

static int report(const char* what, ktune_status status) {
  fprintf(stderr, "c_lookup: %s failed (%s): %s\n", what, ktune_status_name(status), ktune_last_error_message());
  return 1;
}

int main(int argc, char** argv) {
  const char* store_path;
  const char* spec_path = "examples/sgemm.json";
  const char* device = "NVIDIA H100 80GB HBM3";
  const char* arch = "sm_90";
  const char* size_names[] = {"M", "N", "K"};
  const int64_t size_values[] = {4096, 4096, 4096};
  ktune_engine* engine = NULL;
  ktune_spec* spec = NULL;
  ktune_answer* answer = NULL;
  ktune_status status;
  ktune_rule rule;
  size_t count = 0;
  size_t i;
  const char* spec_name = NULL;
  const char* tuned_on = NULL;
  double time_ns = 0;
  int exit_code = 1;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s STORE.db [SPEC.json]\n", argv[0]);
    return 2;
  }
  store_path = argv[1];
  if (argc == 3) spec_path = argv[2];
  if (ktune_c_api_version() != KTUNE_C_API_VERSION) {
    fprintf(stderr, "c_lookup: built for C API %d, running with libktune's %d\n", KTUNE_C_API_VERSION,
            ktune_c_api_version());
    return 1;
  }

  if ((status = ktune_spec_load_file(spec_path, &spec)) != KTUNE_OK) {
    exit_code = report("loading the spec", status);
    goto done;
  }
  if ((status = ktune_engine_create(store_path, &engine)) != KTUNE_OK) {
    exit_code = report("opening the store", status);
    goto done;
  }
  status = ktune_lookup(engine, spec, size_names, size_values, 3, device, arch, &answer);
  if (status != KTUNE_OK) {
    exit_code = report("lookup", status);
    goto done;
  }

  /* The accessors only fail on NULL arguments, which there are none of here. */
  (void)ktune_spec_name(spec, &spec_name);
  (void)ktune_answer_rule(answer, &rule);
  (void)ktune_answer_param_count(answer, &count);
  (void)ktune_answer_time_ns(answer, &time_ns);
  (void)ktune_answer_tuned_device(answer, &tuned_on);

  printf("ktune %s (C API %d): %s  M=%lld N=%lld K=%lld  on %s (%s)\n", ktune_version(), ktune_c_api_version(),
         spec_name, (long long)size_values[0], (long long)size_values[1], (long long)size_values[2], device, arch);
  printf("config:");
  for (i = 0; i < count; ++i) {
    const char* name = NULL;
    int64_t value = 0;
    if ((status = ktune_answer_param(answer, i, &name, &value)) != KTUNE_OK) {
      exit_code = report("reading the configuration", status);
      goto done;
    }
    printf(" %s=%lld", name, (long long)value);
  }
  printf("\n");
  if (isnan(time_ns)) {
    printf("rule: %s (nothing tuned for this kernel here: the spec's default)\n", ktune_rule_name(rule));
  } else {
    printf("rule: %s (tuned on %s, %.3f ms)\n", ktune_rule_name(rule), tuned_on, time_ns / 1e6);
  }
  {
    /* What a code generator does with it: read the parameters it needs by name. */
    int64_t bm = 0;
    if ((status = ktune_answer_get(answer, "BM", &bm)) != KTUNE_OK) {
      exit_code = report("reading BM", status);
      goto done;
    }
    printf("launch with -DBM=%lld ...\n", (long long)bm);
  }
  exit_code = 0;

done:
  ktune_answer_destroy(answer);
  ktune_engine_destroy(engine);
  ktune_spec_destroy(spec);
  return exit_code;
}
