// Canonical forms and keys (docs/keys.md). The forms are JSON documents dumped with sorted keys
// and no whitespace, so they are unambiguous (strings are escaped) and stable.
#include "engine/model/key.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "engine/model/entry_pattern.hpp"
#include "store/records.hpp"

namespace ktune {

namespace {

using json = nlohmann::json;  // std::map-backed: keys come out sorted

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Punctuation that could fuse with a neighbour into another token ("a - -b" vs "a--b"); a space
// between two of these is kept, so normalising never changes how the source tokenises.
bool fusing_punct(char c) {
  switch (c) {
    case '+': case '-': case '*': case '/': case '%': case '<': case '>': case '=': case '!':
    case '&': case '|': case '^': case ':': case '.': case '#':
      return true;
    default:
      return false;
  }
}

bool space_needed(char left, char right) {
  return (ident_char(left) && ident_char(right)) || (fusing_punct(left) && fusing_punct(right)) ||
         (left == '.' && std::isdigit(static_cast<unsigned char>(right)));
}

std::string expr_text(const Expr& e);

json constraint_texts(const ParamSpace& space) {
  json out = json::array();
  for (const auto& c : space.constraints) out.push_back(expr_text(c.expr));
  return out;
}

// The text without whitespace, except inside a string literal (a named choice such as
// 'unsigned int'), which is kept verbatim between single quotes whichever quotes it was written in.
std::string expr_text(const Expr& e) {
  std::string compact;
  char quote = 0;
  for (char ch : e.text()) {
    if (quote) {
      compact += ch == quote ? '\'' : ch;
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      compact += '\'';
    } else if (!std::isspace(static_cast<unsigned char>(ch))) {
      compact += ch;
    }
  }
  return compact;
}

json expr_texts(const std::vector<Expr>& exprs) {
  json out = json::array();
  for (const auto& e : exprs) out.push_back(expr_text(e));
  return out;
}

json cluster_texts(const std::array<Expr, 3>& cluster) { return expr_texts({cluster.begin(), cluster.end()}); }

// A tensor_map argument in the kernel form: every field as written (defaults filled in), the
// tensor by name.
json tensor_map_form(const TensorMapSpec& map, const KernelSpec& spec) {
  return json{{"type", "tensor_map"},
              {"tensor", spec.args[map.tensor].name},
              {"dims", expr_texts(map.dims)},
              {"strides", expr_texts(map.strides)},
              {"box", expr_texts(map.box)},
              {"element_strides", expr_texts(map.element_strides)},
              {"swizzle", expr_text(map.swizzle)},
              {"l2_promotion", expr_text(map.l2_promotion)},
              {"oob_fill", map.oob_nan ? "nan" : "zeros"}};
}

}  // namespace

std::string canonical_source(std::string_view source, std::string_view entry) {
  std::string out;
  out.reserve(source.size());
  bool pending_space = false;
  bool at_line_start = true;    // only whitespace seen since the last newline
  bool in_directive = false;    // inside a preprocessor line
  auto emit = [&](char c) {
    // Inside a directive every space is kept (as one): "#define F (x)" and "#define F(x)" differ.
    if (pending_space && !out.empty() && out.back() != '\n' && (in_directive || space_needed(out.back(), c)))
      out += ' ';
    pending_space = false;
    out += c;
    at_line_start = false;
  };
  auto end_line = [&] {
    if (!out.empty() && out.back() != '\n') out += '\n';
    pending_space = false;
    at_line_start = true;
    in_directive = false;
  };

  std::size_t i = 0;
  const std::size_t n = source.size();
  while (i < n) {
    char c = source[i];
    if (c == '\\' && i + 1 < n && source[i + 1] == '\n') {  // line continuation joins lines
      i += 2;
      pending_space = true;
      continue;
    }
    if (c == '/' && i + 1 < n && source[i + 1] == '/') {
      while (i < n && source[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && source[i + 1] == '*') {
      std::size_t close = source.find("*/", i + 2);
      i = close == std::string_view::npos ? n : close + 2;
      pending_space = true;  // a comment separates tokens like whitespace does
      continue;
    }
    if (c == '\n') {
      // Newlines matter only to end preprocessor directives.
      if (in_directive) end_line();
      else pending_space = true;
      at_line_start = true;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = true;
      ++i;
      continue;
    }
    if (c == '#' && at_line_start) {
      end_line();
      in_directive = true;
      emit(c);
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      std::size_t start = i++;
      while (i < n && source[i] != c && source[i] != '\n') i += source[i] == '\\' ? 2 : 1;
      i = std::min(i + 1, n);
      emit(source[start]);
      out.append(source.substr(start + 1, i - start - 1));
      continue;
    }
    if (ident_char(c)) {
      std::size_t start = i;
      while (i < n && ident_char(source[i])) ++i;
      std::string_view word = source.substr(start, i - start);
      const bool is_entry = !std::isdigit(static_cast<unsigned char>(word[0])) && word == entry;
      std::string_view replacement = is_entry ? kEntryPlaceholder : word;
      emit(replacement[0]);
      out.append(replacement.substr(1));
      continue;
    }
    emit(c);
    ++i;
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string kernel_canonical_form(const KernelSpec& spec) {
  json form;
  form["form"] = "ktune-kernel";
  form["version"] = kKeyFormatVersion;
  form["source"] = canonical_source(spec.source, spec.entry_name());
  // The instance is part of what the kernel is: vector_add<float> and vector_add<double> share a
  // source. Written only when given, so the keys of every other spec are unchanged.
  if (const std::string fixed = spec.entry_template_arguments(); !fixed.empty()) form["entry_template_args"] = fixed;
  // An entry chosen by parameters ("k_block{BLOCK}") is the pattern: which kernels a configuration
  // launches. Written only for patterns (a pipeline's are in "pipeline"), so other keys stay.
  if (!spec.is_pipeline() && is_entry_pattern(spec.entry)) form["entry_pattern"] = spec.entry;
  form["passing"] = spec.passing == ParamPassing::template_ ? "template" : "defines";
  form["template_args"] = spec.template_args;
  form["options"] = spec.compile_options;
  form["arch_specific"] = spec.arch_specific;
  json params = json::array();
  for (const auto& p : spec.space.params) {
    json param{{"name", p.name}, {"values", p.values}};
    if (p.is_choice()) param["choices"] = p.choices;  // only then: integer parameters keep their keys
    params.push_back(std::move(param));
  }
  form["params"] = params;
  form["sizes"] = spec.space.size_names;
  // Written only when set, so the keys of every other spec are unchanged.
  if (spec.sizes_to_preprocessor) form["sizes_to_preprocessor"] = true;
  form["constraints"] = constraint_texts(spec.space);
  // The launch mapping and argument layout change what a measurement means, so they are part of
  // what the kernel is; names, descriptions, the default and tolerances are not.
  json launch;
  for (int d = 0; d < 3; ++d) {
    launch["grid"].push_back(expr_text(spec.launch.grid[static_cast<std::size_t>(d)]));
    launch["block"].push_back(expr_text(spec.launch.block[static_cast<std::size_t>(d)]));
  }
  launch["shared_memory"] = expr_text(spec.launch.shared_memory_bytes);
  // Present only with a cluster, so the keys of other kernels did not change (as in stages).
  if (spec.launch.cluster) launch["cluster"] = cluster_texts(*spec.launch.cluster);
  form["launch"] = launch;
  json args = json::array();
  for (const auto& a : spec.args) {
    if (a.tensor_map) {  // the descriptor's fields as written; its data is the tensor's
      args.push_back(tensor_map_form(*a.tensor_map, spec));
      continue;
    }
    // A buffer whose type follows a named choice: the parameter (only then, so other keys stay).
    json arg{{"type", a.type_param.empty() ? std::string(element_type_name(a.type)) : "choice:" + a.type_param}, {"buffer", a.is_buffer}};
    if (a.is_buffer) arg["count"] = expr_text(*a.count);
    else if (a.value) arg["value"] = expr_text(*a.value);
    else arg["value"] = a.float_value;
    args.push_back(arg);
  }
  form["args"] = args;
  // A pipeline's kernels: each one's entry, launch and arguments (indices into "args"). Present
  // only for pipelines, so the keys of single kernels did not change.
  auto kernels_form = [](const std::vector<PipelineStage>& kernels) {
    json stages = json::array();
    for (const auto& stage : kernels) {
      json geometry;
      for (std::size_t d = 0; d < 3; ++d) {
        geometry["grid"].push_back(expr_text(stage.launch.grid[d]));
        geometry["block"].push_back(expr_text(stage.launch.block[d]));
      }
      geometry["shared_memory"] = expr_text(stage.launch.shared_memory_bytes);
      if (stage.launch.cluster) geometry["cluster"] = cluster_texts(*stage.launch.cluster);
      stages.push_back(json{{"entry", stage.entry}, {"launch", geometry}, {"args", stage.args}});
    }
    return stages;
  };
  if (spec.is_pipeline()) form["pipeline"] = kernels_form(spec.pipeline);
  // Setup kernels likewise, present only when the spec has some (other keys did not change).
  if (!spec.setup.empty()) form["setup"] = kernels_form(spec.setup);
  // Only present when the source includes headers found on disk (outside the toolkit), so the
  // keys of kernels without such includes did not change when header contents joined the key.
  if (!spec.headers_digest.empty()) form["headers"] = spec.headers_digest;
  // A measurement made without verification, or on other input data, must not answer a request
  // with verification, or on the spec's data (issue #14; docs/keys.md "What a measurement's
  // identity is"). Present only when they differ from the defaults, so the keys of existing
  // entries (verified, default seed) still find them.
  static const std::uint64_t default_seed = KernelSpec{}.seed;
  // The __constant__ symbols filled, like the argument layout (their data is in the measurement
  // key's inputs). Present only when there are some, so other kernels' keys did not change.
  if (!spec.constants.empty()) {
    json constants = json::array();
    for (const auto& c : spec.constants)
      constants.push_back(json{{"name", c.name}, {"type", element_type_name(c.type)}, {"count", c.count ? expr_text(*c.count) : ""}});
    form["constants"] = constants;
  }
  if (!spec.verify.enabled) form["verify"] = false;
  // A reference that is not a configuration of the same kernel (a reference kernel, answer
  // files) catches errors every configuration shares: a winner verified only against one of its
  // own configurations must not be served to such a spec. Absent otherwise, so existing keys
  // stay. (The measurement key drops "verify": measurements are shared and filtered by their
  // recorded verification identity, docs/keys.md.)
  else if (spec.verify.kernel || std::any_of(spec.verify.outputs.begin(), spec.verify.outputs.end(),
                                             [](const OutputCheck& o) { return o.answer.has_value(); }))
    form["verify"] = json{{"reference", json::parse(verification_identity(spec))}};
  // verify.match: each configuration is checked against a reference at its own values of these
  // parameters, another meaning of "verified" (issue #16). Present only when given.
  if (spec.verify.enabled && !spec.verify.match.empty()) form["verify"]["match"] = spec.verify.match;
  // What tuning ranks by: a winner by flops per second is not the fastest launch, so the lookup
  // table must never mix the two. Present only when not the time, so existing keys stay. (The
  // measurement key drops it: a measured time means the same whatever ranks it.)
  if (const Expr* metric = spec.objective_metric())
    form["objective"] = json{{"maximize", spec.objective.maximize}, {"metric", expr_text(*metric)}};
  if (spec.seed != default_seed) form["seed"] = spec.seed;
  return form.dump();
}

std::string tuning_canonical_form(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                                  const Toolchain& toolchain) {
  return tuning_canonical_form(kernel_key(spec).hex(), spec.space.size_names, sizes, device, toolchain);
}

std::string tuning_canonical_form(std::string_view kernel_key_hex, const std::vector<std::string>& size_names,
                                  const Sizes& sizes, const DeviceSignature& device, const Toolchain& toolchain) {
  json form;
  form["form"] = "ktune-tuning";
  form["version"] = kKeyFormatVersion;
  form["kernel"] = std::string(kernel_key_hex);
  json size_values = json::array();
  for (const auto& name : size_names) {
    auto value = find_value(sizes, name);
    size_values.push_back(json::array({name, value.value_or(-1)}));
  }
  form["sizes"] = size_values;
  form["device"] = json{{"name", device.name}, {"arch", device.arch}};
  form["toolchain"] = json{{"nvrtc", toolchain.nvrtc_version}};
  return form.dump();
}

namespace {

// One buffer's or constant's data as the measurement key records it. The forms of the kinds that
// existed before issue #16 are unchanged, so existing measurement keys still find their rows. A
// file is recorded by its digest (its contents), never its path.
json init_form(const DataInit& init) {
  switch (init.kind) {
    case BufferInit::Kind::random: return json{{"random", json::array({init.low, init.high})}};
    case BufferInit::Kind::zeros: return "zeros";
    case BufferInit::Kind::constant: return json{{"constant", init.value}};
    case BufferInit::Kind::iota: return "iota";
    case BufferInit::Kind::normal: return json{{"normal", json::array({init.mean, init.stddev})}};
    case BufferInit::Kind::integers: return json{{"integers", json::array({expr_text(*init.int_min), expr_text(*init.int_max)})}};
    case BufferInit::Kind::file:
      return json{{init.file.format == DataFormat::npy ? "npy" : "raw", init.file.digest}};
    case BufferInit::Kind::copy: return json{{"copy", init.copy_of}};
  }
  return nullptr;
}

}  // namespace

std::string measurement_inputs_form(const KernelSpec& spec) {
  json init = json::array();
  for (const auto& a : spec.args)
    if (a.is_buffer) init.push_back(init_form(a.init));  // scalars are in the kernel form's args
  // Each buffer's own seed is derived from the spec's seed and its position (spec_json.cpp).
  json form{{"seed", spec.seed}, {"init", init}};
  if (!spec.constants.empty()) {
    json constants = json::array();
    for (const auto& c : spec.constants) constants.push_back(init_form(c.init));
    form["constants"] = constants;
  }
  return form.dump();
}

std::string verification_identity(const KernelSpec& spec) {
  if (!spec.verify.enabled) return std::string(store::kNotVerified);
  const std::string against = format_named(spec.verify.reference, " ");
  // The form of specs with a reference configuration, no answer files and one tolerance pair for
  // every output is the one recorded before issue #16, so their stored rows still answer.
  std::optional<Tolerances> shared;
  bool uniform = !spec.verify.kernel && spec.verify.match.empty();
  for (const auto& a : spec.args) {
    if (!a.is_buffer || !a.output) continue;
    const Tolerances t = spec.verify.tolerances_for(a);
    const OutputCheck* check = spec.verify.output(a.name);
    if ((shared && !(*shared == t)) || (check && check->answer)) uniform = false;
    shared = t;
  }
  if (uniform) {
    const Tolerances t = shared.value_or(Tolerances{});
    return json{{"against", against}, {"rtol", t.rtol}, {"atol", t.atol}}.dump();
  }
  json form;
  if (!spec.verify.match.empty()) form["match"] = spec.verify.match;
  if (spec.needs_reference_run()) {
    if (spec.verify.kernel) {
      const ReferenceKernel& k = *spec.verify.kernel;
      json launch;
      for (std::size_t d = 0; d < 3; ++d) {
        launch["grid"].push_back(expr_text(k.launch.grid[d]));
        launch["block"].push_back(expr_text(k.launch.block[d]));
      }
      launch["shared_memory"] = expr_text(k.launch.shared_memory_bytes);
      // The reference kernel as compiled: its source, entry, launch and options, and the
      // default configuration whose defines it is compiled with.
      form["against"] = json{{"kernel", xxh3_128(json{{"source", canonical_source(k.source, k.entry)},
                                                       {"launch", launch},
                                                       {"options", k.compile_options},
                                                       {"defines", spec.defines_for(spec.default_config)}}
                                                      .dump())
                                           .hex()}};
    } else {
      form["against"] = against;
    }
  }
  json outputs = json::array();
  for (const auto& a : spec.args) {
    if (!a.is_buffer || !a.output) continue;
    const Tolerances t = spec.verify.tolerances_for(a);
    const OutputCheck* check = spec.verify.output(a.name);
    outputs.push_back(json{{"name", a.name}, {"rtol", t.rtol}, {"atol", t.atol},
                           {"answer", check && check->answer ? json(check->answer->ref.digest) : json(nullptr)}});
  }
  form["outputs"] = outputs;
  return form.dump();
}

Hash128 kernel_key(const KernelSpec& spec) { return xxh3_128(kernel_canonical_form(spec)); }

Hash128 tuning_key(const KernelSpec& spec, const Sizes& sizes, const DeviceSignature& device,
                   const Toolchain& toolchain) {
  return xxh3_128(tuning_canonical_form(spec, sizes, device, toolchain));
}

}  // namespace ktune
