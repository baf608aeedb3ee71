// routing/register.cpp: the built-in routers, registered explicitly (no static initialisers).
#include "moesim/registries.hpp"
#include "routing/routers.hpp"

namespace moesim {

void register_builtin_routers(RouterRegistry& reg) {
  using namespace routing;
  reg.add("topk",
          "softmax or sigmoid scores, the k largest per token (GShard, Mixtral, Qwen-MoE; routing.md s1)",
          {make_topk_router, validate_topk, {"topk_group", "group_score", "capacity_factor"}});
  reg.add("moge",
          "Mixture of Grouped Experts: global softmax, top-k/groups in every group (Pangu Pro MoE, arXiv 2505.21411)",
          {make_moge_router, validate_moge, {"topk_group", "group_score", "capacity_factor"}});
  reg.add("group_limited",
          "top-k within the topk_group best expert groups (DeepSeek-V3 Gate, arXiv 2412.19437; inference/model.py)",
          {make_group_limited_router, validate_group_limited, {"capacity_factor"}});
  reg.add("expert_choice",
          "each expert picks its top-C tokens, C = cf*tokens*k/experts (Zhou et al. 2022, arXiv 2202.09368)",
          {make_expert_choice_router, validate_expert_choice, {"topk_group", "group_score"}});
  reg.add("hash",
          "k distinct experts from a hash of the token, scores ignored (Hash Layers, Roller et al. 2021, arXiv 2106.04426)",
          {make_hash_router, validate_hash, {"topk_group", "group_score", "capacity_factor", "scoring", "normalize"}});
}

}  // namespace moesim
