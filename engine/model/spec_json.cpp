// Parsing and validating a kernel spec (docs/spec.md). Every error names the field it is about,
// as a path like "args[2].count", prefixed with the spec file's name.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/common/identifier.hpp"
#include "engine/model/entry_pattern.hpp"
#include "engine/model/json_input.hpp"
#include "engine/model/spec.hpp"
#include "engine/model/included_headers.hpp"
#include "engine/runner/launch_plan.hpp"
#include "tuner/search_space.hpp"

namespace ktune {

std::optional<ElementType> parse_element_type(std::string name) {
  static const std::pair<const char*, ElementType> table[] = {
      {"float", ElementType::f32},   {"float32", ElementType::f32},   {"double", ElementType::f64},
      {"float64", ElementType::f64}, {"half", ElementType::f16},      {"__half", ElementType::f16},
      {"float16", ElementType::f16}, {"bf16", ElementType::bf16},     {"bfloat16", ElementType::bf16},
      {"__nv_bfloat16", ElementType::bf16}, {"int", ElementType::i32}, {"int32", ElementType::i32},
      {"int32_t", ElementType::i32}, {"unsigned", ElementType::u32},  {"unsigned int", ElementType::u32},
      {"uint32", ElementType::u32},  {"uint32_t", ElementType::u32},  {"long long", ElementType::i64},
      {"int64", ElementType::i64},   {"int64_t", ElementType::i64},   {"unsigned long long", ElementType::u64},
      {"uint64", ElementType::u64},  {"uint64_t", ElementType::u64},  {"size_t", ElementType::u64},
      {"int8", ElementType::i8},     {"int8_t", ElementType::i8},     {"char", ElementType::i8},
      {"signed char", ElementType::i8}, {"uint8", ElementType::u8},   {"uint8_t", ElementType::u8},
      {"unsigned char", ElementType::u8}, {"int16", ElementType::i16}, {"int16_t", ElementType::i16},
      {"short", ElementType::i16},   {"uint16", ElementType::u16},    {"uint16_t", ElementType::u16},
      {"unsigned short", ElementType::u16}};
  for (const auto& [n, t] : table)
    if (name == n) return t;
  return std::nullopt;
}

namespace {

using json = json_input::json;
using json_input::type_name;

// Specs are small; anything bigger is a mistake (or an attack) and is refused before parsing.
constexpr json_input::DocumentKind kSpecDocument{"kernel spec", "spec", Errc::invalid_spec};
constexpr std::size_t kMaxSourceBytes = 16u << 20;
constexpr std::size_t kMaxValuesPerParam = 1u << 16;
// A default that violates a constraint gets a better message when the constraint alone rejects
// every configuration, which takes enumerating the space. Past this size that is not worth it: a
// 4 KiB spec can declare 3 x 300 values, and 27 million evaluations took seconds (under ASan, a
// minute) on an error path.
constexpr std::uint64_t kMaxProductToExplain = 1'000'000;

using SpecFailure = json_input::FieldError;

// The source with comments and string/character literals blanked (same length, newlines kept), so
// a name that occurs only in a comment or a string does not count as occurring in the code.
std::string code_only(std::string_view text) {
  std::string out(text);
  enum class In { code, line_comment, block_comment, string, character } in = In::code;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (in) {
      case In::code:
        if (c == '/' && next == '/') in = In::line_comment;
        else if (c == '/' && next == '*') in = In::block_comment;
        else if (c == '"') in = In::string;
        else if (c == '\'') in = In::character;
        else continue;
        out[i] = ' ';
        if (in == In::line_comment || in == In::block_comment) out[++i] = ' ';
        continue;
      case In::line_comment:
        if (c == '\n') in = In::code;
        else out[i] = ' ';
        continue;
      case In::block_comment:
        if (c == '*' && next == '/') {
          out[i] = out[i + 1] = ' ';
          ++i;
          in = In::code;
        } else if (c != '\n') {
          out[i] = ' ';
        }
        continue;
      case In::string:
      case In::character:
        if (c == '\\' && i + 1 < out.size()) {
          out[i] = ' ';
          if (text[i + 1] != '\n') out[i + 1] = ' ';
          ++i;
          continue;
        }
        if ((in == In::string && c == '"') || (in == In::character && c == '\'') || c == '\n') in = In::code;
        if (c != '\n') out[i] = ' ';
        continue;
    }
  }
  return out;
}

// "vector_add<float>" -> "vector_add"; nullopt unless `entry` is an identifier optionally followed by
// one balanced template argument list (what NVRTC accepts as a name expression for a kernel).
std::optional<std::string> entry_base_name(const std::string& entry) {
  const std::size_t open = entry.find('<');
  std::string base = entry.substr(0, open);
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (!is_identifier(base)) return std::nullopt;
  if (open == std::string::npos) return base;
  if (entry.back() != '>' || entry.find_first_of(";{}\"'\\\n\r#") != std::string::npos) return std::nullopt;
  int depth = 0;
  for (std::size_t i = open; i < entry.size(); ++i) {
    if (entry[i] == '<' || entry[i] == '(') ++depth;
    if (entry[i] == '>' || entry[i] == ')') --depth;
    if (depth < 0 || (depth == 0 && i + 1 < entry.size())) return std::nullopt;
  }
  if (depth != 0) return std::nullopt;
  return base;
}

// Kernel Tuner's tune_kernel arguments that a ported spec may carry, and the ktune field that says
// the same thing (docs/spec.md "Coming from Kernel Tuner").
std::optional<std::string> kernel_tuner_hint(std::string_view key) {
  static const std::pair<std::string_view, std::string_view> hints[] = {
      {"tune_params", "use \"params\" (the tunable parameters and their values)"},
      {"restrictions", "use \"constraints\" (expressions such as \"BM % 16 == 0\")"},
      {"grid_div_x", "use \"launch.grid\" with an expression, e.g. [\"ceil_div(N, BLOCK_X)\"]"},
      {"grid_div_y", "use \"launch.grid\" with an expression, e.g. [\"ceil_div(N, BX)\", \"ceil_div(M, BY)\"]"},
      {"grid_div_z", "use \"launch.grid\" with an expression for z"},
      {"problem_size", "use \"sizes\" (names given values on the command line, --size N=...) and \"launch.grid\""},
      {"block_size_names", "use \"launch.block\" with your parameters, e.g. [\"BLOCK_X\", \"BLOCK_Y\"]"},
      {"cmem_args", "__constant__ memory is not an argument: see docs/spec.md for filling constants"},
      {"smem_args", "use \"launch.shared_memory\" (dynamic shared memory in bytes, an expression)"},
      {"texmem_args", "ktune does not bind textures; pass the data as a buffer argument"},
      {"answer", "use \"verify\" (the reference configuration and tolerances, docs/spec.md)"},
      {"atol", "use \"verify\": {\"atol\": ...}"},
      {"rtol", "use \"verify\": {\"rtol\": ...}"},
      {"compiler_options", "use \"compile\": {\"options\": [...]}"},
      {"defines", "parameters are passed as -DNAME=value already; other defines go in \"compile.options\" as \"-DNAME=value\""},
      {"arguments", "use \"args\" (each with name, type, and count/init/output or value)"},
      {"kernel_name", "use \"entry\""},
      {"kernel_source", "use \"source\""},
      {"kernel_string", "use \"source\": {\"code\": ...}"},
      {"iterations", "ktune measures until the timing is stable; see `ktune tune --help`"},
      {"strategy", "the strategy is a command-line choice: `ktune tune --strategy`"},
      {"lang", "ktune compiles CUDA C++ with NVRTC; there is no language choice"},
      {"cache", "ktune keeps every measurement in its store; `ktune export --format kernel-tuner` writes a cache file"},
      {"device", "the GPU is a command-line choice: `ktune tune --gpu`"},
  };
  for (const auto& [name, hint] : hints)
    if (key == name) return "\"" + std::string(name) + "\" is Kernel Tuner's; " + std::string(hint);
  return std::nullopt;
}

bool contains_identifier(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string_view::npos) {
    auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    bool left = pos == 0 || !ident(text[pos - 1]);
    bool right = pos + name.size() >= text.size() || !ident(text[pos + name.size()]);
    if (left && right) return true;
    pos += name.size();
  }
  return false;
}

bool entry_in_included_headers(const KernelSpec& spec, std::string_view name) {
  const auto texts = included_header_texts(spec);
  return std::any_of(texts.begin(), texts.end(),
                     [&](const std::string& text) { return contains_identifier(code_only(text), name); });
}

