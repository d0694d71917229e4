// Issue 14: stored text is data, not terminal commands. Kernel names and device names carrying
// every C0 control character, DEL and every C1 control (a CSI, an OSC that retitles the terminal,
// a bell, a carriage return that hides what came before) reach `ktune show` as escapes, never raw.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "engine/common/hash.hpp"
#include "engine/common/printable.hpp"
#include "store/store.hpp"
#include "tests/helpers/run_ktune.hpp"
#include "tests/helpers/scratch_dir.hpp"

using ktune::testing::run_shell;
using ktune::testing::ScratchDir;

namespace {

// Every control sequence lead-in a terminal obeys: C0 (0x00-0x1f), DEL, C1 as UTF-8 (U+0080-U+009F).
std::vector<std::string> control_characters() {
  std::vector<std::string> all;
  for (int c = 0; c < 0x20; ++c) all.push_back(std::string(1, static_cast<char>(c)));
  all.push_back("\x7f");
  for (int c = 0x80; c <= 0x9f; ++c) all.push_back(std::string("\xc2") + static_cast<char>(c));
  return all;
}

bool has_raw_control(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f &&
        static_cast<unsigned char>(text[i + 1]) >= 0x80)
      return true;
  }
  return false;
}

}  // namespace

TEST(Printable, EscapesControlsAndKeepsText) {
  EXPECT_EQ(ktune::printable("sgemm_tiled M=4096"), "sgemm_tiled M=4096");
  EXPECT_EQ(ktune::printable("a\x1b]0;pwned\x07z"), "a\\x1b]0;pwned\\x07z");
  EXPECT_EQ(ktune::printable("x\ry"), "x\\x0dy");
  EXPECT_EQ(ktune::printable(std::string("\xc2\x9b" "31m", 5)), "\\u009b31m");
  EXPECT_EQ(ktune::printable("H100 \xc3\xa9t\xc3\xa9"), "H100 \xc3\xa9t\xc3\xa9");  // é is text, not a control
  EXPECT_EQ(ktune::printable(std::string("n\0ul", 4)), "n\\x00ul");
}

TEST(ShowEscapes, StoredNamesWithControlCharactersArePrintedEscaped) {
  ScratchDir dir("ktune-escapes");
  const auto db = dir / "hostile.db";
  const auto controls = control_characters();
  {
    auto store = ktune::store::Store::open(db).value_or_throw();
    for (std::size_t i = 0; i < controls.size(); ++i) {
      const std::string name = "k" + std::to_string(i) + controls[i] + "[2J";
      const std::string json = "{\"name\":\"k" + std::to_string(i) + "\"}";
      ktune::store::KernelRecord kernel{ktune::xxh3_128(json).hex(), name, json};
      ASSERT_TRUE(store.put_kernel(kernel).ok());
      ktune::store::BestRecord best;
      best.tuning = {ktune::xxh3_128(json + "t").hex(), kernel.kernel_key, {{"N", 64}},
                     "GPU" + controls[i] + "]0;owned", "sm_90", "nvrtc 13.0"};
      best.config = {{"B", 1}};
      best.time_ns = 1000;
      best.strategy = "exhaustive";
      best.tuned_at = 1795305600;
      best.ktune_version = "0.1.0";
      auto put = store.put_best(best);
      ASSERT_TRUE(put.ok()) << put.error().message;
    }
  }
  auto show = run_shell(std::string(KTUNE_CLI) + " show --db " + db.string());
  ASSERT_EQ(show.status, 0) << show.output;
  EXPECT_FALSE(has_raw_control(show.output)) << show.output;
  int cases = 0;
  for (std::size_t i = 0; i < controls.size(); ++i) {
    ++cases;
    const std::string escaped = ktune::printable("k" + std::to_string(i) + controls[i] + "[2J");
    EXPECT_NE(show.output.find(escaped), std::string::npos) << escaped;
  }
  // The JSON form escapes them too (C0 as JSON requires, DEL and C1 as \u escapes), and still
  // parses to the stored names.
  auto json = run_shell(std::string(KTUNE_CLI) + " show --json --db " + db.string());
  EXPECT_EQ(json.status, 0) << json.output;
  EXPECT_FALSE(has_raw_control(json.output));
  const auto parsed = nlohmann::json::parse(json.output);
  std::set<std::string> names;
  for (const auto& entry : parsed["entries"]) names.insert(entry["kernel"].get<std::string>());
  for (std::size_t i = 0; i < controls.size(); ++i) EXPECT_EQ(names.count("k" + std::to_string(i) + controls[i] + "[2J"), 1u) << i;
  ++cases;
  std::printf("[hostile cases] control characters in stored names: %d\n", cases);
}
