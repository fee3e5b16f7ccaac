// IndexIVF search: the coarse step, then the lists, query by query or list by list.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "sextant/IndexIVF.h"
#include "sextant/base/Error.h"
#include "sextant/base/parallel.h"
#include "sextant/base/threads.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {

constexpr idx_t kQueryChunk = 16384;       // queries per coarse step: bounds the probe arrays
constexpr size_t kListMajorMinQueries = 64;  // fewer queries: lists are rarely shared, scan query by query
constexpr size_t kDbBlock = 1024;           // list rows per GEMM tile
constexpr size_t kQueryBlock = 512;         // queries per GEMM tile
constexpr size_t kGemmMinQueries = 8;       // fewer queries on a list: SIMD kernels instead of GEMM
constexpr size_t kMaxHeapEntries = 1 << 22; // list-major keeps threads x queries x k heap entries

int available_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

// The first lines of the next list to scan, into L2, while this one is
// scanned: a list is a short stream, over before the hardware prefetcher has
// followed it far (GloVe-50 under IVF1024 fast-scan, one query at a time: 10%
// more queries a second). Not for batches: there they cost 2% (the same set,
// queries grouped by nearest list, so that neighbours find the lists in cache).
constexpr idx_t kPrefetchMaxQueries = 8;
void prefetch_list(const InvertedLists& lists, size_t list, size_t code_size) {
  constexpr size_t kBytes = 8192;
  const char* codes = reinterpret_cast<const char*>(lists.codes(list));
  const size_t bytes = std::min(lists.list_size(list) * code_size, kBytes);
  for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(codes + b, 0, 2);
}

// The knobs the IVF search uses up itself; the coarse quantizer gets the rest.
constexpr KnobSet kOwnKnobs = kKnobSel | kKnobNprobe | kKnobMaxCodes;

}  // namespace

KnobSet IndexIVF::search_knobs() const {
  // Knobs of the coarse quantizer (efSearch of an HNSW quantizer) pass through.
  return kOwnKnobs | quantizer_->search_knobs();
}

void IndexIVF::probe(idx_t n, const float* x, size_t nprobe, const SearchParams& params, float* coarse,
                     idx_t* lists) const {
  search_nested(*quantizer_, n, x, static_cast<idx_t>(nprobe), coarse, lists, nullptr, params.without(kOwnKnobs));
}

void IndexIVF::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const SearchParams& params) const {
  search_chunks(n, x, k, distances, labels, nullptr, params);
}

void IndexIVF::search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                                   const SearchParams& params) const {
  search_chunks(n, x, k, distances, labels, order, params);
}

void IndexIVF::search_chunks(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                             const SearchParams& params) const {
  const int64_t nprobe_knob = params.nprobe.value_or(nprobe_);
  SEXTANT_CHECK(nprobe_knob >= 1, "nprobe must be >= 1, got ", nprobe_knob);
  const int64_t max_codes = params.max_codes.value_or(max_codes_);
  SEXTANT_CHECK(max_codes >= 0, "max_codes must be >= 0 (0: no limit), got ", max_codes);
  const size_t nprobe = std::min<size_t>(nprobe_knob, nlist());
  const size_t chunk = std::min(n, kQueryChunk);
  std::vector<float> coarse(chunk * nprobe);
  std::vector<idx_t> probes(coarse.size());
  // Grouped: the chunk's queries and probes copied in the order of their nearest list.
  std::vector<float> grouped_x(order ? chunk * d_ : 0), grouped_coarse(order ? coarse.size() : 0);
  std::vector<idx_t> grouped_probes(grouped_coarse.size());
  for (idx_t i0 = 0; i0 < n; i0 += kQueryChunk) {
    const idx_t m = std::min(kQueryChunk, n - i0);
    const float* xs = x + i0 * d_;
    probe(m, xs, nprobe, params, coarse.data(), probes.data());
    const float* cs = coarse.data();
    const idx_t* ps = probes.data();
    if (order != nullptr) {
      idx_t* perm = order + i0;
      std::iota(perm, perm + m, idx_t{0});
      std::stable_sort(perm, perm + m, [&](idx_t a, idx_t b) { return probes[a * nprobe] < probes[b * nprobe]; });
      parallel_for_static(m > 1024, m, [&](idx_t i) {
        std::copy_n(xs + perm[i] * d_, d_, grouped_x.data() + i * d_);
        std::copy_n(coarse.data() + perm[i] * nprobe, nprobe, grouped_coarse.data() + i * nprobe);
        std::copy_n(probes.data() + perm[i] * nprobe, nprobe, grouped_probes.data() + i * nprobe);
        perm[i] += i0;
      });
      xs = grouped_x.data();
      cs = grouped_coarse.data();
      ps = grouped_probes.data();
    }
    search_preassigned(m, xs, k, nprobe, max_codes, cs, ps, params.sel.get(), distances + i0 * k, labels + i0 * k);
  }
}

