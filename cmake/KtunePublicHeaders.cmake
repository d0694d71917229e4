# The public headers of libktune (engine/README.md, "Public headers"): the entry points below and
# every header they include, transitively. Exactly these are installed (cmake/KtunePackage.cmake);
# every other header stays internal. Included by the build and by the check script
# (cmake/CheckPublicHeaders.cmake, ctest Package.PublicHeadersAreNotInternal), so both see one set.

# What a user of libktune includes.
set(KTUNE_PUBLIC_ROOTS
  engine/engine.hpp
  engine/ktune.h
  engine/lookup_table.hpp
  engine/compile_service.hpp
  engine/sweep_runner.hpp
  engine/sweep_schedule.hpp
  engine/store_file.hpp
  engine/replay.hpp)

# Headers the closure must never reach: the layers below libktune and the engine's own machinery.
# Of the layer folders, only the plain vocabulary the public types are made of may be public.
set(KTUNE_INTERNAL_FOLDERS workers/ engine/cuda/ engine/runner/ engine/model/ store/ tuner/)
set(KTUNE_PUBLIC_LAYER_HEADERS
  engine/runner/buffer_init.hpp   # KernelSpec's buffer initialisation (a plain value)
  engine/runner/stop_rule.hpp     # TuneSettings' stop rule (plain options)
  engine/runner/measure_phases.hpp  # Evaluation diagnostics: where the runner's time went (plain values)
  engine/model/spec.hpp
  engine/model/size_buckets.hpp   # KernelSpec's size buckets (a plain value)
  engine/model/packages.hpp       # KernelSpec's header packages (a plain value)
  engine/model/key.hpp            # DeviceSignature, Toolchain, the keys
  store/records.hpp               # the records an Evaluation and the lookup table are made of
  store/lookup.hpp                # LookupAnswer, LookupRule
  store/table_format.hpp          # the lookup table as JSON (StoreFile)
  store/store_path.hpp            # default_store_path
  store/store.hpp                 # import/export options; the Store itself is a pimpl (no SQLite)
  tuner/param_space.hpp)          # KernelSpec's parameter space
set(KTUNE_INTERNAL_ENGINE_HEADERS
  engine/evaluator.hpp engine/replay_evaluator.hpp engine/gpu_evaluator.hpp engine/runner_client.hpp
  engine/tuning_session.hpp engine/measurement_ledger.hpp engine/measurement_record.hpp
  engine/in_flight_requests.hpp engine/fork_guard.hpp engine/question_cache.hpp engine/prepared_kernel_snapshot.hpp)

# `out_var`: the headers reachable from the given ones through `#include "..."` lines, relative to
# `source_dir` (includes that are not files of the project, e.g. "cuda.h", are not followed).
function(ktune_header_closure out_var source_dir)
  set(pending ${ARGN})
  set(seen)
  while(pending)
    list(POP_FRONT pending header)
    if(header IN_LIST seen)
      continue()
    endif()
    if(NOT EXISTS ${source_dir}/${header})
      message(FATAL_ERROR "public header closure: ${header} does not exist")
    endif()
    list(APPEND seen ${header})
    file(STRINGS ${source_dir}/${header} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*$" "\\1" included "${line}")
      if(EXISTS ${source_dir}/${included} AND NOT included IN_LIST seen)
        list(APPEND pending ${included})
      endif()
    endforeach()
  endwhile()
  list(SORT seen)
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

# `out_var`: the headers of `headers` that must stay internal.
function(ktune_internal_headers out_var)
  set(internal)
  foreach(header IN LISTS ARGN)
    if(header IN_LIST KTUNE_INTERNAL_ENGINE_HEADERS)
      list(APPEND internal ${header})
      continue()
    endif()
    foreach(folder IN LISTS KTUNE_INTERNAL_FOLDERS)
      string(FIND "${header}" "${folder}" at)
      if(at EQUAL 0 AND NOT header IN_LIST KTUNE_PUBLIC_LAYER_HEADERS)
        list(APPEND internal ${header})
        break()
      endif()
    endforeach()
  endforeach()
  set(${out_var} ${internal} PARENT_SCOPE)
endfunction()