// The macro a compile option defines or undefines ("-DBM=64", "-D BM", "--define-macro=BM",
// "-UBM", "--undefine-macro BM"), or nullopt for any other option.
std::optional<std::string> defined_macro(std::string_view option) {
  for (std::string_view prefix : {"--define-macro", "--undefine-macro", "-D", "-U"}) {
    if (option.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = option.substr(prefix.size());
    while (!rest.empty() && (rest.front() == '=' || rest.front() == ' ')) rest.remove_prefix(1);
    std::size_t end = 0;
    while (end < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[end])) || rest[end] == '_')) ++end;
    return std::string(rest.substr(0, end));
  }
  return std::nullopt;
}

class SpecReader {
 public:
  explicit SpecReader(std::filesystem::path base_dir) : base_dir_(std::move(base_dir)) {}

  KernelSpec read(const json& root) {
    KernelSpec spec;
    expect_object(root, "");
    check_fields(root, "", {"ktune_spec", "name", "description", "source", "entry", "sizes", "params", "constraints",
                            "default", "pass_params", "template_args", "compile", "launch", "args", "verify",
                            "metrics", "seed", "buckets", "constants", "pipeline", "sizes_to_preprocessor", "objective", "setup"});

    const json& version = require(root, "ktune_spec", "");
    if (!version.is_number_integer())
      fail("ktune_spec", "must be an integer (the spec format version), got " + type_name(version));
    if (version.get<std::int64_t>() != kSpecVersion)
      fail("ktune_spec", "version " + version.dump() + " is not supported; this ktune reads version " +
                             std::to_string(kSpecVersion));

    spec.name = string_field(root, "name", "");
    if (spec.name.empty() || spec.name.size() > 128 ||
        !std::all_of(spec.name.begin(), spec.name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        }))
      fail("name", "must be 1-128 characters of letters, digits, '_', '-' or '.'");
    if (root.contains("description")) spec.description = string_field(root, "description", "");

    read_source(root, spec);
    const bool pipeline = root.contains("pipeline");
    if (pipeline) {
      // A pipeline names its kernels, and their launches, stage by stage.
      for (const char* field : {"entry", "launch"})
        if (root.contains(field))
          fail(field, "a spec with a \"pipeline\" gives each kernel's entry and launch in pipeline[i]");
    } else {
      spec.entry = string_field(root, "entry", "");
    }

