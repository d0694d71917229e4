# cmake -DKTUNE_CLI=... -DEXAMPLE=... -DTABLE=... -DSPEC=... -DWORK_DIR=... -P run_example.cmake
# A fresh store holding the imported table, then the C example's lookup on it (its output is
# checked by the test's PASS_REGULAR_EXPRESSION).
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${KTUNE_CLI}" import "${TABLE}" --db "${WORK_DIR}/store.db"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ktune import failed (${rc}): ${out}")
endif()
execute_process(COMMAND "${EXAMPLE}" "${WORK_DIR}/store.db" "${SPEC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "c_lookup exited with ${rc}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
