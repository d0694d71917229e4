// Data files (engine/common/data_file.hpp): the strict .npy reader on files NumPy writes (every
// dtype, format versions 1-3) and on truncated, corrupt and hostile headers; raw files; the digest
// that ties a loaded spec to the data the runner reads.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/common/data_file.hpp"

using namespace ktune;

namespace {

// A .npy file as NumPy writes it: magic, version, header length, the dictionary padded with spaces
// to a multiple of 64 and ended by a newline, then the data.
std::string npy(std::string_view descr, std::string_view shape, std::string_view data, int major = 1,
                std::string_view fortran = "False") {
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': " + std::string(fortran) +
                     ", 'shape': " + std::string(shape) + ", }";
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::uint32_t len = static_cast<std::uint32_t>(dict.size());
  for (std::size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + dict + std::string(data);
}

Result<DataLayout> parse(const std::string& file) { return parse_npy_header(file, file.size()); }

class DataFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ktune-data-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::filesystem::path dir_;
};

}  // namespace

TEST(NpyHeader, EveryDtypeNumpyWrites) {
  struct Case {
    const char* descr;
    ElementType type;
    bool boolean;
  } cases[] = {{"<f2", ElementType::f16, false}, {"<f4", ElementType::f32, false}, {"<f8", ElementType::f64, false},
               {"|i1", ElementType::i8, false},  {"<i2", ElementType::i16, false}, {"<i4", ElementType::i32, false},
               {"<i8", ElementType::i64, false}, {"|u1", ElementType::u8, false},  {"<u2", ElementType::u16, false},
               {"<u4", ElementType::u32, false}, {"<u8", ElementType::u64, false}, {"|b1", ElementType::u8, true}};
  for (const auto& c : cases) {
    const std::size_t size = element_size(c.type);
    auto layout = parse(npy(c.descr, "(2, 3)", std::string(6 * size, '\x01')));
    ASSERT_TRUE(layout.ok()) << c.descr << ": " << layout.error().message;
    EXPECT_EQ(layout->type, c.type) << c.descr;
    EXPECT_EQ(layout->boolean, c.boolean) << c.descr;
    EXPECT_EQ(layout->shape, (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(layout->count, 6u);
    EXPECT_EQ(layout->data_bytes, 6 * size);
    EXPECT_EQ(layout->data_offset % 64, 0u);
  }
}

TEST(NpyHeader, VersionsOneTwoThreeAndShapes) {
  for (int major : {1, 2, 3}) {
    auto layout = parse(npy("<f4", "(5,)", std::string(20, '\0'), major));
    ASSERT_TRUE(layout.ok()) << major << ": " << layout.error().message;
    EXPECT_EQ(layout->count, 5u);
    EXPECT_EQ(layout->data_offset % 64, 0u);
  }
  auto scalar = parse(npy("<f8", "()", std::string(8, '\0')));
  ASSERT_TRUE(scalar.ok()) << scalar.error().message;
  EXPECT_EQ(scalar->count, 1u);
  EXPECT_TRUE(scalar->shape.empty());
  auto empty = parse(npy("<f4", "(0, 7)", ""));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->count, 0u);
  // Keys in another order, double quotes, no trailing comma, one-dimensional Fortran order.
  std::string reordered = npy("<i4", "(3,)", std::string(12, '\0'));
  reordered.replace(reordered.find("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"), 57,
                    "{\"shape\": (3,), \"fortran_order\": True, \"descr\": \"<i4\"}   ");
  auto other = parse(reordered);
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->count, 3u);
  EXPECT_EQ(other->describe(), "(3,) of int32");
}

TEST(NpyHeader, UnsupportedDataIsNamed) {
  auto expect_error = [](const std::string& file, const char* words) {
    auto layout = parse(file);
    ASSERT_FALSE(layout.ok()) << words;
    EXPECT_NE(layout.error().message.find(words), std::string::npos) << layout.error().message;
  };
  expect_error(npy(">f4", "(2,)", std::string(8, '\0')), "big-endian");
  expect_error(npy("<c8", "(2,)", std::string(16, '\0')), "dtype '<c8' is not supported");
  expect_error(npy("<U4", "(2,)", std::string(32, '\0')), "not supported");
  expect_error(npy("|f4", "(2,)", std::string(8, '\0')), "not supported");
  expect_error(npy("<f4", "(2, 2)", std::string(16, '\0'), 1, "True"), "Fortran");
  std::string v4 = npy("<f4", "(2,)", std::string(8, '\0'));
  v4[6] = 4;
  expect_error(v4, "format version 4.0");
}

