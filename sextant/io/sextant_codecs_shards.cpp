// Shards and replicas: a list of complete index objects, and for shards how
// their ids combine.
#include "sextant/io/sextant_codecs_shards.h"

#include "sextant/IndexReplicas.h"
#include "sextant/IndexShards.h"
#include "sextant/io/label_checks.h"

namespace sextant {

namespace {

// Ids of a successive-id shard, its offset added, stay below this: no overflow.
constexpr idx_t kMaxGlobalId = idx_t{1} << 62;

// The number of nested objects that follow: each takes at least a header's bytes.
uint64_t part_count(SextantReader& in, const char* what) {
  const uint64_t n = in.u64(what);
  in.in().check(n <= in.in().remaining() / 16, what, " = ", n, " is more than the file could hold");
  return n;
}

}  // namespace

void write_shards(const Index& index, SextantWriter& out) {
  const auto& shards = static_cast<const IndexShards&>(index);
  out.u8(shards.successive_ids() ? 1 : 0);
  out.i64(shards.next_id());
  out.u64(shards.nshards());
  for (size_t s = 0; s < shards.nshards(); s++) {
    out.i64(shards.id_offset(s));
    out.index(*shards.shard(s));
  }
}

std::unique_ptr<Index> read_shards(const IndexHeader& h, SextantReader& in) {
  const bool successive = in.boolean("successive_ids");
  const idx_t next_id = in.i64("next id");
  in.in().check(next_id >= 0 && next_id <= kMaxGlobalId, "IndexShards: next id ", next_id, " is out of range");
  auto index = std::make_unique<IndexShards>(h.d, h.metric, successive);
  index->set_next_id(next_id);
  const uint64_t n = part_count(in, "number of shards");
  std::vector<idx_t> offsets;
  for (uint64_t s = 0; s < n; s++) {
    const idx_t offset = in.i64("shard id offset");
    in.in().check(successive || offset == 0, "IndexShards without successive ids: shard ", s, " has id offset ",
                  offset);
    in.in().check(offset >= 0 && offset <= kMaxGlobalId, "IndexShards: shard ", s, " has id offset ", offset,
                  " out of range");
    std::shared_ptr<Index> shard = in.index("shard");
    in.in().check(shard->d() == h.d && shard->metric() == h.metric, "IndexShards: shard ", s,
                  " does not have the dimension and metric of its parent");
    in.in().check(labels_below(*shard, kMaxGlobalId), "IndexShards: shard ", s, " holds ids past 2^62");
    index->add_shard(std::move(shard));
    offsets.push_back(offset);
  }
  if (successive) {
    in.in().check(n == 0 || offsets[0] == 0, "IndexShards: the first shard's id offset is not 0");
    for (uint64_t s = 1; s < n; s++) {
      in.in().check(offsets[s] >= offsets[s - 1], "IndexShards: the id offsets decrease at shard ", s);
    }
    index->set_id_offsets(std::move(offsets));
  }
  return index;
}

void write_replicas(const Index& index, SextantWriter& out) {
  const auto& replicas = static_cast<const IndexReplicas&>(index);
  out.u64(replicas.nreplicas());
  for (size_t r = 0; r < replicas.nreplicas(); r++) out.index(*replicas.replica(r));
}

std::unique_ptr<Index> read_replicas(const IndexHeader& h, SextantReader& in) {
  auto index = std::make_unique<IndexReplicas>(h.d, h.metric);
  const uint64_t n = part_count(in, "number of replicas");
  for (uint64_t r = 0; r < n; r++) {
    std::shared_ptr<Index> replica = in.index("replica");
    in.in().check(replica->d() == h.d && replica->metric() == h.metric && (r == 0 || replica->ntotal() == index->ntotal()),
                  "IndexReplicas: replica ", r, " does not have the dimension, metric and size of the others");
    index->add_replica(std::move(replica));
  }
  return index;
}

}  // namespace sextant
