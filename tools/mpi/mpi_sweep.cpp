#include "tools/mpi/mpi_sweep.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/sweep_schedule.hpp"
#include "tools/mpi/run_report.hpp"

namespace ktune::cli {

namespace {

constexpr int kTagAsk = 1;   // rank -> 0: the run it finished (if any), and a request for the next
constexpr int kTagWork = 2;  // 0 -> rank: a run index, or kNoMoreWork
constexpr std::int64_t kNoMoreWork = -1;

// What a rank says when it asks for work: the report of the run it finished (empty on its first
// ask) and that run's records as a store file (empty when it recorded nothing new).
struct Report {
  std::string run;
  std::string records;
};

std::string pack(const Report& report) {
  const std::uint64_t length = report.run.size();
  std::string out(sizeof length, '\0');
  std::memcpy(out.data(), &length, sizeof length);
  return out + report.run + report.records;
}

Report unpack(const std::string& bytes) {
  std::uint64_t length = 0;
  if (bytes.size() < sizeof length) throw std::length_error("an MPI sweep message shorter than its header");
  std::memcpy(&length, bytes.data(), sizeof length);
  if (bytes.size() - sizeof length < length) throw std::length_error("an MPI sweep message shorter than its report");
  return {bytes.substr(sizeof length, length), bytes.substr(sizeof length + length)};
}

std::string index_bytes(std::int64_t index) {
  std::string out(sizeof index, '\0');
  std::memcpy(out.data(), &index, sizeof index);
  return out;
}

std::int64_t index_from(const std::string& bytes) {
  std::int64_t index = kNoMoreWork;
  if (bytes.size() != sizeof index) throw std::length_error("an MPI work message of the wrong size");
  std::memcpy(&index, bytes.data(), sizeof index);
  return index;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

// A store file and the -wal/-shm SQLite may leave beside it.
void remove_store_file(const std::filesystem::path& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path.string() + suffix, ec);
}

// A folder of this rank's on its own host, removed with what is in it.
class RankFolder {
 public:
  RankFolder(int rank, const std::filesystem::path& base) {
    std::string pattern = (base / ("ktune-mpi-rank" + std::to_string(rank) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a folder like " + pattern);
    path_ = pattern;
  }
  ~RankFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  RankFolder(const RankFolder&) = delete;
  RankFolder& operator=(const RankFolder&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Where the records of one run are written on their way to rank 0 (a store file each, written once
// and read once): memory (/dev/shm) where the host has it, since creating a store on disk costs
// tens of milliseconds of fsyncs a run — the same folder as the rank's store otherwise.
std::filesystem::path transit_base() {
  std::error_code ec;
  const std::filesystem::path shm = "/dev/shm";
  if (std::getenv("TMPDIR") == nullptr && std::filesystem::is_directory(shm, ec) && ::access(shm.c_str(), W_OK) == 0) return shm;
  return std::filesystem::temp_directory_path();
}

// Rank 0's own lane runs on a thread; it asks the coordinator (rank 0's MPI thread) for work
// through this, as the other ranks do through messages.
class LocalAsks {
 public:
  void ask(Report report) {
    std::lock_guard lock(mutex_);
    asked_ = std::move(report);
  }
  std::optional<Report> take_ask() {
    std::lock_guard lock(mutex_);
    return std::exchange(asked_, std::nullopt);
  }
  void give(std::int64_t index) {
    {
      std::lock_guard lock(mutex_);
      given_ = index;
    }
    ready_.notify_one();
  }
  std::int64_t wait_for_work() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return given_.has_value(); });
    return *std::exchange(given_, std::nullopt);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::optional<Report> asked_;
  std::optional<std::int64_t> given_;
};

// A test hook for the killed-rank test (tests/mpi/): this rank exits, without a word to MPI, right
// after it has sent its first finished run — a rank lost mid-sweep.
bool exits_after_first_run(int rank) {
  const char* value = std::getenv("KTUNE_TEST_MPI_EXIT_AFTER_FIRST_RUN");
  return value && std::to_string(rank) == value;
}

}  // namespace

std::optional<SweepResult> run_mpi_sweep(MpiWorld& world, const SweepPlan& plan, const MpiSweepOptions& options) {
  const bool root = world.rank() == 0;
  // The rank's store is in TMPDIR (node-local on a cluster): never on the network filesystem DB may be on.
  RankFolder folder(world.rank(), std::filesystem::temp_directory_path());
  RankFolder transit(world.rank(), transit_base());
  const std::filesystem::path local_path = folder / "rank.db";

  // DB's lookup table reaches every rank's store first, so a run finished by an earlier, killed
  // job is answered "done earlier" wherever it lands.
  std::optional<StoreFile> db;
  std::string table;
  if (root) {
    auto opened = StoreFile::open(default_store_path(options.lanes.store_path.string()));
    if (!opened) world.abort(opened.error().message);
    db.emplace(std::move(*opened));
    auto exported = db->export_table();
    if (!exported) world.abort(exported.error().message);
    table = table_to_json(*exported);
  }
  table = world.broadcast(table, 0);
  auto local = StoreFile::open_scratch(local_path);
  if (!local) world.abort(local.error().message);
  if (auto parsed = table_from_json(table); !parsed || !local->import_table(*parsed))
    world.abort("cannot copy DB's lookup table into this rank's store");

  SweepOptions lane_options = options.lanes;
  lane_options.store_path = local_path;
  lane_options.scratch_store = true;
  if (!lane_options.replay && !lane_options.gpus.empty())
    lane_options.gpus = {lane_options.gpus[static_cast<std::size_t>(world.local_rank()) % lane_options.gpus.size()]};
  else
    lane_options.gpus = {0};
  auto runner = SweepRunner::create(lane_options);
  if (!runner) world.abort(runner.error().message);

  auto tune = [&](std::size_t index) -> Report {
    SweepRunOptions run_options;
    run_options.force = options.force;
    run_options.runs = std::vector<std::size_t>{index};
    SweepResult result = (*runner)->run(plan, run_options);
    SweepRun& run = result.runs.front();
    run.lane = static_cast<std::size_t>(world.rank());
    std::string records;
    if (run.outcome && !run.done_earlier()) {
      const auto outgoing = transit / "outgoing.db";
      remove_store_file(outgoing);
      if (auto ok = local->extract({run.outcome->tuning_key}, outgoing); !ok) {
        run.error = "tuned, but its records could not be copied for rank 0: " + ok.error().message;
        run.outcome.reset();
      } else {
        records = read_file(outgoing);
      }
      remove_store_file(outgoing);
    }
    return {encode_run_report(run), std::move(records)};
  };

  if (!root) {
    Report report;
    for (;;) {
      const bool finished_one = !report.run.empty();
      world.send(0, kTagAsk, pack(report));
      if (finished_one && exits_after_first_run(world.rank())) std::_Exit(3);
      const std::int64_t index = index_from(world.receive(0, kTagWork).bytes);
      if (index == kNoMoreWork) return std::nullopt;
      report = tune(static_cast<std::size_t>(index));
    }
  }

  if (options.on_ready) options.on_ready(**runner, db->path());
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> costs = estimate_run_costs(plan);
  std::deque<std::size_t> queue;
  for (std::size_t index : longest_first(costs))
    if (std::find(options.runs.begin(), options.runs.end(), index) != options.runs.end()) queue.push_back(index);
  const std::size_t total = queue.size();
  std::map<std::size_t, SweepRun> finished;

  // Finished runs' records go into DB (on the merger thread below) as soon as their lanes have new
  // work: committed, they survive whatever happens to the job next. All the runs waiting are merged
  // in one transaction — one commit's fsyncs however many ranks finished meanwhile, so rank 0 keeps
  // up with many ranks (merged one by one, it fell behind at 8 and the job waited for its queue).
  // Should that merge fail, each run is merged on its own, so only a run whose records DB refuses
  // is set aside (kept in a file for `ktune merge` by hand, the run reported failed).
  auto settle = [&](std::vector<Report> reports) {
    std::vector<SweepRun> runs;
    std::vector<std::filesystem::path> incoming;  // the runs' records, each a store file
    std::vector<std::size_t> with_records;        // which runs those files belong to
    for (Report& report : reports) {
      if (report.run.empty()) continue;
      runs.push_back(decode_run_report(report.run, plan));
      if (report.records.empty()) continue;
      incoming.push_back(transit / ("incoming-" + std::to_string(incoming.size()) + ".db"));
      remove_store_file(incoming.back());
      write_file(incoming.back(), report.records);
      with_records.push_back(runs.size() - 1);
    }
    const bool merged_together = incoming.size() > 1 && db->merge_from(incoming, {options.on_conflict});
    for (std::size_t i = 0; i < incoming.size() && !merged_together; ++i) {
      SweepRun& run = runs[with_records[i]];
      if (auto merged = db->merge_from(incoming[i], {options.on_conflict}); !merged) {
        const auto kept = db->path().string() + ".unmerged-run" + std::to_string(run.index) + ".db";
        write_file(kept, read_file(incoming[i]));
        run.error = "tuned on rank " + std::to_string(run.lane) + ", but merging its records into " + db->path().string() +
                    " failed: " + merged.error().message + "; they are kept in " + kept;
        run.outcome.reset();
      }
    }
    for (const auto& path : incoming) remove_store_file(path);
    for (SweepRun& run : runs) {
      const std::size_t index = run.index;
      auto [it, added] = finished.insert_or_assign(index, std::move(run));
      if (options.on_run_done) options.on_run_done(it->second, finished.size(), total);
    }
  };
  auto next = [&]() -> std::int64_t {
    if (queue.empty()) return kNoMoreWork;
    const std::size_t index = queue.front();
    queue.pop_front();
    return static_cast<std::int64_t>(index);
  };

  // Merging a run into DB (tens of milliseconds: checks, a transaction, fsyncs) happens on a thread
  // of its own, so the loop below answers every ask within a millisecond whatever DB is doing: a
  // lane never waits for DB.
  std::mutex settle_mutex;
  std::condition_variable settle_ready;
  std::deque<Report> to_settle;
  bool all_asked = false;
  std::jthread merger([&] {
    for (;;) {
      std::unique_lock lock(settle_mutex);
      settle_ready.wait(lock, [&] { return !to_settle.empty() || all_asked; });
      if (to_settle.empty()) return;
      std::vector<Report> waiting(std::make_move_iterator(to_settle.begin()), std::make_move_iterator(to_settle.end()));
      to_settle.clear();
      lock.unlock();
      settle(std::move(waiting));
    }
  });
  auto settle_later = [&](Report report) {
    {
      std::lock_guard lock(settle_mutex);
      to_settle.push_back(std::move(report));
    }
    settle_ready.notify_one();
  };
  // Tells the merger that nothing more will come, also when the loop below throws (the merger's
  // thread is joined after this has run: declared after it).
  struct EndMerger {
    std::mutex& mutex;
    std::condition_variable& ready;
    bool& done;
    void finish() {
      {
        std::lock_guard lock(mutex);
        done = true;
      }
      ready.notify_one();
    }
    ~EndMerger() { finish(); }
  } end_merger{settle_mutex, settle_ready, all_asked};

  LocalAsks local_asks;
  std::jthread local_lane([&] {
    Report report;
    for (;;) {
      local_asks.ask(std::move(report));
      const std::int64_t index = local_asks.wait_for_work();
      if (index == kNoMoreWork) return;
      report = tune(static_cast<std::size_t>(index));
    }
  });
  // Should the loop below throw (a broken invariant), the local lane is told to stop, so unwinding
  // does not wait for it forever; mpirun then ends the other ranks when this one exits non-zero.
  struct StopLocalLane {
    LocalAsks& asks;
    bool told = false;
    ~StopLocalLane() {
      if (!told) asks.give(kNoMoreWork);
    }
  } stop_local_lane{local_asks};
  std::size_t working = static_cast<std::size_t>(world.size());  // lanes not yet told there is no more work
  while (working > 0) {
    // The asking lane gets its next run first, and the records it brought are merged after: a
    // lane never waits for DB. A run is committed once merged; a job that dies in between only
    // tunes it again on the rerun.
    bool busy = false;
    if (auto message = world.poll(kTagAsk)) {
      const std::int64_t index = next();
      if (index == kNoMoreWork) --working;
      world.send(message->source, kTagWork, index_bytes(index));
      settle_later(unpack(message->bytes));
      busy = true;
    }
    if (auto report = local_asks.take_ask()) {
      const std::int64_t index = next();
      if (index == kNoMoreWork) {
        --working;
        stop_local_lane.told = true;
      }
      local_asks.give(index);
      settle_later(std::move(*report));
      busy = true;
    }
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  local_lane.join();
  end_merger.finish();
  merger.join();

  SweepResult result;
  for (auto& [index, run] : finished) result.runs.push_back(std::move(run));
  result.totals = sum_totals(result.runs);
  result.totals.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ktune::cli