void IndexIVF::search_preassigned(idx_t n, const float* x, size_t k, size_t nprobe, size_t max_codes,
                                  const float* coarse, const idx_t* probes, const IDSelector* sel, float* distances,
                                  idx_t* labels) const {
  const bool heaps_fit = size_t(n) * k * size_t(available_threads()) <= kMaxHeapEntries;
  if (max_codes == 0 && supports_list_major_search() && size_t(n) >= kListMajorMinQueries && heaps_fit) {
    search_list_major(n, x, k, nprobe, probes, sel, distances, labels);
  } else {
    search_query_major(n, x, k, nprobe, max_codes, coarse, probes, sel, distances, labels);
  }
}

std::unique_ptr<InvertedListScanner> IndexIVF::make_scanner() const {
  SEXTANT_FAIL(type_name(), " has no list scanner");
}

// One heap per query, filled by the query's own scanner. With fewer queries
// than threads, a query's probed lists are split between threads instead
// (each with a private heap, merged at the end) unless max_codes asks for
// the lists to be scanned in order.
void IndexIVF::search_query_major(idx_t n, const float* x, size_t k, size_t nprobe, size_t max_codes,
                                  const float* coarse, const idx_t* probes, const IDSelector* sel,
                                  float* distances, idx_t* labels) const {
  const size_t nthreads = available_threads();
  const size_t slices = (size_t(n) >= nthreads || max_codes > 0) ? 1 : std::min(nprobe, nthreads);
  std::vector<float> slice_keys(slices > 1 ? slices * n * k : 0);
  std::vector<idx_t> slice_ids(slice_keys.size());

  // Scans probes [p0, p1) of query q into heap.
  auto scan = [&](InvertedListScanner& scanner, idx_t q, size_t p0, size_t p1, TopKHeap& heap) {
    scanner.set_query(x + q * d_);
    size_t seen = 0;
    for (size_t p = p0; p < p1; p++) {
      const idx_t list = probes[q * nprobe + p];
      if (list < 0) continue;  // the quantizer had fewer than nprobe centroids to offer
      size_t size = lists_->list_size(list);
      if (size == 0) continue;
      if (max_codes > 0) size = std::min(size, max_codes - seen);
      const idx_t next = p + 1 < p1 ? probes[q * nprobe + p + 1] : -1;
      if (next >= 0 && n <= kPrefetchMaxQueries) prefetch_list(*lists_, next, code_size());
      scanner.set_list(list, coarse[q * nprobe + p]);
      scanner.scan(lists_->codes(list), lists_->ids(list), size, code_size(), heap, sel);
      seen += size;
      if (max_codes > 0 && seen >= max_codes) break;
    }
  };

  const size_t items = n * slices;
  ParallelErrors errors;
  parallel_region(items > 1 && nthreads > 1 ? int(nthreads) : 1, [&] {
    std::unique_ptr<InvertedListScanner> scanner;
    errors.run([&] { scanner = make_scanner(); });
#pragma omp for schedule(dynamic)
    for (long item = 0; item < static_cast<long>(items); item++) {
      errors.run([&] {
        const idx_t q = item / slices;
        const size_t s = item % slices;
        if (slices == 1) {
          TopKHeap heap(distances + q * k, labels + q * k, k);
          scan(*scanner, q, 0, nprobe, heap);
          heap.finish();
        } else {
          const size_t at = (s * n + q) * k;
          TopKHeap heap(slice_keys.data() + at, slice_ids.data() + at, k);
          scan(*scanner, q, nprobe * s / slices, nprobe * (s + 1) / slices, heap);
          heap.finish();
        }
      });
    }
  });
  errors.rethrow();
  if (slices > 1) merge_slices(n, k, slices, slice_keys.data(), slice_ids.data(), distances, labels);
  keys_to_distances(metric_, n, k, nullptr, distances);
}

