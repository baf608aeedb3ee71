#include "moesim/model.hpp"
#include "moesim/scenario.hpp"

namespace moesim {

const char* to_string(ScoringFunc f) { return f == ScoringFunc::softmax ? "softmax" : "sigmoid"; }
const char* to_string(AttentionKind a) { return a == AttentionKind::gqa ? "gqa" : "mla"; }
const char* to_string(Popularity p) {
  switch (p) {
    case Popularity::uniform: return "uniform";
    case Popularity::zipf: return "zipf";
    case Popularity::lognormal: return "lognormal";
  }
  return "?";
}

}  // namespace moesim
