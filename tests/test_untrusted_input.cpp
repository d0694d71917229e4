// Untrusted input: a lookup table from elsewhere (a CI cache, a colleague) or a spec from the
// internet. Whatever its fields hold, importing, showing and exporting it never runs anything and
// never writes anywhere but the store; absurd sizes are refused with a clear error before anything
// is allocated (proved by running the code under a low address-space limit).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/model/instantiate.hpp"
#include "engine/model/key.hpp"
#include "engine/common/hash.hpp"
#include "engine/model/spec.hpp"
#include "store/store.hpp"
#include "store/table_format.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tuner/search_space.hpp"

namespace {

using namespace ktune;
namespace fs = std::filesystem;

struct ScratchDir : ktune::testing::ScratchDir {
  ScratchDir() : ktune::testing::ScratchDir("ktune-untrusted") {}
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

using Shell = ktune::testing::CliRun;
// Runs a command line through /bin/sh (the test builds it; the CLI never sees a shell).
inline Shell sh(const std::string& command) { return ktune::testing::run_shell(command); }

std::string quoted(const std::string& text) {  // for sh: single quotes, with ' spelled '\''
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Every file under `root`, relative, folders excluded.
std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (!entry.is_directory()) out.insert(fs::relative(entry.path(), root).string());
  return out;
}

// Runs `body` in a forked child whose address space may grow by at most `headroom` bytes beyond
// what it has at the fork: an allocation of anything absurd fails there. The body returns an
// empty string on success, else what went wrong; the child must also not die.
std::string with_address_space_limit(std::size_t headroom, const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string verdict;
    try {
      std::ifstream status("/proc/self/status");
      std::size_t vm_kb = 0;
      for (std::string line; std::getline(status, line);)
        if (line.rfind("VmSize:", 0) == 0) vm_kb = std::stoul(line.substr(7));
      const rlim_t limit = static_cast<rlim_t>(vm_kb * 1024 + headroom);
      rlimit rl{limit, limit};
      if (vm_kb == 0 || ::setrlimit(RLIMIT_AS, &rl) != 0)
        verdict = "cannot set RLIMIT_AS";
      else
        verdict = body();
    } catch (const std::bad_alloc&) {
      verdict = "std::bad_alloc: something tried to allocate";
    } catch (const std::exception& e) {
      verdict = std::string("exception: ") + e.what();
    }
    if (::write(fds[1], verdict.data(), verdict.size()) < 0) ::_exit(3);
    ::_exit(verdict.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string verdict;
  char buffer[512];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) verdict.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "the child died of signal " + std::to_string(WTERMSIG(status)) + "; " + verdict;
  return verdict;
}

const std::string kCli = KTUNE_CLI;

// ---- lookup tables ----

struct HostileTable {
  store::LookupTable table;
  std::string json;
};

// A valid table (keys are real hashes) whose every free-text field is a shell injection or a path
// escape aimed at `markers`: if anything ever ran one of them, a marker file would appear there.
HostileTable hostile_table(const fs::path& markers) {
  auto touch = [&](int n) { return "touch " + (markers / ("pwned-" + std::to_string(n))).string(); };
  store::KernelRecord kernel;
  kernel.name = "$(" + touch(1) + ")`" + touch(2) + "`;" + touch(3) + "|" + touch(4) + " ../../../../etc/passwd";
  // A real kernel form (an import checks what a table means), with hostile text where a form
  // holds text: the source and the options.
  kernel.kernel_json = R"js({"form":"ktune-kernel","version":1,"source":"#include \"../../../../etc/passwd\"\n$()js" +
                       touch(5) + R"js()","options":["; )js" + touch(6) +
                       R"js("],"cache":"../../../../tmp/ktune-untrusted","params":[{"name":"BM","values":[64]}],"sizes":["M"],"constraints":[]})js";
  kernel.kernel_key = xxh3_128(kernel.kernel_json).hex();
  store::BestRecord entry;
  entry.tuning.kernel_key = kernel.kernel_key;
  entry.tuning.sizes = {{"M", 4096}};
  entry.tuning.device = "../../../../../tmp/ktune-device; " + touch(7) + " #";
  // arch and toolchain have a syntax an import checks (ImportMeaning.*); markers 8 and 9 go in the
  // strategy, which is free text.
  entry.tuning.arch = "sm_90";
  entry.tuning.toolchain = "nvrtc 13.0";
  entry.tuning.tuning_key = xxh3_128(tuning_canonical_form(kernel.kernel_key, {"M"}, entry.tuning.sizes,
                                                           {entry.tuning.device, entry.tuning.arch}, Toolchain{"13.0"}))
                                .hex();
  entry.config = {{"BM", 64}};
  entry.time_ns = 1843.2;
  entry.default_time_ns = 5713.9;
  entry.strategy = "exhaustive\n" + touch(10) + "\n$(" + touch(8) + ") && " + touch(9);
  entry.evaluations = 243;
  entry.wall_seconds = 3.9;
  entry.tuned_at = 1795342500;
  entry.ktune_version = "0.1.0 `" + touch(11) + "` %s%s%n";
  HostileTable out;
  out.table.kernels = {kernel};
  out.table.entries = {entry};
  out.json = store::table_to_json(out.table);
  return out;
}