// Lists outer, queries inner: the queries that probe a list are gathered and
// scored against blocks of its vectors with one GEMM (keys = |y|^2 - 2 x.y
// for L2, -x.y for IP; the query's |x|^2 is added at the end). Every thread
// keeps heaps for all queries; they are merged at the end.
void IndexIVF::search_list_major(idx_t n, const float* x, size_t k, size_t nprobe, const idx_t* probes,
                                 const IDSelector* sel, float* distances, idx_t* labels) const {
  const Kernels& kern = kernels();
  const size_t nl = nlist(), d = d_, cs = code_size();
  const bool l2 = metric_ == MetricType::L2;
  const float scale = l2 ? -2.0f : -1.0f;  // applied to inner products

  // Which queries probe each list, in query order.
  std::vector<size_t> start(nl + 1, 0);
  for (size_t i = 0; i < size_t(n) * nprobe; i++) {
    if (probes[i] >= 0) start[probes[i] + 1]++;
  }
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<idx_t> by_list(start[nl]);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < size_t(n) * nprobe; i++) {
      if (probes[i] >= 0) by_list[fill[probes[i]]++] = idx_t(i / nprobe);
    }
  }
  // Biggest jobs first, so the dynamic schedule ends evenly.
  std::vector<size_t> order(nl);
  std::iota(order.begin(), order.end(), size_t{0});
  auto work = [&](size_t l) { return double(start[l + 1] - start[l]) * double(lists_->list_size(l)); };
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return work(a) > work(b); });

  std::vector<float> query_norms(l2 ? n : 0);
  if (l2) fvec_norms_L2sqr(x, n, d, query_norms.data());

  const size_t nthreads = std::min<size_t>(available_threads(), nl);
  std::vector<float> heap_keys(nthreads * n * k);
  std::vector<idx_t> heap_ids(heap_keys.size());
  ParallelErrors errors;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
  {
    const size_t t = omp_get_thread_num();
    std::vector<TopKHeap> heaps;
    std::vector<float> gathered, decoded, norms, tile;
    errors.run([&] {
      heaps.reserve(n);
      for (idx_t q = 0; q < n; q++) heaps.emplace_back(&heap_keys[(t * n + q) * k], &heap_ids[(t * n + q) * k], k);
      gathered.resize(std::min<size_t>(kQueryBlock, n) * d);
      decoded.resize(kDbBlock * d);
      norms.resize(kDbBlock);
      tile.resize(kQueryBlock * kDbBlock);
    });
#pragma omp for schedule(dynamic, 1)
    for (long o = 0; o < static_cast<long>(nl); o++) errors.run([&] {
      const size_t list = order[o];
      const size_t size = lists_->list_size(list);
      const idx_t* queries = by_list.data() + start[list];
      const size_t nq = start[list + 1] - start[list];
      if (size == 0 || nq == 0) return;
      const uint8_t* codes = lists_->codes(list);
      const idx_t* ids = lists_->ids(list);
      for (size_t j0 = 0; j0 < size; j0 += kDbBlock) {
        const size_t nb = std::min(kDbBlock, size - j0);
        const float* y = decode_block(list, codes + j0 * cs, nb, decoded.data());
        if (l2) fvec_norms_L2sqr(y, nb, d, norms.data());
        const float* bias = l2 ? norms.data() : nullptr;
        if (nq < kGemmMinQueries) {
          for (size_t i = 0; i < nq; i++) {
            kern.inner_product_ny(x + queries[i] * d, y, nb, d, tile.data());
            push_candidates(kern, tile.data(), bias, scale, nb, ids + j0, 0, heaps[queries[i]], sel);
          }
          continue;
        }
        for (size_t i0 = 0; i0 < nq; i0 += kQueryBlock) {
          const size_t mq = std::min(kQueryBlock, nq - i0);
          for (size_t i = 0; i < mq; i++) std::copy_n(x + queries[i0 + i] * d, d, gathered.data() + i * d);
          gemm_abt(mq, nb, d, 1.0f, gathered.data(), d, y, d, 0.0f, tile.data(), nb);
          for (size_t i = 0; i < mq; i++) {
            push_candidates(kern, tile.data() + i * nb, bias, scale, nb, ids + j0, 0, heaps[queries[i0 + i]], sel);
          }
        }
      }
    });
    errors.run([&] {
      for (TopKHeap& heap : heaps) heap.finish();
    });
  }
  errors.rethrow();

