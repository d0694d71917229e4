#pragma once
#include <nanobind/nanobind.h>

namespace ktune::python {

// ktune.export_table / import_table (a store's lookup table as JSON, docs/lookup-table.md) and
// ktune.sweep (many kernels x many sizes, docs/sweep.md): the CLI's export, import and sweep.
void bind_store(nanobind::module_& module);

}  // namespace ktune::python
