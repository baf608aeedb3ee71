// The planner's recommendations. Phase mode: the cheapest pool of the phase that meets its limit.
// Disaggregated: the cheapest prefill pool meeting TTFT plus the cheapest decode pool meeting TPOT (the
// same setup: prefill and decode serve one model), each sized for its share of the target. Colocated:
// one pool, a decode batch and a prefill batch on the same layout, taking turns. When nothing meets the
// limits the choice carries the nearest miss and says why.
#include "plan/choose.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <tuple>

namespace moesim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1e3);
  return buf;
}

double limit_of(const PlanRequest& req, Phase p) { return p == Phase::decode ? req.max_tpot_s : req.max_ttft_s; }
std::string limit_text(const PlanRequest& req, Phase p) {
  return std::string(p == Phase::decode ? "TPOT" : "TTFT") + " p99 <= " + ms(limit_of(req, p));
}
// latency / limit: at most 1 meets; 0 without a limit.
double excess(double latency, double limit) { return limit > 0 ? latency / limit : 0.0; }
double choice_excess(const PlanRequest& req, const PlanChoice& c) {
  if (c.setup < 0) return kInf;
  return std::max(c.decode >= 0 ? excess(c.tpot_s, req.max_tpot_s) : 0.0, c.prefill >= 0 ? excess(c.ttft_s, req.max_ttft_s) : 0.0);
}

double price_of(const PlanRequest& req, const std::string& hw) {
  for (const auto& h : req.hardware)
    if (h.name == hw) return h.usd_per_hour;
  return 0;
}

// "every candidate was rejected: does not fit in device memory (40), no FP8 support (20)".
std::string rejections(const std::map<std::string, int>& counts, const std::string& what) {
  if (counts.empty()) return "no " + what + " candidate: no device count and layout of the search suits this hardware";
  std::vector<std::pair<int, std::string>> by;
  for (const auto& [reason, n] : counts) by.push_back({-n, reason});
  std::sort(by.begin(), by.end());
  std::string s = "every " + what + " candidate was rejected: ";
  for (size_t i = 0; i < by.size(); ++i) s += (i ? ", " : "") + by[i].second + " (" + std::to_string(-by[i].first) + ")";
  return s;
}

// Meets before misses; then the cheaper; misses by how near they come; then the lower latency.
bool better(const PlanRequest& req, const PlanChoice& a, const PlanChoice& b) {
  if (a.meets != b.meets) return a.meets;
  if (!a.meets) {
    const double ea = choice_excess(req, a), eb = choice_excess(req, b);
    if (ea != eb) return ea < eb;
  }
  if (a.usd_per_hour != b.usd_per_hour) return a.usd_per_hour < b.usd_per_hour;
  return a.tpot_s + a.ttft_s < b.tpot_s + b.ttft_s;
}

struct Pick {
  int index = -1;
  bool meets = false;
  std::string reason;
};

// The cheapest costed candidate of (hardware, setup, phase) meeting its limit, else the nearest miss.
// hw "" = any hardware.
Pick best_pool(const PlanRequest& req, const PlanResult& r, const std::string& hw, int setup, Phase phase) {
  std::map<std::string, int> rejected;
  int best = -1, nearest = -1;
  const double limit = limit_of(req, phase);
  const auto cheaper = [&](int i, int j) {
    const auto &a = r.candidates[size_t(i)], &b = r.candidates[size_t(j)];
    return std::tie(a.usd_per_hour, a.latency_p99_s) < std::tie(b.usd_per_hour, b.latency_p99_s);
  };
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const PlanCandidate& c = r.candidates[i];
    if ((!hw.empty() && c.hardware != hw) || c.setup != setup || c.phase != phase) continue;
    if (!c.rejected.empty()) {
      ++rejected[c.rejected];
      continue;
    }
    if (c.meets_latency) {
      if (best < 0 || cheaper(int(i), best)) best = int(i);
    } else if (nearest < 0 || excess(c.latency_p99_s, limit) < excess(r.candidates[size_t(nearest)].latency_p99_s, limit)) {
      nearest = int(i);
    }
  }
  if (best >= 0) return {best, true, ""};
  const std::string what = to_string(phase);
  if (nearest >= 0)
    return {nearest, false,
            "no " + what + " candidate meets " + limit_text(req, phase) + " (the nearest reaches " +
                ms(r.candidates[size_t(nearest)].latency_p99_s) + ")"};
  return {-1, false, rejections(rejected, what)};
}

