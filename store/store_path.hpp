#pragma once
// Where the store lives: --db, else $KTUNE_DB, else $XDG_CACHE_HOME/ktune/ktune.db, else
// $HOME/.cache/ktune/ktune.db, else the account's home (password database)/.cache/ktune/ktune.db.
// There is no shared fallback such as /tmp/ktune: another account's entries there would be
// answered as exact matches and its cubins loaded. With no home at all the path cannot be chosen.
#include <filesystem>
#include <optional>
#include <string>

#include "engine/common/result.hpp"

namespace ktune {

// The folder holding the store and the cubin cache; Errc::io when the account has no home.
Result<std::filesystem::path> find_cache_dir();
// The same, throwing KtuneError (one line for the CLI) when there is none.
std::filesystem::path default_cache_dir();
std::filesystem::path default_store_path(const std::string& explicit_path = {});

}  // namespace ktune
