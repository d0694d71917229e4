#pragma once
// One finished run as a rank tells rank 0 about it (JSON): how it ended and what the summary table
// shows. The records themselves travel beside it as a store file (StoreFile::extract).
#include <string>

#include "engine/sweep_runner.hpp"

namespace ktune::cli {

std::string encode_run_report(const SweepRun& run);
// `plan` gives the run its spec (SweepRun::spec points into it). Throws on a report that is not
// one: ranks of one job run the same ktune, so that is a broken invariant.
SweepRun decode_run_report(const std::string& text, const SweepPlan& plan);

}  // namespace ktune::cli
