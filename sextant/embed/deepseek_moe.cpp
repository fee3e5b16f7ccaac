#include "sextant/embed/deepseek_moe.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"

namespace sextant::embed {

// ---- SwiGLU ----------------------------------------------------------------------

SwiGLU SwiGLU::load(const Checkpoint& ckpt, const std::string& prefix, int64_t hidden, int64_t inter, bool bias) {
  return SwiGLU(Linear::concat({Linear(ckpt, prefix + "gate_proj", hidden, inter, bias),
                                Linear(ckpt, prefix + "up_proj", hidden, inter, bias)}),
                Linear(ckpt, prefix + "down_proj", inter, hidden, bias));
}

Matrix SwiGLU::apply(const Matrix& x) const {
  const Matrix gu = gate_up_.apply(x);
  const size_t inter = gu.cols / 2;
  Matrix h(x.rows, inter);
#pragma omp parallel for if (x.rows > 16)
  for (size_t r = 0; r < x.rows; r++) {
    const float* g = gu.row(r);
    const float* u = g + inter;
    float* o = h.row(r);
    for (size_t j = 0; j < inter; j++) o[j] = g[j] / (1.0f + std::exp(-g[j])) * u[j];
  }
  return down_.apply(h);
}

// ---- routing -----------------------------------------------------------------------

namespace {

/// Indices of the k largest values (ties: the smaller index first).
std::vector<int32_t> top_k(const std::vector<float>& values, size_t k) {
  std::vector<int32_t> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(k), idx.end(),
                    [&](int32_t a, int32_t b) { return values[a] > values[b] || (values[a] == values[b] && a < b); });
  idx.resize(k);
  return idx;
}

/// Keeps the scores of the experts in the `topk_group` best groups and sets the others to `masked`.
void mask_to_best_groups(const DeepseekConfig& c, std::vector<float>& scores, bool sum_of_top2, float masked) {
  const size_t groups = static_cast<size_t>(c.n_group), per_group = scores.size() / groups;
  std::vector<float> group_score(groups);
  for (size_t g = 0; g < groups; g++) {
    const float* s = &scores[g * per_group];
    if (sum_of_top2) {  // V3: the sum of the group's two best scores
      float best = -std::numeric_limits<float>::infinity(), second = best;
      for (size_t j = 0; j < per_group; j++) {
        if (s[j] > best) {
          second = best;
          best = s[j];
        } else if (s[j] > second) {
          second = s[j];
        }
      }
      group_score[g] = best + second;
    } else {  // V2: the group's best score
      group_score[g] = *std::max_element(s, s + per_group);
    }
  }
  std::vector<bool> keep(groups, false);
  for (int32_t g : top_k(group_score, static_cast<size_t>(c.topk_group))) keep[static_cast<size_t>(g)] = true;
  for (size_t g = 0; g < groups; g++) {
    if (!keep[g]) std::fill_n(&scores[g * per_group], per_group, masked);
  }
}

}  // namespace

Route route_token(const DeepseekConfig& c, const float* logits, const float* correction_bias) {
  const size_t n = static_cast<size_t>(c.n_routed_experts), k = static_cast<size_t>(c.num_experts_per_tok);
  std::vector<float> scores(logits, logits + n);
  Route route;
  if (c.version == 3) {
    for (float& s : scores) s = 1.0f / (1.0f + std::exp(-s));
    // The bias steers which experts are chosen, never how much they weigh.
    std::vector<float> choice(scores);
    if (correction_bias != nullptr) {
      for (size_t e = 0; e < n; e++) choice[e] += correction_bias[e];
    }
    mask_to_best_groups(c, choice, true, -std::numeric_limits<float>::infinity());
    route.experts = top_k(choice, k);
    for (int32_t e : route.experts) route.weights.push_back(scores[static_cast<size_t>(e)]);
    if (c.norm_topk_prob) {
      float sum = 1e-20f;
      for (float w : route.weights) sum += w;
      for (float& w : route.weights) w /= sum;
    }
    for (float& w : route.weights) w *= static_cast<float>(c.routed_scaling_factor);
    return route;
  }
  // V2: softmax over all experts.
  const float mx = *std::max_element(scores.begin(), scores.end());
  float sum = 0;
  for (float& s : scores) {
    s = std::exp(s - mx);
    sum += s;
  }
  for (float& s : scores) s /= sum;
  if (c.topk_method == "group_limited_greedy") mask_to_best_groups(c, scores, false, 0.0f);
  route.experts = top_k(scores, k);
  for (int32_t e : route.experts) route.weights.push_back(scores[static_cast<size_t>(e)]);
  if (k > 1 && c.norm_topk_prob) {
    float total = 1e-20f;
    for (float w : route.weights) total += w;
    for (float& w : route.weights) w /= total;
  } else {
    for (float& w : route.weights) w *= static_cast<float>(c.routed_scaling_factor);
  }
  return route;
}