    read_sizes(root, spec);
    if (root.contains("sizes_to_preprocessor")) {
      if (!root["sizes_to_preprocessor"].is_boolean()) fail("sizes_to_preprocessor", "must be true or false");
      spec.sizes_to_preprocessor = root["sizes_to_preprocessor"].get<bool>();
      if (spec.sizes_to_preprocessor && spec.space.size_names.empty()) fail("sizes_to_preprocessor", "the spec declares no sizes");
    }
    read_params(root, spec);
    read_constraints(root, spec);
    read_passing(root, spec);
    read_compile(root, spec);
    // The entry is looked for once include_dirs are known: a source that only #includes the kernel
    // (upstream files kept unchanged) has it in a header.
    if (!pipeline) {
      check_entry(spec.entry, spec, "entry");
      read_launch(root, spec);
    }
    // Before the arguments: each buffer's and constant's generator seed derives from it.
    if (root.contains("seed")) {
      const json& seed = root["seed"];
      if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<std::int64_t>() >= 0))
        fail("seed", "must be a non-negative integer");
      spec.seed = seed.get<std::uint64_t>();
    }
    read_args(root, spec);
    if (pipeline) read_pipeline(root["pipeline"], spec);
    if (root.contains("setup")) read_setup(root["setup"], spec);
    if (pipeline) check_pipeline_args_used(spec);
    read_constants(root, spec);
    read_metrics(root, spec);
    read_objective(root, spec);
    read_buckets(root, spec);
    spec.default_config = read_config(require(root, "default", ""), "default", spec);
    for (auto& arg : spec.args) arg.type = spec.arg_type(arg, spec.default_config);
    check_entry_patterns(spec);
    read_verify(root, spec);
    add_type_params_to_match(spec);
    // Without verification nothing is compared, so a kernel need not mark an output.
    if (spec.verify.enabled && !spec.args.empty() &&
        std::none_of(spec.args.begin(), spec.args.end(), [](const Argument& a) { return a.output; }))
      fail("args", "no buffer is marked \"output\": true, so nothing could be verified (or set \"verify\": false)");
    check_config_constraints(spec.default_config, "default", spec);
    if (spec.verify.enabled) check_config_constraints(spec.verify.reference, "verify.against", spec);
    return spec;
  }

 private:
  [[noreturn]] void fail(const std::string& path, const std::string& message) { throw SpecFailure{path, message}; }

  static std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
  static std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

  void expect_object(const json& j, const std::string& path) {
    if (!j.is_object()) fail(path.empty() ? "(top level)" : path, "must be an object, got " + type_name(j));
  }

  void check_fields(const json& object, const std::string& path, std::initializer_list<std::string_view> known) {
    if (auto unknown = json_input::find_unknown_field(object, known)) {
      if (path.empty() || path == "verify")
        if (auto hint = kernel_tuner_hint(unknown->key)) fail(join(path, unknown->key), "unknown field: " + *hint);
      fail(join(path, unknown->key), "unknown field" + unknown->hint);
    }
  }

  const json& require(const json& object, const std::string& key, const std::string& path) {
    auto it = object.find(key);
    if (it == object.end()) fail(join(path, key), "missing required field");
    return *it;
  }

  std::string string_field(const json& object, const std::string& key, const std::string& path) {
    const json& value = require(object, key, path);
    if (!value.is_string()) fail(join(path, key), "must be a string, got " + type_name(value));
    return value.get<std::string>();
  }

  std::vector<std::string> string_list(const json& value, const std::string& path) {
    if (!value.is_array()) fail(path, "must be an array of strings, got " + type_name(value));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) fail(index(path, i), "must be a string, got " + type_name(value[i]));
      out.push_back(value[i].get<std::string>());
    }
    return out;
  }

  std::string read_file(const std::filesystem::path& path, const std::string& field) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) fail(field, "cannot read " + path.string() + ": " + ec.message());
    if (size > kMaxSourceBytes) fail(field, path.string() + " is larger than 16 MiB");
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(field, "cannot open " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void read_source(const json& root, KernelSpec& spec) {
    const json& source = require(root, "source", "");
    if (source.is_string()) {
      spec.source_path = base_dir_ / source.get<std::string>();
      spec.source = read_file(spec.source_path, "source");
      return;
    }
    if (!source.is_object())
      fail("source", "must be a file name or an object {\"file\": ...} or {\"code\": ...}, got " + type_name(source));
    check_fields(source, "source", {"file", "code"});
    if (source.contains("file") == source.contains("code")) fail("source", "give exactly one of \"file\" and \"code\"");
    if (source.contains("file")) {
      spec.source_path = base_dir_ / string_field(source, "file", "source");
      spec.source = read_file(spec.source_path, "source.file");
    } else {
      spec.source = string_field(source, "code", "source");
      if (spec.source.size() > kMaxSourceBytes) fail("source.code", "is larger than 16 MiB");
    }
    if (spec.source.find_first_not_of(" \t\r\n") == std::string::npos) fail("source", "the kernel source is empty");
  }

  void claim_name(const std::string& name, const std::string& path) {
    if (!is_identifier(name)) fail(path, "\"" + name + "\" is not an identifier");
    static constexpr std::string_view reserved[] = {"min", "max", "ceil_div", "abs", "log2", "is_pow2"};
    if (std::find(std::begin(reserved), std::end(reserved), name) != std::end(reserved))
      fail(path, "\"" + name + "\" is the name of a built-in function");
    auto [it, inserted] = names_.emplace(name, path);
    if (!inserted) fail(path, "duplicate name \"" + name + "\" (also used by " + it->second + ")");
  }

  void read_sizes(const json& root, KernelSpec& spec) {
    if (!root.contains("sizes")) return;
    spec.space.size_names = string_list(root["sizes"], "sizes");
    for (std::size_t i = 0; i < spec.space.size_names.size(); ++i)
      claim_name(spec.space.size_names[i], index("sizes", i));
  }

  // "buckets": {"M": "pow2", "N": [1, 64, 512, 4096]} (engine/model/size_buckets.hpp).
  void read_buckets(const json& root, KernelSpec& spec) {
    if (!root.contains("buckets")) return;
    const json& buckets = root["buckets"];
    expect_object(buckets, "buckets");
    for (const auto& size : spec.space.size_names) {
      if (!buckets.contains(size)) continue;
      const json& rule = buckets[size];
      const std::string path = "buckets." + size;
      SizeBuckets b{size, false, {}};
      if (rule.is_string()) {
        if (rule.get<std::string>() != "pow2") fail(path, "must be \"pow2\" or an array of increasing edges, got \"" + rule.get<std::string>() + "\"");
        b.powers_of_two = true;
      } else if (rule.is_array()) {
        if (rule.empty() || rule.size() > kMaxValuesPerParam) fail(path, "must list 1 to 65536 edges");
        for (std::size_t i = 0; i < rule.size(); ++i) {
          const json& edge = rule[i];
          if (!edge.is_number_integer() || edge.get<std::int64_t>() < 0)
            fail(index(path, i), "must be a non-negative integer, got " + edge.dump());
          if (!b.edges.empty() && edge.get<std::int64_t>() <= b.edges.back())
            fail(index(path, i), "edges must increase strictly (" + edge.dump() + " after " + std::to_string(b.edges.back()) + ")");
          b.edges.push_back(edge.get<std::int64_t>());
        }
      } else {
        fail(path, "must be \"pow2\" or an array of increasing edges, got " + type_name(rule));
      }
      spec.buckets.push_back(std::move(b));
    }
    for (const auto& [name, rule] : buckets.items())
      if (std::find(spec.space.size_names.begin(), spec.space.size_names.end(), name) == spec.space.size_names.end())
        fail("buckets." + name, "\"" + name + "\" is not one of the spec's sizes");
  }

  void read_params(const json& root, KernelSpec& spec) {
    const json& params = require(root, "params", "");
    expect_object(params, "params");
    if (params.empty()) fail("params", "declares no tunable parameter");
    for (const auto& [name, values] : params.items()) {
      std::string path = "params." + name;
      claim_name(name, path);
      if (!values.is_array()) fail(path, "must be an array of integers or of strings (named choices), got " + type_name(values));
      if (values.empty()) fail(path, "empty value list");
      if (values.size() > kMaxValuesPerParam) fail(path, "has more than 65536 values");
      if (values[0].is_string()) {  // named choices: types, template arguments, define values
        std::vector<std::string> choices;
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (!values[i].is_string()) fail(index(path, i), "must be a string like the list's first value, got " + type_name(values[i]));
          std::string choice = values[i].get<std::string>();
          if (auto why = why_not_a_choice(choice)) fail(index(path, i), *why);
          choices.push_back(std::move(choice));
        }
        auto p = choice_parameter(name, choices);
        if (!p) fail(path, p.error().message);
        spec.space.params.push_back(std::move(p).value());
        continue;
      }
      Parameter p{name, {}, {}};
      for (std::size_t i = 0; i < values.size(); ++i) {
        const json& v = values[i];
        if (v.is_boolean()) {
          p.values.push_back(v.get<bool>() ? 1 : 0);
          continue;
        }
        if (!v.is_number_integer()) fail(index(path, i), "must be an integer, got " + type_name(v) + " " + v.dump());
        auto value = json_input::as_int64(v);
        if (!value) fail(index(path, i), "is out of the 64-bit integer range");
        p.values.push_back(*value);
      }
      std::sort(p.values.begin(), p.values.end());
      if (auto dup = std::adjacent_find(p.values.begin(), p.values.end()); dup != p.values.end())
        fail(path, "lists the value " + std::to_string(*dup) + " twice");
      spec.space.params.push_back(std::move(p));
    }
  }

  // A choice becomes a define's value and a template argument: C++ tokens on one line, nothing
  // that would end or quote them ("unsigned int", "float2", "cuda::std::complex<float>" are fine).
  static std::optional<std::string> why_not_a_choice(const std::string& choice) {
    if (choice.empty() || choice.find_first_not_of(' ') == std::string::npos) return "is empty";
    if (choice.size() > 256) return "is longer than 256 characters";
    for (char c : choice)
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\'' || c == '\\' || c == '=')
        return "\"" + choice + "\" has a character a define or template argument cannot hold (quotes, '=', '\\', control or non-ASCII)";
    if (choice.front() == ' ' || choice.back() == ' ') return "\"" + choice + "\" starts or ends with a space";
    return std::nullopt;
  }

  Expr parse_expr(const json& value, const std::string& path, const KernelSpec& spec) {
    std::string text;
    if (value.is_number_integer()) text = value.dump();
    else if (value.is_string()) text = value.get<std::string>();
    else fail(path, "must be an integer or an expression string, got " + type_name(value));
    if (text.find_first_not_of(" \t") == std::string::npos) fail(path, "the expression is empty");
    auto expr = Expr::parse(text, spec.space.resolver(), path, spec.space.choice_resolver());
    if (!expr) throw SpecFailure{"", expr.error().message};
    return std::move(expr).value();
  }

  void read_constraints(const json& root, KernelSpec& spec) {
    if (!root.contains("constraints")) return;
    const json& list = root["constraints"];
    if (!list.is_array()) fail("constraints", "must be an array of expression strings, got " + type_name(list));
    const int n_params = static_cast<int>(spec.space.params.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string path = index("constraints", i);
      if (!list[i].is_string()) fail(path, "must be an expression string, got " + type_name(list[i]));
      Expr expr = parse_expr(list[i], path, spec);
      bool uses_sizes = std::any_of(expr.slots_used().begin(), expr.slots_used().end(), [&](int s) { return s >= n_params; });
      if (expr.is_constant()) fail(path, "\"" + expr.text() + "\" names no parameter or size, so it constrains nothing");
      spec.space.constraints.push_back(Constraint{std::move(expr), uses_sizes});
    }
  }

  void read_passing(const json& root, KernelSpec& spec) {
    if (root.contains("pass_params")) {
      std::string how = string_field(root, "pass_params", "");
      if (how == "defines") spec.passing = ParamPassing::defines;
      else if (how == "template") spec.passing = ParamPassing::template_;
      else fail("pass_params", "must be \"defines\" or \"template\", got \"" + how + "\"");
    }
    if (root.contains("template_args")) {
      if (spec.passing != ParamPassing::template_) fail("template_args", "is only used with \"pass_params\": \"template\"");
      spec.template_args = string_list(root["template_args"], "template_args");
      std::set<std::string> seen;
      for (std::size_t i = 0; i < spec.template_args.size(); ++i) {
        const auto& name = spec.template_args[i];
        if (spec.space.param_index(name) < 0) fail(index("template_args", i), "\"" + name + "\" is not a parameter");
        if (!seen.insert(name).second) fail(index("template_args", i), "\"" + name + "\" is listed twice");
      }
    } else if (spec.passing == ParamPassing::template_) {
      for (const auto& p : spec.space.params) spec.template_args.push_back(p.name);
    }
  }

  void read_compile(const json& root, KernelSpec& spec) {
    if (!root.contains("compile")) return;
    const json& compile = root["compile"];
    expect_object(compile, "compile");
    check_fields(compile, "compile", {"options", "include_dirs", "arch_specific"});
    if (compile.contains("options")) {
      spec.compile_options = string_list(compile["options"], "compile.options");
      for (std::size_t i = 0; i < spec.compile_options.size(); ++i) {
        const auto& option = spec.compile_options[i];
        // The target architecture and the parameters are ktune's to set.
        if (option.rfind("-arch", 0) == 0 || option.rfind("--gpu-architecture", 0) == 0)
          fail(index("compile.options", i), "the architecture is chosen by ktune (use \"arch_specific\" for sm_XXa)");
        if (option.empty() || option[0] != '-') fail(index("compile.options", i), "\"" + option + "\" is not an option");
        // A define of a tuned parameter would silently override the configuration's value
        // (the option comes after ktune's own -D on NVRTC's command line), so every
        // configuration would compile and measure the same kernel.
        if (auto macro = defined_macro(option); macro && spec.space.param_index(*macro) >= 0)
          fail(index("compile.options", i), "\"" + option + "\" defines " + *macro +
                                                ", a tuned parameter: ktune sets it for each configuration");
      }
    }
    if (compile.contains("include_dirs")) {
      const auto dirs = string_list(compile["include_dirs"], "compile.include_dirs");
      for (std::size_t i = 0; i < dirs.size(); ++i) {
        if (!dirs[i].starts_with("@")) {
          spec.include_dirs.push_back(base_dir_ / dirs[i]);
          continue;
        }
        // "@cutlass": an installed header package (engine/model/packages.hpp, docs/spec.md "Packages").
        auto package = find_header_package(std::string_view(dirs[i]).substr(1));
        if (!package) fail(index("compile.include_dirs", i), package.error().message);
        spec.include_dirs.insert(spec.include_dirs.end(), package->include_dirs.begin(), package->include_dirs.end());
        spec.compile_options.insert(spec.compile_options.end(), package->nvrtc_options.begin(), package->nvrtc_options.end());
        spec.packages.push_back(std::move(*package));
      }
    }
    if (compile.contains("arch_specific")) {
      if (!compile["arch_specific"].is_boolean())
        fail("compile.arch_specific", "must be true or false, got " + type_name(compile["arch_specific"]));
      spec.arch_specific = compile["arch_specific"].get<bool>();
    }
  }

  std::array<Expr, 3> read_dim3(const json& launch, const std::string& key, const KernelSpec& spec,
                                const std::string& launch_path = "launch") {
    std::string path = launch_path + "." + key;
    const json& dims = require(launch, key, launch_path);
    if (!dims.is_array() || dims.empty() || dims.size() > 3)
      fail(path, "must be an array of 1 to 3 expressions (x, y, z)");
    std::array<Expr, 3> out;
    for (std::size_t i = 0; i < 3; ++i) out[i] = i < dims.size() ? parse_expr(dims[i], index(path, i), spec) : parse_expr(1, path, spec);
    return out;
  }

  void read_launch(const json& root, KernelSpec& spec) { spec.launch = read_geometry(root, "", spec); }

  // {"grid": [...], "block": [...], "shared_memory": ...} at `parent`.launch.
  LaunchGeometry read_geometry(const json& parent, const std::string& parent_path, const KernelSpec& spec) {
    const std::string path = join(parent_path, "launch");
    const json& launch = require(parent, "launch", parent_path);
    expect_object(launch, path);
    check_fields(launch, path, {"grid", "block", "shared_memory", "cluster"});
    LaunchGeometry geometry;
    geometry.grid = read_dim3(launch, "grid", spec, path);
    geometry.block = read_dim3(launch, "block", spec, path);
    if (launch.contains("cluster")) geometry.cluster = read_dim3(launch, "cluster", spec, path);
    geometry.shared_memory_bytes =
        parse_expr(launch.contains("shared_memory") ? launch["shared_memory"] : json(0), path + ".shared_memory", spec);
    return geometry;
  }

  // An entry is a name or a template instance, and appears in the source's code. A pattern
  // ("k_block{BLOCK}") names parameters; what it resolves to is checked once the default is read.
  void check_entry(const std::string& entry, const KernelSpec& spec, const std::string& path) {
    if (is_entry_pattern(entry)) {
      auto named = entry_pattern_params(entry, spec.space);
      if (!named) fail(path, "\"" + entry + "\": " + named.error().message);
      entry_patterns_.emplace_back(entry, path);
      return;
    }
    const auto entry_name = entry_base_name(entry);
    if (!entry_name)
      fail(path, "\"" + entry + "\" is not a function name or a template instance such as vector_add<float>");
    // Only the code counts: a name in a comment or a string is not a kernel. NVRTC then resolves
    // the entry for real (engine/kernel_check.hpp) in `ktune space` and `ktune compile`.
    if (!contains_identifier(code_only(spec.source), *entry_name) && !entry_in_included_headers(spec, *entry_name))
      fail(path, "\"" + *entry_name +
                     "\" does not appear in the kernel source's code nor in the headers it includes (comments and strings do "
                     "not count)");
  }

  // Each entry pattern: every value of every parameter it names gives a name or a template
  // instance (the others at the default's values), and the default's kernel appears in the code.
  // NVRTC resolves each distinct entry of the valid configurations in `ktune space`/`check`.
  void check_entry_patterns(const KernelSpec& spec) {
    for (const auto& [pattern, path] : entry_patterns_) {
      for (const auto& name : entry_pattern_params(pattern, spec.space).value_or_throw()) {
        const Parameter& param = spec.space.params[static_cast<std::size_t>(spec.space.param_index(name))];
        for (const std::int64_t value : param.values) {
          Config config = spec.default_config;
          for (auto& [n, v] : config)
            if (n == name) v = value;
          const std::string resolved = resolve_entry(pattern, spec.space, config);
          if (!entry_base_name(resolved))
            fail(path, "\"" + pattern + "\" at " + name + "=" + param.value_text(value) + " is \"" + resolved +
                           "\", not a function name or a template instance such as vector_add<float>");
        }
      }
      check_entry(resolve_entry(pattern, spec.space, spec.default_config), spec, path);
    }
  }

  // "pipeline": [{"entry", "launch", "args": [names], "source"?}, ...] — two or more kernels on
  // the spec's args (declared once, shared by name). A stage's own source joins the translation
  // unit after the spec's (one compile per configuration, one cubin with every entry).
  void read_pipeline(const json& stages, KernelSpec& spec) {
    if (!stages.is_array()) fail("pipeline", "must be an array of kernels, got " + type_name(stages));
    if (stages.size() < 2) fail("pipeline", "a pipeline has two or more kernels; one kernel is \"entry\" and \"launch\"");
    if (stages.size() > runner::kMaxPipelineKernels) fail("pipeline", "more than " + std::to_string(runner::kMaxPipelineKernels) + " kernels");
    for (std::size_t i = 0; i < stages.size(); ++i) spec.pipeline.push_back(read_kernel(stages[i], index("pipeline", i), spec));
    // Entries are checked once every stage's source has joined the translation unit.
    for (std::size_t i = 0; i < spec.pipeline.size(); ++i)
      check_entry(spec.pipeline[i].entry, spec, index("pipeline", i) + ".entry");
    spec.entry = spec.pipeline.front().entry;
    spec.launch = spec.pipeline.front().launch;
  }

  // A pipeline's every argument is taken by one of its kernels or a setup kernel.
  void check_pipeline_args_used(const KernelSpec& spec) {
    std::vector<bool> used(spec.args.size(), false);
    for (const auto* kernels : {&spec.pipeline, &spec.setup})
      for (const auto& kernel : *kernels)
        for (std::size_t a : kernel.args) used[a] = true;
    for (std::size_t a = 0; a < spec.args.size(); ++a)
      if (!used[a]) fail("args." + spec.args[a].name, "no kernel of the pipeline takes it (list it in a pipeline[i].args)");
  }

  // "setup": [{"entry", "launch", "args", "source"?}, ...] — kernels of the same program run once
  // per loaded configuration before anything is timed (docs/spec.md "Setup kernels"). An output
  // may be among their arguments (CUTLASS's parameter block records the output's address); what
  // they would write there is gone, since outputs are restored before each run.
  void read_setup(const json& kernels, KernelSpec& spec) {
    if (!kernels.is_array()) fail("setup", "must be an array of kernels, got " + type_name(kernels));
    if (kernels.empty()) fail("setup", "lists no kernel (leave \"setup\" out instead)");
    if (kernels.size() > runner::kMaxSetupKernels) fail("setup", "more than " + std::to_string(runner::kMaxSetupKernels) + " kernels");
    for (std::size_t i = 0; i < kernels.size(); ++i) {
      const std::string path = index("setup", i);
      spec.setup.push_back(read_kernel(kernels[i], path, spec));
    }
    for (std::size_t i = 0; i < spec.setup.size(); ++i) check_entry(spec.setup[i].entry, spec, index("setup", i) + ".entry");
  }

  // One kernel of "pipeline" or "setup": its entry, launch, argument names (into spec.args) and
  // optional own source (appended to the translation unit).
  PipelineStage read_kernel(const json& object, const std::string& path, KernelSpec& spec) {
    expect_object(object, path);
    check_fields(object, path, {"entry", "launch", "args", "source"});
    PipelineStage stage;
    if (object.contains("source")) {
      stage.source_given = string_field(object, "source", path);
      const std::string text = read_file(base_dir_ / stage.source_given, path + ".source");
      if (spec.source.size() + text.size() > kMaxSourceBytes) fail(path + ".source", "the sources are larger than 16 MiB");
      // #line keeps NVRTC's messages and __FILE__ pointing into the stage's own file.
      spec.source += "\n#line 1 \"" + stage.source_given + "\"\n" + text;
    }
    stage.entry = string_field(object, "entry", path);
    stage.launch = read_geometry(object, path, spec);
    const json& args = require(object, "args", path);
    if (!args.is_array()) fail(path + ".args", "must be an array of argument names (from \"args\"), got " + type_name(args));
    for (std::size_t a = 0; a < args.size(); ++a) {
      if (!args[a].is_string()) fail(index(path + ".args", a), "must be the name of an argument in \"args\", got " + type_name(args[a]));
      const std::string name = args[a].get<std::string>();
      auto found = std::find_if(spec.args.begin(), spec.args.end(), [&name](const Argument& arg) { return arg.name == name; });
      if (found == spec.args.end()) fail(index(path + ".args", a), "no argument named \"" + name + "\" in \"args\"");
      stage.args.push_back(static_cast<std::size_t>(found - spec.args.begin()));
    }
    return stage;
  }

  static constexpr const char* kInitForms =
      "must be \"random\", \"normal\", \"zeros\", \"iota\", a number, or one of {\"random\": {\"min\", \"max\"}}, "
      "{\"normal\": {\"mean\", \"stddev\"}}, {\"integers\": {\"min\", \"max\"}}, {\"constant\": x}, {\"npy\": file}, "
      "{\"raw\": file}, {\"copy\": argument}";

  double number_field(const json& object, const std::string& key, const std::string& path) {
    const json& v = object[key];
    if (!v.is_number()) fail(path + "." + key, "must be a number, got " + type_name(v));
    return v.get<double>();
  }

  // {"npy": "file.npy"} or {"raw": "file.bin"}: read now for its layout and digest; its element
  // type must be `type` (the element count is checked against the buffer once sizes are known).
  // A raw file may state its element type (which must be the destination's) and its shape
  // (expressions over sizes whose product must be the destination's count at the sizes).
  DataFile read_data_file(const json& value, const std::string& path, ElementType type, const KernelSpec& spec) {
    if (!value.is_object() || !(value.contains("npy") || value.contains("raw")) || (value.contains("npy") && value.size() != 1))
      fail(path, "must be {\"npy\": \"file.npy\"} or {\"raw\": \"file.bin\", \"type\": ..., \"shape\": [...]}");
    const bool npy = value.contains("npy");
    if (!npy) check_fields(value, path, {"raw", "type", "shape"});
    std::vector<Expr> shape;
    if (!npy && value.contains("type")) {
      const json& stated = value["type"];
      auto element = stated.is_string() ? parse_element_type(stated.get<std::string>()) : std::nullopt;
      if (!element) fail(path + ".type", "must be an element type such as \"float\" or \"int32\"");
      if (*element != type)
        fail(path + ".type", std::string(element_type_name(*element)) + " is not the destination's type, " + element_type_name(type));
    }
    if (!npy && value.contains("shape")) {
      const json& dims = value["shape"];
      if (!dims.is_array() || dims.size() > kMaxNpyDimensions) fail(path + ".shape", "must be an array of at most 32 expressions");
      for (std::size_t d = 0; d < dims.size(); ++d) {
        Expr dim = parse_expr(dims[d], index(path + ".shape", d), spec);
        for (int slot : dim.slots_used())
          if (slot < static_cast<int>(spec.space.params.size()))
            fail(index(path + ".shape", d), "depends on parameter " + spec.space.params[static_cast<std::size_t>(slot)].name +
                                                  "; data may depend on sizes only");
        shape.push_back(std::move(dim));
      }
    }
    const std::string field = path + (npy ? ".npy" : ".raw");
    const json& name = npy ? value["npy"] : value["raw"];
    if (!name.is_string() || name.get<std::string>().empty()) fail(field, "must be a file name");
    DataFile file;
    file.given = name.get<std::string>();
    file.ref.format = npy ? DataFormat::npy : DataFormat::raw;
    const std::filesystem::path resolved = base_dir_ / file.given;
    file.ref.path = resolved.string();
    auto info = inspect_data_file(resolved, file.ref.format, type);
    if (!info) fail(field, info.error().message);
    file.ref.digest = info->digest;
    file.layout = info->layout;
    file.shape = std::move(shape);
    if (file.layout.type != type && !(file.layout.boolean && type == ElementType::i8))
      fail(field, file.given + " holds " + file.layout.describe() + ", the destination is " + element_type_name(type) +
                      " (convert with array.astype)");
    return file;
  }

  DataInit read_init(const json& init, const std::string& path, std::size_t position, std::uint64_t seed, ElementType type,
                     const KernelSpec& spec) {
    DataInit out;
    out.seed = seed ^ (0x9e3779b97f4a7c15ULL * (position + 1));
    if (init.is_number()) {
      out.kind = BufferInit::Kind::constant;
      out.value = init.get<double>();
      return out;
    }
    if (init.is_string()) {
      std::string kind = init.get<std::string>();
      if (kind == "random") out.kind = BufferInit::Kind::random;
      else if (kind == "normal") out.kind = BufferInit::Kind::normal;
      else if (kind == "zeros") out.kind = BufferInit::Kind::zeros;
      else if (kind == "iota") out.kind = BufferInit::Kind::iota;
      else fail(path, kInitForms);
      return out;
    }
    if (!init.is_object() || (init.size() != 1 && !init.contains("raw"))) fail(path, kInitForms);
    if (!init.contains("raw")) check_fields(init, path, {"random", "normal", "integers", "constant", "npy", "raw", "copy"});
    if (init.contains("constant")) {
      if (!init["constant"].is_number()) fail(path + ".constant", "must be a number");
      out.kind = BufferInit::Kind::constant;
      out.value = init["constant"].get<double>();
      return out;
    }
    if (init.contains("npy") || init.contains("raw")) {
      out.kind = BufferInit::Kind::file;
      out.data_file = read_data_file(init, path, type, spec);
      out.file = out.data_file->ref;
      return out;
    }
    if (init.contains("copy")) {
      const json& source = init["copy"];
      if (!source.is_string()) fail(path + ".copy", "must be the name of another buffer argument");
      out.kind = BufferInit::Kind::copy;
      out.copy_of = source.get<std::string>();
      return out;
    }
    if (init.contains("normal")) {
      const json& normal = init["normal"];
      expect_object(normal, path + ".normal");
      check_fields(normal, path + ".normal", {"mean", "stddev"});
      out.kind = BufferInit::Kind::normal;
      if (normal.contains("mean")) out.mean = number_field(normal, "mean", path + ".normal");
      if (normal.contains("stddev")) out.stddev = number_field(normal, "stddev", path + ".normal");
      if (!(out.stddev >= 0) || !std::isfinite(out.stddev) || !std::isfinite(out.mean))
        fail(path + ".normal", "mean must be finite and stddev finite and non-negative");
      return out;
    }
    if (init.contains("integers")) {
      const json& range = init["integers"];
      expect_object(range, path + ".integers");
      check_fields(range, path + ".integers", {"min", "max"});
      out.kind = BufferInit::Kind::integers;
      for (const char* key : {"min", "max"}) {
        const std::string field = path + ".integers." + key;
        Expr bound = parse_expr(require(range, key, path + ".integers"), field, spec);
        // Buffers are allocated and filled once per problem and shared by every configuration.
        for (int slot : bound.slots_used())
          if (slot < static_cast<int>(spec.space.params.size()))
            fail(field, "depends on parameter " + spec.space.params[static_cast<std::size_t>(slot)].name +
                            "; data may depend on sizes only");
        (std::string(key) == "min" ? out.int_min : out.int_max) = std::move(bound);
      }
      return out;
    }
    const json& random = init["random"];
    expect_object(random, path + ".random");
    check_fields(random, path + ".random", {"min", "max"});
    out.kind = BufferInit::Kind::random;
    if (random.contains("min")) out.low = number_field(random, "min", path + ".random");
    if (random.contains("max")) out.high = number_field(random, "max", path + ".random");
    if (!(out.low < out.high)) fail(path + ".random", "min must be less than max");
    return out;
  }

  // "constants": [{"name": "filter", "type": "float", "count": "FW * FH", "init": ...}]
  void read_constants(const json& root, KernelSpec& spec) {
    if (!root.contains("constants")) return;
    const json& list = root["constants"];
    if (!list.is_array()) fail("constants", "must be an array of __constant__ symbols, got " + type_name(list));
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string path = index("constants", i);
      const json& c = list[i];
      expect_object(c, path);
      check_fields(c, path, {"name", "type", "count", "init"});
      ConstantSymbol constant;
      constant.name = string_field(c, "name", path);
      if (!is_identifier(constant.name)) fail(path + ".name", "\"" + constant.name + "\" is not a symbol name");
      for (const auto& other : spec.constants)
        if (other.name == constant.name) fail(path + ".name", "\"" + constant.name + "\" is listed twice");
      path = "constants." + constant.name;
      auto element = parse_element_type(string_field(c, "type", path));
      if (!element) fail(path + ".type", "unknown element type \"" + c["type"].get<std::string>() + "\" (e.g. float, int, half)");
      constant.type = *element;
      constant.init = read_init(require(c, "init", path), path + ".init", spec.args.size() + i, spec.seed, constant.type, spec);
      if (constant.init.kind == BufferInit::Kind::copy) fail(path + ".init", "a constant cannot be a copy of an argument");
      if (c.contains("count")) {
        constant.count = parse_expr(c["count"], path + ".count", spec);
        for (int slot : constant.count->slots_used())
          if (slot < static_cast<int>(spec.space.params.size()))
            fail(path + ".count", "depends on parameter " + spec.space.params[static_cast<std::size_t>(slot)].name +
                                      "; constant data may depend on sizes only");
      } else if (constant.init.kind != BufferInit::Kind::file) {
        fail(path + ".count", "missing required field (only data from a file has its own count)");
      }
      spec.constants.push_back(std::move(constant));
    }
  }

  void read_args(const json& root, KernelSpec& spec) {
    const json& args = require(root, "args", "");
    if (!args.is_array()) fail("args", "must be an array of arguments, got " + type_name(args));
    std::map<std::string, std::string> arg_names;
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string path = index("args", i);
      const json& a = args[i];
      expect_object(a, path);
      Argument arg;
      arg.name = string_field(a, "name", path);
      if (!is_identifier(arg.name)) fail(path + ".name", "\"" + arg.name + "\" is not an identifier");
      if (auto [it, inserted] = arg_names.emplace(arg.name, path); !inserted)
        fail(path + ".name", "duplicate argument name \"" + arg.name + "\" (also " + it->second + ")");
      path = "args." + arg.name;
      std::string type = string_field(a, "type", path);
      if (type == "tensor_map") {
        arg.tensor_map = read_tensor_map(a, path, spec);
        spec.args.push_back(std::move(arg));
        continue;
      }
      // "const float*", "float *" and "float*" all mean a float buffer.
      std::string base = type;
      if (base.rfind("const ", 0) == 0) base = base.substr(6);
      while (!base.empty() && base.back() == ' ') base.pop_back();
      arg.is_buffer = !base.empty() && base.back() == '*';
      if (arg.is_buffer) base.pop_back();
      while (!base.empty() && base.back() == ' ') base.pop_back();
      // A named-choice parameter as the element type ("const T*"): every choice must name one.
      std::vector<ElementType> choice_types;
      if (const int p = spec.space.param_index(base); p >= 0 && spec.space.params[static_cast<std::size_t>(p)].is_choice()) {
        if (!arg.is_buffer)
          fail(path + ".type", "a scalar's type cannot follow the named choice " + base + " (a buffer's can: \"" + base + "*\")");
        arg.type_param = base;
        for (const auto& choice : spec.space.params[static_cast<std::size_t>(p)].choices) {
          auto t = parse_element_type(choice);
          if (!t)
            fail(path + ".type", "follows params." + base + ", whose choice \"" + choice +
                                     "\" is not an element type (float, double, half, int, int64, uint8, ...)");
          choice_types.push_back(*t);
        }
        arg.type = choice_types.front();  // until the default is read (then the default's type)
      } else {
        auto element = parse_element_type(base);
        if (!element) fail(path + ".type", "unknown type \"" + type + "\" (e.g. float*, half*, int, int64, double)");
        arg.type = *element;
      }
      if (arg.is_buffer) {
        check_fields(a, path, {"name", "type", "count", "init", "output"});
        arg.count = parse_expr(require(a, "count", path), path + ".count", spec);
        // Buffers are allocated once per problem and shared by every configuration.
        for (int slot : arg.count->slots_used())
          if (slot < static_cast<int>(spec.space.params.size()))
            fail(path + ".count", "depends on parameter " + spec.space.params[static_cast<std::size_t>(slot)].name +
                                      "; buffer sizes may depend on sizes only");
        if (a.contains("output")) {
          if (!a["output"].is_boolean()) fail(path + ".output", "must be true or false");
          arg.output = a["output"].get<bool>();
        }
        if (a.contains("init")) {
          arg.init = read_init(a["init"], path + ".init", i, spec.seed, arg.type, spec);
          // Generated data of every type the buffer can take (an integer range must fit each); a
          // file holds one type, so it cannot follow a choice.
          if (!arg.type_param.empty() && arg.init.kind == BufferInit::Kind::file)
            fail(path + ".init", "a buffer whose type follows params." + arg.type_param +
                                     " is filled with generated data (a file holds one type)");
          for (ElementType t : choice_types) (void)read_init(a["init"], path + ".init", i, spec.seed, t, spec);
        }
      } else {
        check_fields(a, path, {"name", "type", "value"});
        const json& value = require(a, "value", path);
        if (is_floating(arg.type) && value.is_number_float()) arg.float_value = value.get<double>();
        else arg.value = parse_expr(value, path + ".value", spec);
        // A constant is checked now; one over sizes when the sizes are known (plan_launch).
        if (arg.value && arg.value->is_constant()) {
          const EvalResult constant = arg.value->evaluate(std::vector<std::int64_t>(static_cast<std::size_t>(spec.space.slot_count()), 0));
          if (constant.ok() && !integer_fits(arg.type, constant.value))
            fail(path + ".value", std::to_string(constant.value) + " is outside " + element_type_name(arg.type) + " (" +
                                      integer_range_text(arg.type) + ")");
        }
      }
      spec.args.push_back(std::move(arg));
    }
    for (auto& arg : spec.args)
      if (arg.tensor_map) resolve_tensor_map(tensor_names_[static_cast<std::size_t>(&arg - spec.args.data())], arg, spec);
    // A copy repeats another buffer's initial data: same element type, not itself, not a copy.
    for (auto& arg : spec.args) {
      if (!arg.is_buffer || arg.init.kind != BufferInit::Kind::copy) continue;
      const std::string path = "args." + arg.name + ".init.copy";
      auto source = std::find_if(spec.args.begin(), spec.args.end(), [&](const Argument& a) { return a.name == arg.init.copy_of; });
      if (source == spec.args.end() || !source->is_buffer) fail(path, "\"" + arg.init.copy_of + "\" is not a buffer argument");
      if (source->name == arg.name) fail(path, "a buffer cannot be a copy of itself");
      if (source->init.kind == BufferInit::Kind::copy)
        fail(path, "\"" + source->name + "\" is itself a copy; name \"" + source->init.copy_of + "\" instead");
      if (source->type_param != arg.type_param)
        fail(path, "\"" + source->name + "\" and this buffer must have the same type (one follows a named choice)");
      if (source->type != arg.type)
        fail(path, "\"" + source->name + "\" holds " + element_type_name(source->type) + ", this buffer " +
                       element_type_name(arg.type));
    }
  }

  // {"name", "type": "tensor_map", "tensor": buffer, "dims": [...], "strides"?, "box": [...],
  // "swizzle"?, "l2_promotion"?, "oob_fill"?, "element_strides"?}: expressions are checked for
  // rank here, their values by plan_launch at each configuration. The tensor is resolved once
  // every argument is known (resolve_tensor_map).
  TensorMapSpec read_tensor_map(const json& a, const std::string& path, const KernelSpec& spec) {
    check_fields(a, path, {"name", "type", "tensor", "dims", "strides", "box", "swizzle", "l2_promotion", "oob_fill",
                           "element_strides"});
    TensorMapSpec map;
    tensor_names_[spec.args.size()] = string_field(a, "tensor", path);
    auto expressions = [&](const std::string& key, bool required) {
      std::vector<Expr> out;
      if (!a.contains(key)) {
        if (required) require(a, key, path);
        return out;
      }
      const json& list = a[key];
      if (!list.is_array()) fail(path + "." + key, "must be an array of expressions, got " + type_name(list));
      for (std::size_t i = 0; i < list.size(); ++i) out.push_back(parse_expr(list[i], index(path + "." + key, i), spec));
      return out;
    };
    map.dims = expressions("dims", true);
    const std::size_t rank = map.dims.size();
    if (rank < 1 || rank > runner::kMaxTensorMapRank)
      fail(path + ".dims", "a tensor map has 1 to 5 dimensions, got " + std::to_string(rank));
    map.box = expressions("box", true);
    if (map.box.size() != rank)
      fail(path + ".box", "has " + std::to_string(map.box.size()) + " entries; \"dims\" has " + std::to_string(rank));
    map.strides = expressions("strides", false);
    if (a.contains("strides") && map.strides.size() != rank - 1)
      fail(path + ".strides", "has " + std::to_string(map.strides.size()) + " entries; a tensor of " + std::to_string(rank) +
                                  " dimensions has " + std::to_string(rank - 1) + " (of dims[1] onwards, in elements)");
    map.element_strides = expressions("element_strides", false);
    if (a.contains("element_strides") && map.element_strides.size() != rank)
      fail(path + ".element_strides", "has " + std::to_string(map.element_strides.size()) + " entries; \"dims\" has " +
                                          std::to_string(rank));
    map.swizzle = parse_expr(a.contains("swizzle") ? a["swizzle"] : json(0), path + ".swizzle", spec);
    map.l2_promotion = parse_expr(a.contains("l2_promotion") ? a["l2_promotion"] : json(256), path + ".l2_promotion", spec);
    if (a.contains("oob_fill")) {
      const std::string fill = string_field(a, "oob_fill", path);
      if (fill != "zeros" && fill != "nan") fail(path + ".oob_fill", "must be \"zeros\" or \"nan\", got \"" + fill + "\"");
      map.oob_nan = fill == "nan";
    }
    return map;
  }

  void resolve_tensor_map(const std::string& tensor, Argument& arg, const KernelSpec& spec) {
    const std::string path = "args." + arg.name + ".tensor";
    auto found = std::find_if(spec.args.begin(), spec.args.end(), [&](const Argument& x) { return x.name == tensor; });
    if (found == spec.args.end() || !found->is_buffer)
      fail(path, "\"" + tensor + "\" is not a buffer argument in \"args\"");
    arg.tensor_map->tensor = static_cast<std::size_t>(found - spec.args.begin());
    arg.type = found->type;
    if (arg.tensor_map->oob_nan && !is_floating(arg.type))
      fail("args." + arg.name + ".oob_fill", "\"nan\" needs a floating-point tensor; " + tensor + " holds " + element_type_name(arg.type));
  }

  void read_metrics(const json& root, KernelSpec& spec) {
    if (!root.contains("metrics")) return;
    const json& metrics = root["metrics"];
    expect_object(metrics, "metrics");
    check_fields(metrics, "metrics", {"flops", "bytes"});
    if (metrics.contains("flops")) spec.flops = parse_expr(metrics["flops"], "metrics.flops", spec);
    if (metrics.contains("bytes")) spec.bytes = parse_expr(metrics["bytes"], "metrics.bytes", spec);
  }

  // "objective": "time" (the default) or {"maximize": "flops"} over the metric's expression.
  void read_objective(const json& root, KernelSpec& spec) {
    if (!root.contains("objective")) return;
    const json& objective = root["objective"];
    if (objective.is_string() && objective.get<std::string>() == "time") return;
    if (!objective.is_object())
      fail("objective", "must be \"time\" or {\"maximize\": \"flops\"} (or \"bytes\"); Kernel Tuner's \"GFLOP/s\" is "
                        "{\"maximize\": \"flops\"} with metrics.flops, got " + objective.dump());
    check_fields(objective, "objective", {"maximize"});
    const std::string metric = string_field(objective, "maximize", "objective");
    if (metric != "flops" && metric != "bytes")
      fail("objective.maximize", "must be \"flops\" or \"bytes\" (a metric of \"metrics\"), got \"" + metric + "\"");
    spec.objective.maximize = metric;
    if (!spec.objective_metric())
      fail("objective.maximize", "metrics." + metric + " is not given: maximising it needs its expression (the work per launch)");
  }

  Config read_config(const json& object, const std::string& path, const KernelSpec& spec) {
    expect_object(object, path);
    Config config;
    for (const auto& [name, value] : object.items())
      if (spec.space.param_index(name) < 0) fail(path + "." + name, "is not a parameter");
    for (const auto& p : spec.space.params) {
      if (!object.contains(p.name)) fail(path, "has no value for parameter " + p.name);
      const json& v = object[p.name];
      std::int64_t x = 0;
      if (p.is_choice()) {
        if (!v.is_string()) fail(path + "." + p.name, "must be one of the choices " + join_values(p) + ", got " + type_name(v));
        auto code = p.value_from_text(v.get<std::string>());
        if (!code) fail(path + "." + p.name, code.error().message);
        x = *code;
      } else if (v.is_boolean()) x = v.get<bool>() ? 1 : 0;
      else if (v.is_number_integer()) x = v.get<std::int64_t>();
      else fail(path + "." + p.name, "must be an integer, got " + type_name(v));
      if (!std::binary_search(p.values.begin(), p.values.end(), x))
        fail(path + "." + p.name, std::to_string(x) + " is not one of the values listed in params." + p.name);
      config.emplace_back(p.name, x);
    }
    return config;
  }

  std::optional<double> tolerance(const json& object, const char* key, const std::string& path) {
    if (!object.contains(key)) return std::nullopt;
    const json& v = object[key];
    if (!v.is_number() || !(v.get<double>() >= 0) || !std::isfinite(v.get<double>()))
      fail(path + "." + key, "must be a non-negative number");
    return v.get<double>();
  }

  void read_verify(const json& root, KernelSpec& spec) {
    spec.verify.reference = spec.default_config;
    if (!root.contains("verify")) return;
    const json& verify = root["verify"];
    if (verify.is_boolean()) {
      spec.verify.enabled = verify.get<bool>();
      return;
    }
    expect_object(verify, "verify");
    check_fields(verify, "verify", {"against", "rtol", "atol", "outputs", "match"});
    if (verify.contains("against")) {
      const json& against = verify["against"];
      if (against.is_string()) {
        if (against.get<std::string>() != "default")
          fail("verify.against", "must be \"default\", a configuration object or {\"kernel\": {...}}");
      } else if (against.is_object() && against.contains("kernel")) {
        if (against.size() != 1) fail("verify.against", "{\"kernel\": {...}} names a reference kernel and nothing else");
        spec.verify.kernel = read_reference_kernel(against["kernel"], spec);
      } else {
        spec.verify.reference = read_config(against, "verify.against", spec);
      }
    }
    spec.verify.rtol = tolerance(verify, "rtol", "verify");
    spec.verify.atol = tolerance(verify, "atol", "verify");
    if (verify.contains("outputs")) {
      const json& outputs = verify["outputs"];
      expect_object(outputs, "verify.outputs");
      for (const auto& item : outputs.items()) {
        // Not a structured binding: lambdas below capture the name (clang 14 refuses bindings there).
        const std::string name = item.key();
        const json& check = item.value();
        const std::string path = "verify.outputs." + name;
        auto arg = std::find_if(spec.args.begin(), spec.args.end(), [&](const Argument& a) { return a.name == name; });
        if (arg == spec.args.end() || !arg->is_buffer || !arg->output)
          fail(path, "\"" + name + "\" is not an output buffer (\"output\": true)");
        expect_object(check, path);
        check_fields(check, path, {"answer", "rtol", "atol"});
        OutputCheck out;
        out.name = name;
        if (check.contains("answer") && !arg->type_param.empty())
          fail(path + ".answer", "\"" + name + "\" follows params." + arg->type_param + ": an answer file holds one type");
        if (check.contains("answer")) out.answer = read_data_file(check["answer"], path + ".answer", arg->type, spec);
        out.rtol = tolerance(check, "rtol", path);
        out.atol = tolerance(check, "atol", path);
        spec.verify.outputs.push_back(std::move(out));
      }
      // In argument order, whatever order the JSON object came in (keys are computed from it).
      std::sort(spec.verify.outputs.begin(), spec.verify.outputs.end(), [&](const OutputCheck& a, const OutputCheck& b) {
        auto position = [&](const std::string& n) {
          return std::find_if(spec.args.begin(), spec.args.end(), [&](const Argument& x) { return x.name == n; }) - spec.args.begin();
        };
        return position(a.name) < position(b.name);
      });
    }
    if (spec.verify.kernel && !spec.needs_reference_run())
      fail("verify.against", "every output has an answer file, so the reference kernel would never be used");
    if (verify.contains("match")) read_match(verify["match"], spec);
  }

  // A buffer whose type follows a named choice holds other data in each type: each configuration
  // is compared with a reference of its own type value, as if the parameter were in verify.match.
  void add_type_params_to_match(KernelSpec& spec) {
    if (!spec.verify.enabled || !spec.needs_reference_run() || !spec.has_typed_buffers()) return;
    std::vector<std::string> match;
    for (const auto& p : spec.space.params) {
      const bool typed = std::any_of(spec.args.begin(), spec.args.end(), [&](const Argument& a) { return a.type_param == p.name; });
      if (typed || std::find(spec.verify.match.begin(), spec.verify.match.end(), p.name) != spec.verify.match.end())
        match.push_back(p.name);
    }
    spec.verify.match = std::move(match);
  }

  // "verify.match": parameter names, kept in spec parameter order (keys are computed from it).
  void read_match(const json& match, KernelSpec& spec) {
    const std::vector<std::string> names = string_list(match, "verify.match");
    if (names.empty()) fail("verify.match", "lists no parameter (leave it out to use one reference for every configuration)");
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (spec.space.param_index(names[i]) < 0) fail(index("verify.match", i), "\"" + names[i] + "\" is not a parameter");
      if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) != names.begin() + static_cast<std::ptrdiff_t>(i))
        fail(index("verify.match", i), "\"" + names[i] + "\" is listed twice");
    }
    if (!spec.needs_reference_run())
      fail("verify.match", "every output has an answer file: there is no reference run whose parameters could match");
    for (const auto& p : spec.space.params)
      if (std::find(names.begin(), names.end(), p.name) != names.end()) spec.verify.match.push_back(p.name);
  }

  // {"source": ..., "entry": ..., "launch": {...}, "compile": {"options": [...]}}
  ReferenceKernel read_reference_kernel(const json& object, const KernelSpec& spec) {
    const std::string path = "verify.against.kernel";
    expect_object(object, path);
    check_fields(object, path, {"source", "entry", "launch", "compile"});
    ReferenceKernel kernel;
    if (object.contains("source")) {
      const json& source = object["source"];
      if (source.is_string()) {
        kernel.source_path = base_dir_ / source.get<std::string>();
        kernel.source = read_file(kernel.source_path, path + ".source");
      } else {
        expect_object(source, path + ".source");
        check_fields(source, path + ".source", {"file", "code"});
        if (source.contains("file") == source.contains("code")) fail(path + ".source", "give exactly one of \"file\" and \"code\"");
        if (source.contains("file")) {
          kernel.source_path = base_dir_ / string_field(source, "file", path + ".source");
          kernel.source = read_file(kernel.source_path, path + ".source.file");
        } else {
          kernel.source = string_field(source, "code", path + ".source");
          if (kernel.source.size() > kMaxSourceBytes) fail(path + ".source.code", "is larger than 16 MiB");
        }
      }
    } else {
      kernel.source = spec.source;  // a second entry of the same source
      kernel.source_path = spec.source_path;
    }
    kernel.entry = string_field(object, "entry", path);
    if (!is_identifier(kernel.entry)) fail(path + ".entry", "\"" + kernel.entry + "\" is not a C++ identifier");
    if (!contains_identifier(kernel.source, kernel.entry))
      fail(path + ".entry", "\"" + kernel.entry + "\" does not appear in the reference kernel's source");
    const json& launch = require(object, "launch", path);
    expect_object(launch, path + ".launch");
    check_fields(launch, path + ".launch", {"grid", "block", "shared_memory"});
    auto dim3 = [&](const std::string& key) {
      const std::string field = path + ".launch." + key;
      const json& dims = require(launch, key, path + ".launch");
      if (!dims.is_array() || dims.empty() || dims.size() > 3) fail(field, "must be an array of 1 to 3 expressions (x, y, z)");
      std::array<Expr, 3> out;
      for (std::size_t i = 0; i < 3; ++i) out[i] = parse_expr(i < dims.size() ? dims[i] : json(1), index(field, i), spec);
      return out;
    };
    kernel.launch.grid = dim3("grid");
    kernel.launch.block = dim3("block");
    kernel.launch.shared_memory_bytes = parse_expr(launch.contains("shared_memory") ? launch["shared_memory"] : json(0),
                                                   path + ".launch.shared_memory", spec);
    if (object.contains("compile")) {
      const json& compile = object["compile"];
      expect_object(compile, path + ".compile");
      check_fields(compile, path + ".compile", {"options"});
      if (compile.contains("options")) {
        kernel.compile_options = string_list(compile["options"], path + ".compile.options");
        for (std::size_t i = 0; i < kernel.compile_options.size(); ++i) {
          const auto& option = kernel.compile_options[i];
          if (option.rfind("-arch", 0) == 0 || option.rfind("--gpu-architecture", 0) == 0)
            fail(index(path + ".compile.options", i), "the architecture is chosen by ktune");
          if (option.empty() || option[0] != '-') fail(index(path + ".compile.options", i), "\"" + option + "\" is not an option");
        }
      }
    }
    return kernel;
  }

  // The default and the reference must be valid wherever sizes do not matter; a constraint that
  // rejects them is either wrong for them or wrong for every configuration, and we say which.
  void check_config_constraints(const Config& config, const std::string& path, const KernelSpec& spec) {
    std::vector<std::int64_t> slots(static_cast<std::size_t>(spec.space.slot_count()), 0);
    for (std::size_t p = 0; p < config.size(); ++p) slots[p] = config[p].second;
    for (std::size_t c = 0; c < spec.space.constraints.size(); ++c) {
      const Constraint& constraint = spec.space.constraints[c];
      if (constraint.uses_sizes) continue;
      EvalResult r = constraint.expr.evaluate(slots);
      if (r.ok() && r.value != 0) continue;
      std::string cpath = index("constraints", c);
      ParamSpace alone;
      alone.params = spec.space.params;
      alone.size_names = spec.space.size_names;
      auto expr = Expr::parse(constraint.expr.text(), alone.resolver(), {}, alone.choice_resolver());
      alone.constraints.push_back(Constraint{std::move(expr).value(), false});
      if (alone.product() <= kMaxProductToExplain) {
        auto space = SearchSpace::build(alone, nullptr);
        if (!space) fail(cpath, "\"" + constraint.expr.text() + "\" is not satisfied by any configuration");
      }
      if (!r.ok())
        fail(path, "cannot evaluate " + cpath + " \"" + constraint.expr.text() + "\" for " + spec.space.format(config) +
                       ": " + eval_error_text(r.error));
      fail(path, spec.space.format(config) + " violates " + cpath + " \"" + constraint.expr.text() + "\"");
    }
  }

  std::filesystem::path base_dir_;
  // The buffer each tensor_map argument names (by argument index), until every argument is read.
  std::map<std::size_t, std::string> tensor_names_;
  std::vector<std::pair<std::string, std::string>> entry_patterns_;  // (pattern, field path), checked with the default
  std::map<std::string, std::string> names_;  // parameter and size names -> where declared
};

// nlohmann keeps the last of duplicate keys silently; a spec with "BM" twice is a mistake we name.
Result<KernelSpec> parse_spec(std::string_view text, const std::filesystem::path& base_dir, const std::string& origin) {
  auto spec =
      json_input::read_document(text, kSpecDocument, origin, [&](const json& root) { return SpecReader(base_dir).read(root); });
  // Read once, here: a key is computed on every lookup, and the headers must be the same ones for
  // the key and the compile (bench_included_headers: ~0.4 ms for 41 headers of 4 KiB).
  if (spec) spec->headers_digest = included_headers(*spec).digest;
  return spec;
}

}  // namespace

Result<KernelSpec> KernelSpec::from_json_text(std::string_view json_text, const std::filesystem::path& base_dir) {
  return parse_spec(json_text, base_dir, "spec");
}

Result<KernelSpec> KernelSpec::from_file(const std::filesystem::path& path) {
  auto text = json_input::read_document_file(path, kSpecDocument);
  if (!text) return text.error();
  auto spec = parse_spec(*text, path.parent_path(), path.string());
  if (spec) spec->spec_path = path;
  return spec;
}

}  // namespace ktune