TEST(NpyHeader, TruncatedCorruptAndHostileHeadersAreErrors) {
  const std::string good = npy("<f4", "(4,)", std::string(16, '\0'));
  // Every truncation is an error (the data must be exactly the shape's), and so is a byte more.
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(parse(good.substr(0, n)).ok()) << n;
  EXPECT_FALSE(parse(good + '\0').ok());
  auto mismatch = parse(npy("<f4", "(5,)", std::string(16, '\0')));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("needs 20 bytes of data, the file has 16"), std::string::npos) << mismatch.error().message;

  const char* bad_dicts[] = {
      "{'descr': '<f4', 'fortran_order': False}",                                 // no shape
      "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",  // a key twice
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,)}",                      // not a boolean
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}",                 // negative
      "{'descr': '<f4', 'fortran_order': False, 'shape': 4}",                     // not a tuple
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}",          // unknown key
      "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,)}",         // structured
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} junk",             // trailing text
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",  // overflows
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",  // count overflows
      "{'descr': '<f4\\', 'fortran_order': False, 'shape': (4,)}",               // escape
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)",                   // unclosed
      "{'descr': '<f4', 'fortran_order': False, 'shape': (\xc3\xa9,)}",           // non-ASCII
  };
  for (const char* dict : bad_dicts) {
    std::string file = "\x93NUMPY\x01";
    file += '\0';
    const std::string text = std::string(dict) + "\n";
    file += static_cast<char>(text.size() & 0xff);
    file += static_cast<char>(text.size() >> 8);
    file += text + std::string(16, '\0');
    auto layout = parse(file);
    EXPECT_FALSE(layout.ok()) << dict;
    if (!layout.ok()) {
      EXPECT_TRUE(layout.error().message.find("not a valid .npy file") == 0 || layout.error().code == Errc::unsupported)
          << layout.error().message;
    }
  }
  // A header length far past the file and past the cap: refused before anything is read.
  std::string hostile = good;
  hostile[6] = 2;
  hostile.insert(10, 2, '\xff');  // header length 0xffff____ as a u32
  hostile[8] = hostile[9] = '\xff';
  auto refused = parse(hostile);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("at most 65536"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(parse("\x93NUMPZ\x01\x00\x10\x00{}").ok());
  EXPECT_FALSE(parse("").ok());
}

TEST(RawData, SizeMustBeAMultipleOfTheElement) {
  auto layout = raw_layout(ElementType::f64, 80);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->count, 10u);
  auto odd = raw_layout(ElementType::f32, 10);
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("multiple of 4 bytes"), std::string::npos) << odd.error().message;
}

TEST(LayoutFit, TypeAndCountAreChecked) {
  auto layout = parse(npy("<f8", "(2, 2)", std::string(32, '\0')));
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(check_layout_fits(*layout, ElementType::f64, 4).ok());
  auto type = check_layout_fits(*layout, ElementType::f32, 4);
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.error().message.find("(2, 2) of double, the destination is float"), std::string::npos) << type.error().message;
  auto count = check_layout_fits(*layout, ElementType::f64, 5);
  ASSERT_FALSE(count.ok());
  EXPECT_NE(count.error().message.find("holds 4 elements"), std::string::npos) << count.error().message;
  auto booleans = parse(npy("|b1", "(3,)", std::string("\x01\x00\x01", 3)));
  ASSERT_TRUE(booleans.ok());
  EXPECT_TRUE(check_layout_fits(*booleans, ElementType::u8, 3).ok());
  EXPECT_TRUE(check_layout_fits(*booleans, ElementType::i8, 3).ok());
}

