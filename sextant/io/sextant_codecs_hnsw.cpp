// How the HNSW indexes are stored in a sextant file (registered in
// sextant_codecs()): the graph parameters, the storage as it is laid out in
// memory, the graph links and the node numbering. Everything read is checked
// by IndexHNSWFlat::restore before the index is used.
#include "sextant/IndexHNSW.h"
#include "sextant/io/sextant_codecs_hnsw.h"

namespace sextant {

void write_hnsw_flat(const Index& index, SextantWriter& out) {
  const auto& hnsw = static_cast<const IndexHNSWFlat&>(index);  // the codec table matched type_name()
  out.i32(hnsw.M());
  out.i32(hnsw.efConstruction());
  out.i32(hnsw.efSearch());
  const FlatGraphStorage& storage = hnsw.flat_storage();
  out.array(storage.column_order().data(), storage.column_order().size());
  out.u8(storage.column_order_fixed());
  out.array(storage.rows(), storage.size() * storage.d());
  const HNSW::Layout layout = hnsw.hnsw().layout();
  out.array(layout.levels.data(), layout.levels.size());
  out.array(layout.lists.data(), layout.lists.size());
  out.u32(layout.entry_point);
  out.array(hnsw.label_of_node().data(), hnsw.label_of_node().size());
  out.i64(hnsw.renumbered_at());
}

std::unique_ptr<Index> read_hnsw_flat(const IndexHeader& h, SextantReader& in) {
  const int32_t M = in.i32("HNSW M");
  in.in().check(M >= 2 && M <= HNSW::kMaxUpperDegree, "HNSW M=", M, " must be in [2, ", HNSW::kMaxUpperDegree, "]");
  auto index = std::make_unique<IndexHNSWFlat>(h.d, M, h.metric);
  index->set_efConstruction(in.i32("HNSW efConstruction"));  // these check > 0
  index->set_efSearch(in.i32("HNSW efSearch"));
  auto order = in.array<std::vector<uint32_t>>("HNSW column order");
  const bool order_fixed = in.boolean("HNSW column order fixed");
  Storage<float> rows = in.storage<float>("HNSW vectors");
  HNSW::Layout layout;
  layout.levels = in.array<std::vector<uint8_t>>("HNSW levels");
  layout.lists = in.array<std::vector<node_t>>("HNSW links");
  layout.entry_point = in.u32("HNSW entry point");
  auto label_of_node = in.array<std::vector<node_t>>("HNSW node ids");
  const int64_t renumbered_at = in.i64("HNSW renumbered at");
  in.in().check(idx_t(layout.levels.size()) == h.ntotal, "HNSW: ", layout.levels.size(), " graph nodes for ntotal=",
                h.ntotal);
  in.in().check(rows.size() == size_t(h.ntotal) * size_t(h.d), "HNSW: ", rows.size(), " floats do not make ntotal=",
                h.ntotal, " vectors of d=", h.d);
  index->restore(std::move(order), order_fixed, rows.data(), layout, std::move(label_of_node), renumbered_at);
  return index;
}

}  // namespace sextant