TEST(UntrustedInput, AHostileTableIsStoredAsTextAndNothingRunsOrIsWrittenElsewhere) {
  ScratchDir dir;
  fs::create_directories(dir / "work/a/b/c");
  fs::create_directories(dir / "home");
  fs::create_directories(dir / "cache");
  std::ofstream(dir / "victim") << "must survive\n";
  const HostileTable hostile = hostile_table(dir.path);
  std::ofstream(dir / "table.json") << hostile.json;
  const fs::path db = dir / "store/ktune.db";
  // From deep inside the scratch folder, so a relative path escape would still land in it; with
  // HOME and XDG_CACHE_HOME there too, so any write to a default location would show.
  const std::string env = "cd " + quoted((dir / "work/a/b/c").string()) +
                          " && HOME=" + quoted((dir / "home").string()) +
                          " XDG_CACHE_HOME=" + quoted((dir / "cache").string()) + " ";
  const std::string db_arg = " --db " + quoted(db.string());

  const Shell imported = sh(env + kCli + " import " + quoted((dir / "table.json").string()) + db_arg);
  ASSERT_EQ(imported.status, 0) << imported.output;
  EXPECT_NE(imported.output.find("1 kernels added, 1 entries added"), std::string::npos) << imported.output;
  const Shell shown = sh(env + kCli + " show" + db_arg);
  EXPECT_EQ(shown.status, 0) << shown.output;
  EXPECT_NE(shown.output.find(hostile.table.entries[0].tuning.device), std::string::npos) << shown.output;
  const Shell shown_json = sh(env + kCli + " show --json" + db_arg);
  EXPECT_EQ(shown_json.status, 0) << shown_json.output;
  const Shell exported = sh(env + kCli + " export" + db_arg);
  ASSERT_EQ(exported.status, 0) << exported.output;
  // Every byte of every field comes back exactly as it went in: stored as data, never interpreted.
  EXPECT_EQ(exported.output, hostile.json);
  const Shell by_name = sh(env + kCli + " export --kernel " + quoted(hostile.table.kernels[0].name) + " --device " +
                           quoted(hostile.table.entries[0].tuning.device) + db_arg);
  EXPECT_EQ(by_name.output, hostile.json);
  // A second import of the same table changes nothing.
  const Shell again = sh(env + kCli + " import " + quoted((dir / "table.json").string()) + db_arg);
  EXPECT_NE(again.output.find("1 unchanged"), std::string::npos) << again.output;

  for (int n = 1; n <= 11; ++n) EXPECT_FALSE(fs::exists(dir / ("pwned-" + std::to_string(n)))) << "marker " << n;
  for (const auto& entry : fs::directory_iterator("/tmp"))
    EXPECT_NE(entry.path().filename().string().rfind("ktune-device", 0), 0u) << entry.path();
  EXPECT_FALSE(fs::exists("/tmp/ktune-untrusted"));
  EXPECT_EQ(read_text(dir / "victim"), "must survive\n");
  // Nothing but the store (and its WAL companions while open) appeared anywhere.
  std::set<std::string> files = files_under(dir.path);
  std::erase_if(files, [](const std::string& f) { return f == "store/ktune.db-wal" || f == "store/ktune.db-shm"; });
  EXPECT_EQ(files, (std::set<std::string>{"store/ktune.db", "table.json", "victim"}));
}

