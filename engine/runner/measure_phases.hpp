#pragma once
// Where the runner's time for one configuration went, on its own so the public Evaluation
// (engine/evaluation.hpp) can report it without the rest of the runner.

namespace ktune::runner {

// Where the runner's time for one configuration went (issue #13: cost per configuration by phase).
struct MeasurePhases {
  friend bool operator==(const MeasurePhases&, const MeasurePhases&) = default;
  double load = 0;       // cubin load, attributes, launch checks
  double first_run = 0;  // the first launch (and the second, when the first looked hopeless)
  double verify = 0;     // read back and compare the outputs
  double warm_up = 0;
  double sampling = 0;   // this configuration's share of the sample rounds
  double total() const noexcept { return load + first_run + verify + warm_up + sampling; }
};

}  // namespace ktune::runner
