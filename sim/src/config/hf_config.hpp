// config/hf_config.hpp: a HuggingFace config.json -> ModelSpec (private to config/; the public entry point
// is moesim::model_from_hf_config in moesim/config.hpp).
#pragma once

#include "moesim/model.hpp"

#include <string>

namespace moesim::config {

// Maps the text of a config.json (read from `path`, which every error names) to a ModelSpec.
// Supported: DeepseekV2/V3ForCausalLM, Qwen2Moe/Qwen3MoeForCausalLM, MixtralForCausalLM,
// PanguProMoEForCausalLM, BailingMoeForCausalLM, Llama/Qwen2/Qwen3ForCausalLM (chosen by
// architectures[0], else by model_type). Dense blocks that do not lead the stack (Qwen
// decoder_sparse_step / mlp_only_layers, DeepSeek moe_layer_freq) are counted into first_dense_layers:
// every consumer of ModelSpec uses only the number of dense and MoE blocks, never their positions.
ModelSpec model_from_hf_json(const std::string& json_text, const std::string& path);

}  // namespace moesim::config
