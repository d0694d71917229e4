#pragma once
// What a PreparedKernel shares between its copies (internal to libktune).
#include "engine/prepared_kernel.hpp"
#include "engine/question_cache.hpp"

namespace ktune {

struct PreparedKernel::Snapshot {
  KernelSpec spec;  // never changed after PreparedKernel::from
  QuestionCache questions;
};

}  // namespace ktune