TEST(UntrustedInput, HugeAndOutOfRangeNumbersInATableAreRefusedOrKeptExactly) {
  ScratchDir dir;
  const fs::path markers = dir.path;
  const HostileTable base = hostile_table(markers);
  auto with_entry_field = [&](const std::string& field, const std::string& raw_json_value) {
    // The raw text goes in verbatim, so numbers no JSON library would produce can be written.
    auto root = nlohmann::json::parse(base.json);
    root["entries"][0][field] = "@@VALUE@@";
    std::string text = root.dump();
    return text.replace(text.find("\"@@VALUE@@\""), 11, raw_json_value);
  };
  auto store = store::Store::open(dir / "store.db").value_or_throw();
  struct Bad {
    std::string field, value, says;
  };
  const Bad bad[] = {
      {"evaluations", "1e300", "field 'evaluations' must be an integer"},
      {"evaluations", "18446744073709551615", "field 'evaluations' is out of range"},
      {"evaluations", "-1", "evaluations"},
      {"time_ns", "-5.0", "time_ns"},
      {"time_ns", "0", "time_ns"},
      {"time_ns", "\"1e12\"", "time_ns"},
      {"wall_seconds", "-1e300", "wall_seconds"},
      {"tuned_at", "\"99999-01-01T00:00:00Z\"", "UTC time"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.field + " = " + b.value);
    const std::string text = with_entry_field(b.field, b.value);
    auto parsed = store::table_from_json(text);
    if (parsed.ok()) {
      auto imported = store.import_table(*parsed);
      ASSERT_FALSE(imported.ok()) << "accepted";
      EXPECT_NE(imported.error().message.find(b.says), std::string::npos) << imported.error().message;
    } else {
      EXPECT_NE(parsed.error().message.find(b.says), std::string::npos) << parsed.error().message;
      EXPECT_NE(parsed.error().message.find("entries[0]"), std::string::npos) << parsed.error().message;
    }
  }
  // A size beyond the 64-bit range, and JSON numbers beyond double's.
  for (const std::string& text :
       {with_entry_field("sizes", R"({"M": 18446744073709551616})"), with_entry_field("sizes", R"({"M": 1e400})"),
        with_entry_field("time_ns", "1e400"), with_entry_field("evaluations", "1" + std::string(400, '0'))}) {
    SCOPED_TRACE(text.substr(text.find("\"entries\"")));
    auto parsed = store::table_from_json(text);
    if (parsed.ok()) {
      auto imported = store.import_table(*parsed);
      EXPECT_FALSE(imported.ok()) << "accepted";
    }
  }
  EXPECT_EQ(store.stats().value_or_throw().best_entries, 0) << "a refused table left something behind";
  // Through the CLI: a one-line error and exit 1, not an internal error.
  std::ofstream(dir / "overflow.json") << with_entry_field("time_ns", "1e400");
  const Shell cli =
      sh(kCli + " import " + quoted((dir / "overflow.json").string()) + " --db " + quoted((dir / "cli.db").string()));
  EXPECT_EQ(cli.status, 1) << cli.output;
  EXPECT_EQ(cli.output.rfind("ktune: error: ", 0), 0u) << cli.output;
  EXPECT_NE(cli.output.find("nothing was imported"), std::string::npos) << cli.output;

  // The extremes of the valid ranges are kept exactly.
  store::LookupTable extreme = base.table;
  extreme.entries[0].tuning.sizes = {{"M", INT64_MAX}};
  extreme.entries[0].config = {{"BM", INT64_MIN}};
  extreme.entries[0].evaluations = INT64_MAX;
  extreme.entries[0].time_ns = 1.7976931348623157e308;
  extreme.entries[0].wall_seconds = 4.9406564584124654e-324;
  const std::string text = store::table_to_json(extreme);
  auto parsed = store::table_from_json(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_TRUE(store.import_table(*parsed).ok());
  EXPECT_EQ(store::table_to_json(store.export_table().value_or_throw()), text);
}

TEST(UntrustedInput, AnEndlessOrHugeTableFileIsRefusedBeforeItExhaustsMemory) {
  ScratchDir dir;
  // A 64 GiB table that takes no disk (sparse) and an endless one: with 1.5 GiB of address space,
  // reading either whole would end in std::bad_alloc (or the OOM killer without the limit).
  const fs::path sparse = dir / "huge-table.json";
  { std::ofstream(sparse) << "{"; }
  fs::resize_file(sparse, 64ULL << 30);
  const std::string limit = "ulimit -v 1572864 && ";  // KiB
  const std::string db = " --db " + quoted((dir / "store.db").string());
  for (const std::string& source :
       {" " + quoted(sparse.string()), std::string(" /dev/zero"), std::string(" - < /dev/zero")}) {
    SCOPED_TRACE(source);
    const auto start = std::chrono::steady_clock::now();
    const Shell run = sh(limit + kCli + " import" + source + db);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(run.status, 1) << run.output;
    EXPECT_NE(run.output.find("ktune: error:"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("larger than 256 MiB; not a lookup table"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("nothing was imported"), std::string::npos) << run.output;
    EXPECT_LT(seconds, 20.0);
  }
  EXPECT_FALSE(fs::exists(dir / "store.db")) << "a refused import created the store";
}

// ---- specs ----

std::string spec_text(const std::string& source_json, const std::string& count_expr = "M * N") {
  return R"js({
  "ktune_spec": 1,
  "name": "untrusted",
  "source": )js" +
         source_json + R"js(,
  "entry": "root",
  "sizes": ["M", "N"],
  "params": {"BM": [32, 64]},
  "default": {"BM": 32},
  "launch": {"grid": ["ceil_div(M, BM)"], "block": ["BM"]},
  "args": [{"name": "x", "type": "float*", "count": ")js" +
         count_expr + R"js(", "output": true},
           {"name": "M", "type": "int", "value": "M"}]
})js";
}