double per_million(double usd_per_hour, double tokens_per_s) { return usd_per_hour / (tokens_per_s * 3600.0) * 1e6; }

PlanChoice phase_choice(const PlanRequest& req, const PlanResult& r, const std::string& hw, int setup) {
  const Phase phase = req.base.deployment.phase;
  const Pick p = best_pool(req, r, hw, setup, phase);
  PlanChoice c;
  c.hardware = hw;
  c.meets = p.meets;
  c.reason = p.reason;
  if (p.index < 0) return c;
  const PlanCandidate& k = r.candidates[size_t(p.index)];
  c.setup = setup;
  (phase == Phase::decode ? c.decode : c.prefill) = p.index;
  (phase == Phase::decode ? c.tpot_s : c.ttft_s) = k.latency_p99_s;
  c.usd_per_hour = k.usd_per_hour;
  c.usd_per_million_tokens = per_million(c.usd_per_hour, req.target_tokens_per_s);
  return c;
}

// Prefill pool on hw_prefill and decode pool on hw_decode ("" = any), one setup.
PlanChoice disaggregated_choice(const PlanRequest& req, const PlanResult& r, const std::string& hw_prefill,
                                const std::string& hw_decode, int setup) {
  const Pick p = best_pool(req, r, hw_prefill, setup, Phase::prefill);
  const Pick d = best_pool(req, r, hw_decode, setup, Phase::decode);
  PlanChoice c;
  c.meets = p.meets && d.meets;
  c.reason = p.reason + (!p.reason.empty() && !d.reason.empty() ? "; " : "") + d.reason;
  c.prefill = p.index;
  c.decode = d.index;
  const std::string hp = p.index >= 0 ? r.candidates[size_t(p.index)].hardware : hw_prefill;
  const std::string hd = d.index >= 0 ? r.candidates[size_t(d.index)].hardware : hw_decode;
  c.hardware = hp == hd ? hp : hp + " (prefill) + " + hd + " (decode)";
  if (p.index < 0 || d.index < 0) return c;
  c.setup = setup;
  c.ttft_s = r.candidates[size_t(p.index)].latency_p99_s;
  c.tpot_s = r.candidates[size_t(d.index)].latency_p99_s;
  c.usd_per_hour = r.candidates[size_t(p.index)].usd_per_hour + r.candidates[size_t(d.index)].usd_per_hour;
  c.usd_per_million_tokens = per_million(c.usd_per_hour, req.target_tokens_per_s);
  return c;
}

// One pool taking turns: per replica, prefilling alone would serve a = prefill tokens/s / input requests/s,
// decoding alone b = decode tokens/s / output. Serving both, it spends f = b / (a + b) of its time
// prefilling and serves ab / (a + b) requests/s; a sequence waits out the prefills between its decode
// steps (TPOT = decode TPOT / (1 - f)) and a prompt waits for the decode step in flight before its own
// prefill (TTFT = prefill TTFT + decode step). Memory: the weights once, both batches' KV caches and the
// larger of the two activations.
PlanChoice colocated_pair(const PlanRequest& req, const PlanCandidate& d, const PlanCandidate& p, int di, int pi) {
  PlanChoice c;
  c.hardware = d.hardware;
  c.setup = d.setup;
  c.decode = di;
  c.prefill = pi;
  const double a = p.tokens_per_s / double(req.input_tokens), b = d.tokens_per_s / double(req.output_tokens);
  c.prefill_fraction = b / (a + b);
  c.tpot_s = d.latency_p99_s / (1.0 - c.prefill_fraction);
  c.ttft_s = p.latency_p99_s + d.step_p99_s;
  const double requests_per_s = a * b / (a + b);
  c.replicas = std::max(1, int(std::ceil(req.target_tokens_per_s / double(req.output_tokens) / requests_per_s - 1e-12)));
  c.usd_per_hour = double(c.replicas) * d.devices * price_of(req, d.hardware);
  c.usd_per_million_tokens = per_million(c.usd_per_hour, req.target_tokens_per_s);
  c.meets = (req.max_tpot_s <= 0 || c.tpot_s <= req.max_tpot_s) && (req.max_ttft_s <= 0 || c.ttft_s <= req.max_ttft_s);
  return c;
}

