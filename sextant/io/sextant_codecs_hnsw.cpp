// How the HNSW indexes are stored in a sextant file (registered in
// sextant_codecs()): the graph parameters, the storage as it is laid out in
// memory (rows in graph-node order), the graph links and the node numbering.
// Everything read is checked by the indexes' restore() before use.
#include "sextant/io/sextant_codecs_hnsw.h"

#include "sextant/IndexHNSW.h"
#include "sextant/IndexHNSWQuantized.h"
#include "sextant/io/quantizer_fields.h"

namespace sextant {

namespace {

void write_params(const IndexHNSW& hnsw, SextantWriter& out) {
  out.i32(hnsw.M());
  out.i32(hnsw.efConstruction());
  out.i32(static_cast<int32_t>(hnsw.efSearch()));  // set_efSearch keeps it in range
}

struct Params {
  int32_t M, efConstruction, efSearch;
  void apply(IndexHNSW& index) const {
    index.set_efConstruction(efConstruction);  // these check > 0
    index.set_efSearch(efSearch);
  }
};

Params read_params(SextantReader& in) {
  Params p;
  p.M = in.i32("HNSW M");
  in.in().check(p.M >= 2 && p.M <= HNSW::kMaxUpperDegree, "HNSW M=", p.M, " must be in [2, ",
                HNSW::kMaxUpperDegree, "]");
  p.efConstruction = in.i32("HNSW efConstruction");
  p.efSearch = in.i32("HNSW efSearch");
  return p;
}

void write_graph(const IndexHNSW& hnsw, SextantWriter& out) {
  // The lists go out as they lie in the graph: saving never copies it.
  const HNSW& g = hnsw.hnsw();
  out.array(g.levels().data(), g.levels().size());
  out.array_header(g.list_words(), sizeof(node_t));
  g.for_each_list([&](const node_t* list) { out.raw(list, (1 + list[0]) * sizeof(node_t)); });
  out.u32(g.entry_point());
  out.array(hnsw.label_of_node().data(), hnsw.label_of_node().size());
  out.i64(hnsw.renumbered_at());
}

struct Graph {
  HNSW::Layout layout;
  std::vector<node_t> label_of_node;
  int64_t renumbered_at = 0;
};

Graph read_graph(const IndexHeader& h, SextantReader& in) {
  Graph g;
  g.layout.levels = in.array<std::vector<uint8_t>>("HNSW levels");
  g.layout.lists = in.array<std::vector<node_t>>("HNSW links");
  g.layout.entry_point = in.u32("HNSW entry point");
  g.label_of_node = in.array<std::vector<node_t>>("HNSW node ids");
  g.renumbered_at = in.i64("HNSW renumbered at");
  in.in().check(idx_t(g.layout.levels.size()) == h.ntotal, "HNSW: ", g.layout.levels.size(),
                " graph nodes for ntotal=", h.ntotal);
  return g;
}

void write_codes(const IndexHNSWCodes& hnsw, SextantWriter& out) {
  out.array(hnsw.codes(), size_t(hnsw.ntotal()) * hnsw.code_size());
  write_graph(hnsw, out);
}

std::unique_ptr<Index> read_codes(std::unique_ptr<IndexHNSWCodes> index, const IndexHeader& h, SextantReader& in) {
  Storage<uint8_t> codes = in.storage<uint8_t>("HNSW codes");
  in.in().check(codes.size() == size_t(h.ntotal) * index->code_size(), index->type_name(), ": ", codes.size(),
                " code bytes for ", h.ntotal, " codes of ", index->code_size(), " bytes");
  Graph g = read_graph(h, in);
  index->restore(std::move(codes).take(), g.layout, std::move(g.label_of_node), g.renumbered_at);
  return index;
}

}  // namespace

void write_hnsw_flat(const Index& index, SextantWriter& out) {
  const auto& hnsw = static_cast<const IndexHNSWFlat&>(index);  // the codec table matched type_name()
  write_params(hnsw, out);
  const FlatGraphStorage& storage = hnsw.flat_storage();
  out.array(storage.column_order().data(), storage.column_order().size());
  out.u8(storage.column_order_fixed());
  // The rows as floats, one at a time (stored split, see FlatGraphStorage).
  out.array_header(uint64_t(storage.size()) * storage.d(), sizeof(float));
  std::vector<float> row(storage.d());
  for (size_t i = 0; i < storage.size(); i++) {
    storage.stored_row(i, row.data());
    out.raw(row.data(), row.size() * sizeof(float));
  }
  write_graph(hnsw, out);
}

std::unique_ptr<Index> read_hnsw_flat(const IndexHeader& h, SextantReader& in) {
  const Params p = read_params(in);
  auto index = std::make_unique<IndexHNSWFlat>(h.d, p.M, h.metric);
  p.apply(*index);
  auto order = in.array<std::vector<uint32_t>>("HNSW column order");
  const bool order_fixed = in.boolean("HNSW column order fixed");
  // The rows are split into the storage's arrays straight from the file's bytes.
  const uint64_t floats = in.array_header(sizeof(float), "HNSW vectors");
  in.in().check(floats == uint64_t(h.ntotal) * uint64_t(h.d), "HNSW: ", floats, " floats do not make ntotal=",
                h.ntotal, " vectors of d=", h.d);
  const uint8_t* rows = in.in().take(size_t(floats) * sizeof(float), "HNSW vectors");
  Graph g = read_graph(h, in);
  index->restore(std::move(order), order_fixed, rows, size_t(floats), g.layout, std::move(g.label_of_node),
                 g.renumbered_at);
  return index;
}

void write_hnsw_sq(const Index& index, SextantWriter& out) {
  const auto& hnsw = static_cast<const IndexHNSWSQ&>(index);
  write_params(hnsw, out);
  out.i32(static_cast<int32_t>(hnsw.sq().type()));
  out.array(hnsw.sq().trained().data(), hnsw.sq().trained().size());
  write_codes(hnsw, out);
}

std::unique_ptr<Index> read_hnsw_sq(const IndexHeader& h, SextantReader& in) {
  const Params p = read_params(in);
  auto index = std::make_unique<IndexHNSWSQ>(h.d, read_qtype(in), p.M, h.metric);
  p.apply(*index);
  restore_sq(index->sq(), in.array<std::vector<float>>("scalar quantizer ranges"));
  return read_codes(std::move(index), h, in);
}

void write_hnsw_pq(const Index& index, SextantWriter& out) {
  const auto& hnsw = static_cast<const IndexHNSWPQ&>(index);
  write_params(hnsw, out);
  write_pq_params(hnsw.pq(), out);
  write_codes(hnsw, out);
}

std::unique_ptr<Index> read_hnsw_pq(const IndexHeader& h, SextantReader& in) {
  const Params p = read_params(in);
  const auto [pq_M, nbits] = read_pq_shape(h, in);
  auto index = std::make_unique<IndexHNSWPQ>(h.d, pq_M, p.M, nbits, h.metric);
  p.apply(*index);
  restore_pq_centroids(index->pq(), h, in);
  return read_codes(std::move(index), h, in);
}

}  // namespace sextant
