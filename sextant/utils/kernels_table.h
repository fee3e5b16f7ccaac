// The Kernels table of one instruction-set level, filled by field name from
// the kernels of the namespace that includes this file (kernels_scalar.cpp,
// kernels_avx2.cpp, kernels_avx512.cpp), after those kernels and kLevel.
// No include guard: each level's file includes it once, inside its namespace.

const Kernels& table() {
  static const Kernels kTable{
      .level = kLevel,
      .l2sqr = l2sqr,
      .inner_product = inner_product,
      .l2sqr_ny = l2sqr_ny,
      .inner_product_ny = inner_product_ny,
      .collect_below = collect_below,
      .min_key = min_key,
      .sq_l2 = {sq_score<kSQ8bit, true>, sq_score<kSQ6bit, true>, sq_score<kSQ4bit, true>,
                sq_score<kSQfp16, true>, sq_score<kSQbf16, true>},
      .sq_ip = {sq_score<kSQ8bit, false>, sq_score<kSQ6bit, false>, sq_score<kSQ4bit, false>,
                sq_score<kSQfp16, false>, sq_score<kSQbf16, false>},
      .fastscan_collect = fastscan_collect,
      .fastscan_sums = fastscan_sums,
      .fastscan_quantize = fastscan_quantize,
      .l2sqr_gather = l2sqr_gather,
      .inner_product_gather = inner_product_gather,
      .l2sqr_split_gather = l2sqr_split_gather,
      .inner_product_split_gather = inner_product_split_gather,
      .l2sqr_split_pair = l2sqr_split_pair,
      .inner_product_split_pair = inner_product_split_pair,
      .l2_nearest = l2_nearest,
      .l2sqr_table = l2sqr_table,
      .inner_product_table = inner_product_table,
      .rabitq_popcounts = rabitq_popcounts,
      .rabitq_residual = rabitq_residual,
      .rabitq_extended_dot = rabitq_extended_dot,
  };
  return kTable;
}
