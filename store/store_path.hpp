#pragma once
// Where the store lives: --db, else $KTUNE_DB, else $XDG_CACHE_HOME/ktune/ktune.db, else
// ~/.cache/ktune/ktune.db.
#include <filesystem>
#include <string>

namespace ktune {

std::filesystem::path default_store_path(const std::string& explicit_path = {});
std::filesystem::path default_cache_dir();  // the folder holding the store and the cubin cache

}  // namespace ktune