TEST_F(DataFileOnDisk, InspectAndLoadAgreeAndTheDigestFollowsTheContents) {
  float values[] = {1.5f, -2.0f, 3.25f};
  std::string data(reinterpret_cast<const char*>(values), sizeof values);
  auto path = write("a.npy", npy("<f4", "(3,)", data));
  auto info = inspect_data_file(path, DataFormat::npy, ElementType::f32);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->layout.count, 3u);
  EXPECT_EQ(info->digest.size(), 32u);
  std::vector<std::byte> out(12);
  ASSERT_TRUE(load_data_file(path, DataFormat::npy, ElementType::f32, out, info->digest).ok());
  EXPECT_EQ(std::memcmp(out.data(), values, 12), 0);

  // Changed after the spec was loaded: the runner refuses rather than measure other data.
  values[1] = 7.0f;
  write("a.npy", npy("<f4", "(3,)", std::string(reinterpret_cast<const char*>(values), sizeof values)));
  auto changed = load_data_file(path, DataFormat::npy, ElementType::f32, out, info->digest);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.error().message.find("changed since the spec was loaded"), std::string::npos) << changed.error().message;
  auto again = inspect_data_file(path, DataFormat::npy, ElementType::f32);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->digest, info->digest);

  auto wrong_type = load_data_file(path, DataFormat::npy, ElementType::i32, out, "");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find(path.string()), std::string::npos) << wrong_type.error().message;
  std::vector<std::byte> small(8);
  EXPECT_FALSE(load_data_file(path, DataFormat::npy, ElementType::f32, small, "").ok());

  auto raw = write("r.bin", data);
  auto raw_info = inspect_data_file(raw, DataFormat::raw, ElementType::i16);
  ASSERT_TRUE(raw_info.ok());
  EXPECT_EQ(raw_info->layout.count, 6u);
  auto missing = inspect_data_file(dir_ / "missing.npy", DataFormat::npy, ElementType::f32);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.npy: no such file"), std::string::npos) << missing.error().message;
}

TEST_F(DataFileOnDisk, FilesWrittenByNumpyItself) {
  // Written by numpy 2.4 (np.save) and checked in, so the reader is tested against the real writer.
  const std::filesystem::path folder = KTUNE_SOURCE_DIR "/tests/data/npy";
  struct Case {
    const char* file;
    ElementType type;
    std::uint64_t count;
  } cases[] = {{"f2.npy", ElementType::f16, 6},  {"f4.npy", ElementType::f32, 6}, {"f8.npy", ElementType::f64, 6},
               {"i1.npy", ElementType::i8, 6},   {"i8.npy", ElementType::i64, 6}, {"u2.npy", ElementType::u16, 6},
               {"b1.npy", ElementType::u8, 6},   {"v2.npy", ElementType::f32, 3}, {"v3.npy", ElementType::f32, 3},
               {"scalar.npy", ElementType::f64, 1}};
  for (const auto& c : cases) {
    auto info = inspect_data_file(folder / c.file, DataFormat::npy, c.type);
    ASSERT_TRUE(info.ok()) << c.file << ": " << info.error().message;
    EXPECT_EQ(info->layout.type, c.type) << c.file;
    EXPECT_EQ(info->layout.count, c.count) << c.file;
    std::vector<std::byte> out(c.count * element_size(c.type));
    EXPECT_TRUE(load_data_file(folder / c.file, DataFormat::npy, c.type, out, info->digest).ok()) << c.file;
  }
  // f4.npy holds arange(6).reshape(2, 3) as float32.
  std::vector<std::byte> out(24);
  ASSERT_TRUE(load_data_file(folder / "f4.npy", DataFormat::npy, ElementType::f32, out, "").ok());
  float values[6];
  std::memcpy(values, out.data(), 24);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], static_cast<float>(i));
  auto fortran = inspect_data_file(folder / "fortran.npy", DataFormat::npy, ElementType::f32);
  ASSERT_FALSE(fortran.ok());
  EXPECT_NE(fortran.error().message.find("Fortran"), std::string::npos) << fortran.error().message;
  auto big = inspect_data_file(folder / "big_endian.npy", DataFormat::npy, ElementType::f32);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("big-endian"), std::string::npos) << big.error().message;
}