// ---- MoE -----------------------------------------------------------------------------

MoE::MoE(const DeepseekConfig& c, const Checkpoint& ckpt, const std::string& prefix) : config_(c) {
  const int64_t h = c.hidden_size, inter = c.moe_intermediate_size, n = c.n_routed_experts;
  gate_ = Linear(ckpt, prefix + "gate", h, n, false);
  if (c.version == 3 && ckpt.contains(prefix + "gate.e_score_correction_bias")) {
    correction_bias_ = load_vector(ckpt, prefix + "gate.e_score_correction_bias", n);
  }
  // Experts come one by one (DeepSeek's own checkpoints) or stacked in two
  // 3-D tensors (checkpoints written by transformers 5).
  if (ckpt.contains(prefix + "experts.gate_up_proj")) {
    Tensor gate_up = ckpt.load(prefix + "experts.gate_up_proj", {n, 2 * inter, h});
    Tensor down = ckpt.load(prefix + "experts.down_proj", {n, h, inter});
    const size_t gu_size = static_cast<size_t>(2 * inter * h), down_size = static_cast<size_t>(h * inter);
    for (int64_t e = 0; e < n; e++) {
      const float* gu = gate_up.data() + static_cast<size_t>(e) * gu_size;
      const float* d = down.data() + static_cast<size_t>(e) * down_size;
      experts_.emplace_back(Linear(std::vector<float>(gu, gu + gu_size), {}, h, 2 * inter),
                            Linear(std::vector<float>(d, d + down_size), {}, inter, h));
    }
  } else {
    for (int64_t e = 0; e < n; e++) {
      experts_.push_back(SwiGLU::load(ckpt, prefix + "experts." + std::to_string(e) + ".", h, inter, c.mlp_bias));
    }
  }
  if (c.n_shared_experts > 0) {
    shared_ = SwiGLU::load(ckpt, prefix + "shared_experts.", h, inter * c.n_shared_experts, c.mlp_bias);
    has_shared_ = true;
  }
}

Matrix MoE::apply(const Matrix& x) const {
  const DeepseekConfig& c = config_;
  const Matrix logits = gate_.apply(x);
  std::vector<Route> routes(x.rows);
  ParallelErrors errors;
#pragma omp parallel for if (x.rows > 16)
  for (size_t t = 0; t < x.rows; t++) errors.run([&] {
    routes[t] = route_token(c, logits.row(t), correction_bias_.empty() ? nullptr : correction_bias_.data());
  });
  errors.rethrow();
  // Gather the tokens of each expert so that it runs as one GEMM over them.
  const size_t n = experts_.size();
  std::vector<std::vector<std::pair<size_t, float>>> assigned(n);
  for (size_t t = 0; t < x.rows; t++) {
    for (size_t j = 0; j < routes[t].experts.size(); j++) {
      assigned[static_cast<size_t>(routes[t].experts[j])].emplace_back(t, routes[t].weights[j]);
    }
  }
  Matrix out(x.rows, x.cols);
  for (size_t e = 0; e < n; e++) {
    if (assigned[e].empty()) continue;
    Matrix in(assigned[e].size(), x.cols);
    for (size_t i = 0; i < assigned[e].size(); i++) std::copy_n(x.row(assigned[e][i].first), x.cols, in.row(i));
    const Matrix y = experts_[e].apply(in);
    for (size_t i = 0; i < assigned[e].size(); i++) {
      float* o = out.row(assigned[e][i].first);
      const float w = assigned[e][i].second;
      const float* yr = y.row(i);
      for (size_t j = 0; j < x.cols; j++) o[j] += w * yr[j];
    }
  }
  if (has_shared_) add_in_place(out, shared_.apply(x));
  return out;
}

}  // namespace sextant::embed