#pragma omp parallel for schedule(static) if (size_t(n) * k > 4096)
  for (long q = 0; q < static_cast<long>(n); q++) errors.run([&] {
    TopKHeap merged(distances + q * k, labels + q * k, k);
    for (size_t t = 0; t < nthreads; t++) {
      const size_t at = (t * n + q) * k;
      for (size_t i = 0; i < k && heap_ids[at + i] >= 0; i++) merged.push(heap_keys[at + i], heap_ids[at + i]);
    }
    merged.finish();
  });
  errors.rethrow();
  keys_to_distances(metric_, n, k, l2 ? query_norms.data() : nullptr, distances);
}

const float* IndexIVF::decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const {
  for (size_t i = 0; i < n; i++) decode(list, codes + i * code_size(), out + i * d_);
  return out;
}

void IndexIVF::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                 RangeSearchResult& result) const {
  const int64_t nprobe_knob = params.nprobe.value_or(nprobe_);
  SEXTANT_CHECK(nprobe_knob >= 1, "nprobe must be >= 1, got ", nprobe_knob);
  const size_t nprobe = std::min<size_t>(nprobe_knob, nlist());
  std::vector<float> coarse(size_t(n) * nprobe);
  std::vector<idx_t> probes(coarse.size());
  probe(n, x, nprobe, params, coarse.data(), probes.data());
  range_search_preassigned(n, x, radius, nprobe, coarse.data(), probes.data(), params.sel.get(), result);
}

void IndexIVF::range_search_preassigned(idx_t n, const float* x, float radius, size_t nprobe, const float* coarse,
                                        const idx_t* probes, const IDSelector* sel, RangeSearchResult& result) const {
  const bool l2 = metric_ == MetricType::L2;
  std::vector<std::vector<std::pair<float, idx_t>>> hits(n);
  ParallelErrors errors;
#pragma omp parallel if (n > 1)
  {
    std::unique_ptr<InvertedListScanner> scanner;
    errors.run([&] { scanner = make_scanner(); });
#pragma omp for schedule(dynamic)
    for (long q = 0; q < static_cast<long>(n); q++) errors.run([&] {
      scanner->set_query(x + q * d_);
      for (size_t p = 0; p < nprobe; p++) {
        const idx_t list = probes[q * nprobe + p];
        if (list < 0 || lists_->list_size(list) == 0) continue;
        scanner->set_list(list, coarse[q * nprobe + p]);
        scanner->scan_range(lists_->codes(list), lists_->ids(list), lists_->list_size(list), code_size(), radius,
                            sel, hits[q]);
      }
      std::sort(hits[q].begin(), hits[q].end(), [l2](const auto& a, const auto& b) {
        return (l2 ? a.first < b.first : a.first > b.first) || (a.first == b.first && a.second < b.second);
      });
    });
  }
  errors.rethrow();
  result = RangeSearchResult::from_hits(hits);
}

}  // namespace sextant
