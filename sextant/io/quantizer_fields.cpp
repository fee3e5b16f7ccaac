// The fields of the scalar and product quantizers in sextant files (quantizer_fields.h).
#include "sextant/io/quantizer_fields.h"

namespace sextant {

QuantizerType read_qtype(SextantReader& in) {
  const int32_t t = in.i32("scalar quantizer type");
  in.in().check(t >= 0 && t <= static_cast<int>(QuantizerType::QT_8bit_direct_signed),
                "unknown scalar quantizer type ", t);
  return static_cast<QuantizerType>(t);
}

void restore_sq(ScalarQuantizer& sq, std::vector<float> trained) {
  if (!trained.empty()) sq.set_trained(std::move(trained));  // checks count and finiteness
}

void write_pq_params(const ProductQuantizer& pq, SextantWriter& out) {
  out.u64(pq.M());
  out.u64(pq.nbits());
  out.array(pq.centroids().data(), pq.centroids().size());
  if (pq_object_version(pq) >= 2) out.f32(pq.anisotropic_threshold());
}

uint32_t pq_object_version(const ProductQuantizer& pq) { return pq.anisotropic_threshold() != 0 ? 2 : 1; }

std::pair<size_t, size_t> read_pq_shape(const IndexHeader& h, SextantReader& in) {
  const uint64_t M = in.u64("PQ M"), nbits = in.u64("PQ nbits");
  in.in().check(M >= 1 && M <= static_cast<uint64_t>(h.d) && h.d % M == 0, "PQ M=", M,
                " must divide d=", h.d);
  in.in().check(nbits >= 1 && nbits <= 16, "PQ nbits must be in [1, 16], got ", nbits);
  return {M, nbits};
}

void restore_pq_centroids(ProductQuantizer& pq, const IndexHeader& h, SextantReader& in) {
  auto centroids = in.array<std::vector<float>>("PQ centroids");
  if (!centroids.empty()) pq.set_centroids(std::move(centroids));  // checks the count
  if (h.version >= 2) {
    const float threshold = in.f32("PQ anisotropic threshold");
    in.in().check(threshold != 0, "a version-2 PQ object has an anisotropic threshold of 0");
    pq.set_anisotropic_threshold(threshold);  // checks the range
  }
}

}  // namespace sextant
