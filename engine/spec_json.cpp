#include "engine/spec.hpp"
