// `ktune show`, `ktune export`, `ktune import`: what the store holds, and moving its lookup table
// between machines (docs/lookup-table.md).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/named_values.hpp"
#include "engine/common/printable.hpp"
#include "engine/results_export.hpp"
#include "engine/store_file.hpp"
#include "tools/commands.hpp"
#include "tools/kernel_tuner_import_command.hpp"
#include "tools/text_output.hpp"
#include "tools/tuning_output.hpp"

namespace ktune::cli {

namespace {

constexpr const char* kDbHelp = "store file (default: $KTUNE_DB, else $XDG_CACHE_HOME/ktune/ktune.db or ~/.cache/ktune/ktune.db)";

// show and export only read: a missing store is an error, not a reason to create an empty one.
StoreFile open_existing(const std::string& db_option) {
  return StoreFile::open_read_only(default_store_path(db_option)).value_or_throw();
}

// Every cell is stored text (kernel names, devices come from imported tables): escaped before
// it reaches the terminal.
void print_table(std::vector<std::vector<std::string>> rows) {
  for (auto& row : rows)
    for (auto& cell : row) cell = printable(cell);
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], row[c].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

struct ShowArgs {
  std::string db, kernel, device;
  bool json = false;
};

void run_show(const ShowArgs& args) {
  auto store = open_existing(args.db);
  const auto stats = store.stats().value_or_throw();
  const auto table = store.export_table({args.kernel, args.device}).value_or_throw();
  const auto kernels = store.kernels().value_or_throw();
  std::map<std::string, std::string> names;
  for (const auto& k : kernels) names[k.kernel_key] = k.name;

  if (args.json) {
    nlohmann::ordered_json out;
    out["store"] = store.path().string();
    out["kernels"] = stats.kernels;
    out["tunings"] = stats.tunings;
    out["measurements"] = stats.measurements;
    out["best_entries"] = stats.best_entries;
    out["entries"] = nlohmann::ordered_json::array();
    for (const auto& e : table.entries) {
      nlohmann::ordered_json entry;
      entry["kernel"] = names[e.tuning.kernel_key];
      entry["kernel_key"] = e.tuning.kernel_key;
      entry["tuning_key"] = e.tuning.tuning_key;
      entry["sizes"] = nlohmann::ordered_json::object();
      for (const auto& [n, v] : e.tuning.sizes) entry["sizes"][n] = v;
      entry["device"] = e.tuning.device;
      entry["arch"] = e.tuning.arch;
      entry["toolchain"] = e.tuning.toolchain;
      entry["config"] = nlohmann::ordered_json::object();
      for (const auto& [n, v] : e.config) entry["config"][n] = v;
      entry["time_ns"] = e.time_ns;
      entry["default_time_ns"] = e.default_time_ns ? nlohmann::ordered_json(*e.default_time_ns) : nullptr;
      entry["tuned_at"] = format_utc(e.tuned_at);
      out["entries"].push_back(std::move(entry));
    }
    std::printf("%s\n", printable_json(out.dump(2)).c_str());
    return;
  }

  std::printf("store %s: %lld kernels, %lld tuned entries, %lld measurements\n", printable(store.path().string()).c_str(),
              static_cast<long long>(stats.kernels), static_cast<long long>(stats.best_entries),
              static_cast<long long>(stats.measurements));
  if (table.entries.empty()) {
    std::printf("no tuned entries%s\n", args.kernel.empty() && args.device.empty() ? "" : " match the filter");
    return;
  }
  std::vector<std::vector<std::string>> rows{
      {"KERNEL", "SIZES", "DEVICE", "ARCH", "TOOLCHAIN", "BEST", "DEFAULT", "SPEEDUP", "CONFIG", "TUNED"}};
  for (const auto& e : table.entries) {
    std::string speedup = "-";
    if (e.default_time_ns) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.2fx", *e.default_time_ns / e.time_ns);
      speedup = buffer;
    }
    rows.push_back({names[e.tuning.kernel_key], format_named(e.tuning.sizes), e.tuning.device, e.tuning.arch,
                    e.tuning.toolchain, format_time(e.time_ns), e.default_time_ns ? format_time(*e.default_time_ns) : "-",
                    speedup, format_named(e.config), format_utc(e.tuned_at).substr(0, 10)});
  }
  print_table(rows);
}

struct ExportArgs {
  std::string db, kernel, device, output, sizes, format = "table", key, kernel_name;
};

// The tunings the filter selected, each with its kernel and measurements.
std::vector<TuningResults> selected_tunings(StoreFile& store, const TableDocument& table, const std::string& sizes) {
  std::map<std::string, KernelRecord> kernels;
  for (const auto& k : table.kernels) kernels[k.kernel_key] = k;
  std::vector<TuningResults> out;
  for (const auto& e : table.entries) {
    // --size M=4096,N=4096: the entries tuned at exactly these sizes (written as `show` prints them).
    if (!sizes.empty()) {
      std::string wanted = sizes;
      std::replace(wanted.begin(), wanted.end(), ',', ' ');
      if (format_named(e.tuning.sizes) != wanted) continue;
    }
    out.push_back({kernels[e.tuning.kernel_key], e, store.measurements_for(e.tuning.tuning_key).value_or_throw()});
  }
  return out;
}

std::string describe_tunings(const std::vector<TuningResults>& tunings) {
  std::string text;
  for (std::size_t i = 0; i < tunings.size() && i < 5; ++i)
    text += (i ? "; " : "") + tunings[i].kernel.name + " at " + format_named(tunings[i].best.tuning.sizes) + " on " +
            tunings[i].best.tuning.device;
  if (tunings.size() > 5) text += "; ...";
  return printable(text);
}

void run_export(const ExportArgs& args) {
  auto store = open_existing(args.db);
  const auto table = store.export_table({args.kernel, args.device}).value_or_throw();
  std::string text;
  if (args.format == "table") {
    if (!args.sizes.empty()) throw CliFailure("--size selects one tuning for --format kernel-tuner, t4 or wisdom");
    if (table.entries.empty())
      std::fprintf(stderr, "ktune: warning: no tuned entries%s; the table is empty\n",
                   args.kernel.empty() && args.device.empty() ? "" : " match the filter");
    text = table_to_json(table);
  } else {
    const auto tunings = selected_tunings(store, table, args.sizes);
    if (tunings.empty())
      throw CliFailure("no tuned entries match the filter (ktune show lists them); nothing was written");
    if (args.format == "wisdom") {
      text = to_wisdom(args.key.empty() ? tunings.front().kernel.name : args.key, tunings).value_or_throw();
    } else {
      // One tuning per file: Kernel Tuner's cache and a T4 document describe one problem on one device.
      if (tunings.size() != 1)
        throw CliFailure(std::to_string(tunings.size()) + " tunings match (" + describe_tunings(tunings) + "); --format " +
                         args.format + " writes one: narrow with --kernel, --device and --size");
      text = (args.format == "kernel-tuner" ? to_kernel_tuner_cache(tunings.front(), args.kernel_name) : to_t4_results(tunings.front()))
                 .value_or_throw() +
             "\n";
    }
  }
  if (args.output.empty() || args.output == "-") return write_standard_output(text);
  std::vector<std::filesystem::path> stores{store.path()};
  if (auto cache = find_cache_dir()) stores.push_back(default_store_path({}));
  write_text_output(args.output, text, stores);
}

struct ImportArgs {
  std::string db, file, on_conflict = "keep-faster";
  KernelTunerImportArgs kernel_tuner;
};

// A table is read whole and then parsed (several times its size in memory). A real one is far
// smaller than this (~600 bytes an entry); a bigger file, or an endless one such as /dev/zero, is
// refused before it can exhaust memory: by its size when it has one, else after this many bytes.
constexpr std::uintmax_t kMaxTableBytes = 256u << 20;

std::string read_table_text(const std::string& file) {
  const std::string too_big = "larger than 256 MiB; not a lookup table (export fewer kernels per file: --kernel, --device)";
  std::ifstream opened;
  std::istream* in = &std::cin;
  if (file != "-") {
    std::error_code ec;
    if (std::filesystem::is_regular_file(file, ec) && std::filesystem::file_size(file, ec) > kMaxTableBytes && !ec)
      throw CliFailure(file + ": " + too_big + "; nothing was imported");
    opened.open(file, std::ios::binary);
    if (!opened) throw CliFailure("cannot read '" + file + "'");
    in = &opened;
  }
  std::string text;
  std::vector<char> chunk(1u << 20);
  while (*in) {
    in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<std::size_t>(in->gcount());
    if (text.size() + got > kMaxTableBytes) throw CliFailure(file + ": " + too_big + "; nothing was imported");
    text.append(chunk.data(), got);
  }
  if (in->bad()) throw CliFailure("cannot read '" + file + "'");
  return text;
}

void run_import(const ImportArgs& args) {
  if (run_kernel_tuner_import(args.kernel_tuner, args.file, args.db)) return;
  const auto policy = parse_conflict_policy(args.on_conflict);
  if (!policy) throw CliFailure("--on-conflict must be keep-faster, keep-newer, replace or fail");
  const std::string text = read_table_text(args.file);
  auto table = table_from_json(text);
  if (!table) throw CliFailure(args.file + ": " + table.error().message + "; nothing was imported");
  auto store = StoreFile::open(default_store_path(args.db)).value_or_throw();
  auto summary = store.import_table(*table, {*policy});
  if (!summary) throw CliFailure(args.file + ": " + summary.error().message + "; nothing was imported");
  std::printf("imported %s into %s: %zu kernels added, %zu entries added, %zu replaced, %zu kept, %zu unchanged\n",
              printable(args.file).c_str(), printable(store.path().string()).c_str(), summary->kernels_added, summary->entries_added,
              summary->entries_replaced, summary->entries_kept, summary->entries_unchanged);
}

struct MergeArgs {
  std::vector<std::string> sources;
  std::string into, on_conflict = "keep-faster";
};

// Each source in its own transaction, in the order given: a source that fails leaves the target
// as the sources before it made it (they are committed), and the ones after it are not merged.
void run_merge(const MergeArgs& args) {
  const auto policy = parse_conflict_policy(args.on_conflict);
  if (!policy) throw CliFailure("--on-conflict must be keep-faster, keep-newer, replace or fail");
  const std::filesystem::path into = args.into;
  // Every source is checked to exist before the target is created or anything is written.
  for (const std::string& source : args.sources) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(source, ec)) throw CliFailure("'" + source + "': no such store file; nothing was merged");
    if (std::filesystem::exists(into, ec) && std::filesystem::equivalent(source, into, ec))
      throw CliFailure("'" + source + "' is the store being merged into (--into); nothing was merged");
  }
  auto store = StoreFile::open(into).value_or_throw();
  std::size_t merged = 0;
  for (const std::string& source : args.sources) {
    auto summary = store.merge_from(source, {*policy});
    if (!summary) {
      const std::string before = merged ? std::to_string(merged) + " source(s) before it are merged; " : "";
      throw CliFailure(source + ": " + summary.error().message + "; nothing of it was merged (" + before + "the rest were not tried)");
    }
    ++merged;
    std::printf("merged %s into %s: %zu kernels added, %zu entries added, %zu replaced, %zu kept, %zu unchanged; "
                "%zu measurements added, %zu already there\n",
                printable(source).c_str(), printable(store.path().string()).c_str(), summary->kernels_added, summary->entries_added,
                summary->entries_replaced, summary->entries_kept, summary->entries_unchanged, summary->measurements_added,
                summary->measurements_present);
  }
}

}  // namespace