TEST(UntrustedInput, ASpecSourceOutsideItsFolderIsOnlyEverReadAsText) {
  ScratchDir dir;
  fs::create_directories(dir / "specs");
  // A source path that climbs out of the spec's folder: read as kernel text, never run or written.
  // ("root" is in /etc/passwd, so the spec even loads; NVRTC then rejects it as C++.)
  const fs::path spec = dir / "specs/passwd.json";
  std::ofstream(spec) << spec_text(R"("../../../../../../../../../../etc/passwd")");
  const fs::path passwd = "/etc/passwd";
  const auto before = fs::last_write_time(passwd);
  const Shell space = sh("cd " + quoted(dir.path.string()) + " && HOME=" + quoted(dir.path.string()) + " " + kCli +
                         " compile " + quoted(spec.string()) + " --no-cache --no-nvrtc-cache --workers 1");
  EXPECT_EQ(space.status, 1) << space.output;
  // The entry check compiles the default configuration first (in a worker) and stops there.
  EXPECT_NE(space.output.find("the default configuration does not compile (compile_error)"), std::string::npos) << space.output;
  EXPECT_EQ(fs::last_write_time(passwd), before);
  EXPECT_EQ(files_under(dir.path), (std::set<std::string>{"specs/passwd.json"}));

  // Sources that are not files: refused at once by name, never read (a FIFO would block a reader
  // forever, /dev/zero would never end).
  ASSERT_EQ(::mkfifo((dir / "specs/fifo.cu").c_str(), 0600), 0);
  for (const std::string& source : {std::string(R"("fifo.cu")"), std::string(R"("/dev/zero")"),
                                    std::string(R"({"file": "/dev/urandom"})"), std::string(R"("/proc/self/mem")")}) {
    SCOPED_TRACE(source);
    const std::string text = spec_text(source);
    const std::string verdict = with_address_space_limit(64u << 20, [&]() -> std::string {
      auto parsed = KernelSpec::from_json_text(text, dir / "specs");
      if (parsed.ok()) return "accepted";
      if (parsed.error().message.find("source") == std::string::npos)
        return "error names no field: " + parsed.error().message;
      return {};
    });
    EXPECT_EQ(verdict, "");
  }
  // A spec name is never a path: it would end up in file names and tables.
  auto escaping = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "../../etc/x", "source": {"code": "root"},
    "entry": "root", "params": {"A": [1]}, "default": {"A": 1}, "launch": {"grid": [1], "block": [1]},
    "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})");
  ASSERT_FALSE(escaping.ok());
  EXPECT_NE(escaping.error().message.find("name"), std::string::npos) << escaping.error().message;
}

