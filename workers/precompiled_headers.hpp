#pragma once
// NVRTC precompiled headers inside one ktune-worker (docs/workers.md "Precompiled headers").
//
// What NVRTC 12.8+/13.0 allows decides the shape: a PCH file is only usable by the process that
// created it (it records the address of that process's PCH heap: "incompatible precompiled header
// heap allocation address" elsewhere), and only when the command line matches the one it was
// created with — so the configuration's -D defines, which differ per job, must not be on it. A job
// that allows a PCH (CompileJob::use_pch, set for specs that name a header package) is therefore
// compiled as: the source's leading #include lines (its header prefix), a declaration that ends the
// precompiled part (kHeaderStop), the configuration's defines as #define lines, a #line directive (diagnostics keep the source's line
// numbers), the rest of the source; the options without the defines. The first such job of a prefix
// in a worker creates the PCH (--create-pch), later ones use it (--use-pch). PCH files live in the
// worker's own folder, removed when the worker exits (and, for a killed worker, by the next worker
// that starts): no file is shared between processes, so no locking, and never a stale one (a PCH is
// keyed by NVRTC version, architecture, options and the prefix text, and dies with its process).
//
// Parameter macros are defined after the header prefix: a spec whose package headers read a tuned
// parameter's macro must not use PCH (it is opt-in: ktune compile --pch, CompileServiceOptions::use_pch).
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/result.hpp"
#include "workers/compile_job.hpp"

namespace ktune::workers {

// Where the precompiled part ends (NVRTC has no working `#pragma hdrstop`).
inline constexpr std::string_view kHeaderStop = "struct ktune_header_stop;\n";

// NVRTC's PCH heap when a worker first creates a PCH. CUTLASS 4.2's GEMM headers need 446 MiB for
// the PCH (NVRTC's default is 256 MiB), and with a PCH the whole front end allocates from this heap:
// at 768 MiB a CUTLASS GEMM compile fails with "unable to obtain mapped memory"; at 4 GiB it creates
// the PCH and gives the same CUBIN as without (2026-11-29). The worker's memory limit must leave room.
inline constexpr std::size_t kInitialPchHeapBytes = std::size_t{4} << 30;

// Bytes of the source's header prefix: its leading lines that are blank, `//` comments or
// `#include` directives (a line of anything else ends it). 0: no prefix, no PCH.
std::size_t header_prefix_length(std::string_view source);

// The job rewritten as described above (defines into the text after the prefix); its options then
// get the PCH option from PrecompiledHeaders::options_for. Unchanged when there is no prefix.
struct PchCompile {
  std::string source;
  std::vector<std::string> options;  // the job's options, without defines
  std::string prefix;               // the header prefix text (empty: compile without PCH)
};
PchCompile pch_compile_form(const CompileJob& job);

class PrecompiledHeaders {
 public:
  // A private folder <root>/worker-<pid>-XXXXXX (root created when missing); folders of workers no
  // longer alive are removed first.
  static Result<PrecompiledHeaders> open(const std::filesystem::path& root);
  PrecompiledHeaders(PrecompiledHeaders&& other) noexcept;
  PrecompiledHeaders& operator=(PrecompiledHeaders&&) = delete;
  PrecompiledHeaders(const PrecompiledHeaders&) = delete;
  ~PrecompiledHeaders();  // removes the folder and its PCH files

  // "--create-pch=<file>" the first time a key is seen (or after a failed creation), else
  // "--use-pch=<file>"; `creating` says which.
  std::string option_for(const std::string& key, bool& creating);
  // After a compile that was to create the PCH of `key`: whether NVRTC did.
  void created(const std::string& key, bool ok);
  // NVRTC's PCH heap was resized: every PCH made so far is unusable.
  void forget_all();

  const std::filesystem::path& folder() const noexcept { return folder_; }
  std::size_t created_count() const noexcept { return ready_.size(); }

 private:
  explicit PrecompiledHeaders(std::filesystem::path folder) : folder_(std::move(folder)) {}
  std::filesystem::path folder_;
  std::map<std::string, std::string> ready_;  // key -> file, PCHs this process created
  int next_ = 0;
};

}  // namespace ktune::workers
