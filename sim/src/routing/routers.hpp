// routing/routers.hpp: factories and validators of the built-in routers (registered in register.cpp).
#pragma once

#include "moesim/router.hpp"

#include <memory>
#include <string>

namespace moesim::routing {

std::unique_ptr<Router> make_topk_router(const RouterSpec& spec);
std::unique_ptr<Router> make_moge_router(const RouterSpec& spec);
std::unique_ptr<Router> make_group_limited_router(const RouterSpec& spec);
std::unique_ptr<Router> make_expert_choice_router(const RouterSpec& spec);
std::unique_ptr<Router> make_hash_router(const RouterSpec& spec);

// Each throws Error(file, key + ".<field>", value, "<the limit that was violated>").
// key is the router's key path, e.g. "setups[1].router".
void validate_topk(const RouterSpec& spec, const std::string& file, const std::string& key);
void validate_moge(const RouterSpec& spec, const std::string& file, const std::string& key);
void validate_group_limited(const RouterSpec& spec, const std::string& file, const std::string& key);
void validate_expert_choice(const RouterSpec& spec, const std::string& file, const std::string& key);
void validate_hash(const RouterSpec& spec, const std::string& file, const std::string& key);

}  // namespace moesim::routing