TEST(UntrustedInput, AbsurdBufferSizesAreRefusedBeforeAnythingIsAllocated) {
  struct Case {
    const char* what;
    std::string count;
    Sizes sizes;
    const char* says;
  };
  const Case cases[] = {
      {"10^12 floats (4 TB)", "M * N", {{"M", 1000000}, {"N", 1000000}}, "would exceed 1 TiB"},
      {"a count whose product overflows int64", "M * N * M * N", {{"M", 1LL << 20}, {"N", 1LL << 20}}, "overflow"},
      {"a product that overflows only once multiplied by the element size",
       "M * N",
       {{"M", 1LL << 31}, {"N", 1LL << 31}},
       "would exceed 1 TiB"},
      {"a negative count", "M - N", {{"M", 1}, {"N", 2}}, "negative"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const KernelSpec spec =
        KernelSpec::from_json_text(spec_text(R"({"code": "__global__ void root(float* x, int M) {}"})", c.count))
            .value_or_throw();
    const std::string verdict = with_address_space_limit(64u << 20, [&]() -> std::string {
      auto problem = make_problem(spec, c.sizes);
      if (problem.ok()) return "accepted: " + std::to_string(problem->total_bytes) + " bytes";
      const std::string& m = problem.error().message;
      if (m.find(c.says) == std::string::npos || m.find("args.x") == std::string::npos) return "unclear error: " + m;
      return {};
    });
    EXPECT_EQ(verdict, "");
  }
  // A space far beyond the enumeration limit is refused before enumerating anything.
  std::string many = "[";
  for (int i = 0; i < 65536; ++i) many += (i ? "," : "") + std::to_string(i);
  many += "]";
  const std::string huge_space = R"({"ktune_spec": 1, "name": "huge", "source": {"code": "root"}, "entry": "root",
    "params": {"A": )" + many + R"(, "B": )" +
                                 many + R"(, "C": )" + many + R"(}, "default": {"A": 0, "B": 0, "C": 0},
    "launch": {"grid": [1], "block": [1]}, "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})";
  const KernelSpec spec = KernelSpec::from_json_text(huge_space).value_or_throw();
  const auto start = std::chrono::steady_clock::now();
  auto space = SearchSpace::build(spec.space);
  ASSERT_FALSE(space.ok());
  EXPECT_NE(space.error().message.find("more than the enumeration limit"), std::string::npos) << space.error().message;
  // Not a speed goal: enumerating 2.8·10¹⁴ configurations would take days, so any refusal that
  // came after trying shows up as a hang; the bound is loose enough for sanitizer builds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  // And a parameter list beyond 65536 values is a spec error.
  auto too_many = KernelSpec::from_json_text(R"({"ktune_spec": 1, "name": "huge", "source": {"code": "root"},
    "entry": "root", "params": {"A": )" + many.substr(0, many.size() - 1) +
                                             R"(,65536]}, "default": {"A": 0},
    "launch": {"grid": [1], "block": [1]}, "args": [{"name": "x", "type": "float*", "count": 1, "output": true}]})");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("more than 65536 values"), std::string::npos) << too_many.error().message;
}

}  // namespace