void add_store_commands(CLI::App& app) {
  {
    auto args = std::make_shared<ShowArgs>();
    auto* cmd = app.add_subcommand("show", "List what the store holds: kernels, sizes, devices, best times");
    cmd->add_option("--db", args->db, kDbHelp);
    cmd->add_option("--kernel", args->kernel, "only this kernel (by name)");
    cmd->add_option("--device", args->device, "only this device (by name)");
    cmd->add_flag("--json", args->json, "print JSON instead of a table");
    cmd->callback([args] { run_show(*args); });
  }
  {
    auto args = std::make_shared<ExportArgs>();
    auto* cmd = app.add_subcommand(
        "export", "Write the lookup table as JSON (docs/lookup-table.md), or results for Kernel Tuner, T4 or kernel_launcher");
    cmd->add_option("--db", args->db, kDbHelp);
    cmd->add_option("--kernel", args->kernel, "only this kernel (by name)");
    cmd->add_option("--device", args->device, "only this device (by name)");
    cmd->add_option("-o,--output", args->output, "write to this file instead of standard output (never over a store)");
    cmd->add_option("--format", args->format,
                    "table (ktune's lookup table, the default); kernel-tuner (a Kernel Tuner cache file); t4 (the "
                    "Auto-Tuning Association's T4 results); wisdom (a kernel_launcher .wisdom file). kernel-tuner and t4 "
                    "write one tuning: select it with --kernel, --device, --size")
        ->check(CLI::IsMember({"table", "kernel-tuner", "t4", "wisdom"}))
        ->capture_default_str();
    cmd->add_option("--size", args->sizes, "only the tuning at these sizes, e.g. M=4096,N=4096 (as `ktune show` prints them)");
    cmd->add_option("--key", args->key, "wisdom: the tuning key kernel_launcher looks the kernel up by (default: its name)");
    cmd->add_option("--kernel-name", args->kernel_name,
                    "kernel-tuner: the kernel_name to write, as tune_kernel is called with it (default: the ktune name)");
    cmd->callback([args] { run_export(*args); });
  }
  {
    auto args = std::make_shared<ImportArgs>();
    auto* cmd = app.add_subcommand("import", "Merge an exported lookup table into the store (all or nothing)");
    cmd->add_option("table", args->file, "the table file ('-' for standard input)")->required();
    cmd->add_option("--db", args->db, kDbHelp);
    cmd->add_option("--on-conflict", args->on_conflict,
                    "when an entry is already stored differently: keep-faster (default), keep-newer, replace, fail")
        ->check(CLI::IsMember({"keep-faster", "keep-newer", "replace", "fail"}));
    add_kernel_tuner_import_options(*cmd, args->kernel_tuner);
    cmd->callback([args] { run_import(*args); });
  }
  {
    auto args = std::make_shared<MergeArgs>();
    auto* cmd = app.add_subcommand(
        "merge", "Merge whole stores (measurements and lookup tables, e.g. of sweep shards) into one (docs/sweep.md)");
    cmd->add_option("stores", args->sources, "store files to merge in (read, never changed), in this order")->required();
    cmd->add_option("--into", args->into, "the store merged into (created when missing)")->required();
    cmd->add_option("--on-conflict", args->on_conflict,
                    "when a lookup-table entry is already stored differently: keep-faster (default), keep-newer, replace, fail "
                    "(as ktune import)")
        ->check(CLI::IsMember({"keep-faster", "keep-newer", "replace", "fail"}));
    cmd->callback([args] { run_merge(*args); });
  }
}

}  // namespace ktune::cli