bool fit_together(const PlanCandidate& d, const PlanCandidate& p) {
  const double need = d.memory.weights + d.memory.kv_cache + p.memory.kv_cache + std::max(d.memory.activations, p.memory.activations);
  return need <= d.memory.capacity;
}

PlanChoice colocated_choice(const PlanRequest& req, const PlanResult& r, const std::string& hw, int setup) {
  using Layout = std::tuple<int, int, int>;  // devices, attention tp, expert tp
  std::map<Layout, std::pair<std::vector<int>, std::vector<int>>> layouts;  // -> (decode, prefill) candidates
  std::map<std::string, int> rejected;
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const PlanCandidate& c = r.candidates[i];
    if (c.hardware != hw || c.setup != setup) continue;
    if (!c.rejected.empty()) {
      ++rejected[c.rejected];
      continue;
    }
    auto& lists = layouts[{c.devices, c.attention_tp, c.expert_tp}];
    (c.phase == Phase::decode ? lists.first : lists.second).push_back(int(i));
  }
  PlanChoice best;
  best.hardware = hw;
  bool any = false;
  for (const auto& [layout, lists] : layouts)
    for (int di : lists.first)
      for (int pi : lists.second) {
        const PlanCandidate &d = r.candidates[size_t(di)], &p = r.candidates[size_t(pi)];
        if (!fit_together(d, p)) {
          ++rejected["the decode and prefill batches do not fit in device memory together"];
          continue;
        }
        const PlanChoice c = colocated_pair(req, d, p, di, pi);
        if (!any || better(req, c, best)) best = c;
        any = true;
      }
  if (!any) {
    best.reason = rejections(rejected, "colocated");
    return best;
  }
  if (!best.meets) {
    std::string limits;
    if (req.max_tpot_s > 0) limits += limit_text(req, Phase::decode);
    if (req.max_ttft_s > 0) limits += (limits.empty() ? "" : " and ") + limit_text(req, Phase::prefill);
    best.reason = "no colocated pool meets " + limits + " (the nearest reaches TPOT " + ms(best.tpot_s) + ", TTFT " +
                  ms(best.ttft_s) + ")";
  }
  return best;
}

PlanChoice choice_for(const PlanRequest& req, const PlanResult& r, const std::string& hw, int setup) {
  switch (req.mode) {
    case PlanMode::phase: return phase_choice(req, r, hw, setup);
    case PlanMode::disaggregated: return disaggregated_choice(req, r, hw, hw, setup);
    case PlanMode::colocated: return colocated_choice(req, r, hw, setup);
  }
  return {};
}

// The best of several choices (the first when none was costed, for its reason).
PlanChoice pick(const PlanRequest& req, const std::vector<PlanChoice>& cs) {
  PlanChoice best = cs.front();
  for (const auto& c : cs)
    if (c.setup >= 0 && (best.setup < 0 || better(req, c, best))) best = c;
  return best;
}

}  // namespace

void choose_plans(const PlanRequest& req, PlanResult& r) {
  const int setups = int(req.base.setups.size());
  std::vector<PlanChoice> all;
  for (const auto& h : req.hardware) {
    std::vector<PlanChoice> per;
    for (int s = 0; s < setups; ++s) per.push_back(choice_for(req, r, h.name, s));
    r.best.push_back(pick(req, per));
    r.best_per_setup.push_back(per);
    all.push_back(r.best.back());
  }
  if (req.mode == PlanMode::disaggregated) {  // the pools may sit on different hardware
    all.clear();
    for (int s = 0; s < setups; ++s) all.push_back(disaggregated_choice(req, r, "", "", s));
  }
  r.cheapest = all.empty() ? PlanChoice{} : pick(req, all);
}

}  // namespace moesim
