#include "moesim/model.hpp"
#include "moesim/plan.hpp"
#include "moesim/scenario.hpp"

namespace moesim {

const char* to_string(ScoringFunc f) { return f == ScoringFunc::softmax ? "softmax" : "sigmoid"; }
const char* to_string(GroupScore g) { return g == GroupScore::max ? "max" : "top2_sum"; }
const char* to_string(AttentionKind a) { return a == AttentionKind::gqa ? "gqa" : "mla"; }
const char* to_string(DType d) {
  switch (d) {
    case DType::bf16: return "bf16";
    case DType::fp8: return "fp8";
    case DType::int8: return "int8";
  }
  return "?";
}
const char* to_string(Phase p) {
  switch (p) {
    case Phase::decode: return "decode";
    case Phase::prefill: return "prefill";
    case Phase::training: return "training";
  }
  return "?";
}
const char* to_string(PlanMode m) {
  switch (m) {
    case PlanMode::phase: return "phase";
    case PlanMode::disaggregated: return "disaggregated";
    case PlanMode::colocated: return "colocated";
  }
  return "?";
}
const char* to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
  }
  return "?";
}
const char* to_string(AllToAll a) { return a == AllToAll::normal ? "normal" : "low_latency"; }

const char* to_string(Popularity p) {
  switch (p) {
    case Popularity::uniform: return "uniform";
    case Popularity::zipf: return "zipf";
    case Popularity::lognormal: return "lognormal";
  }
  return "?";
}

}  // namespace moesim
