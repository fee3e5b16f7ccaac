// Conversion of the Faiss types that are parsed into neutral structs
// (faiss_structs.h) into their sextant equivalents.
#include "sextant/IndexPreTransform.h"
#include "sextant/io/faiss_structs.h"
#include "sextant/io/sextant_format.h"
#include "sextant/utils/Error.h"

namespace sextant {

std::unique_ptr<Index> convert_faiss_hnsw(uint32_t tag, int, MetricType, FaissHNSWGraph, std::unique_ptr<Index>) {
  detail::throw_error(__FILE__, __LINE__, "Faiss HNSW index files ('", fourcc_text(tag),
                      "') are recognised, but this build of sextant has no IndexHNSW to convert them to yet");
}

namespace {

std::shared_ptr<VectorTransform> convert_transform(FaissVectorTransform t) {
  using Kind = FaissVectorTransform::Kind;
  switch (t.kind) {
    case Kind::normalization:
      SEXTANT_CHECK(t.norm == 2, "Faiss NormalizationTransform with norm ", t.norm, ": only L2 (2) is supported");
      return std::make_shared<NormalizationTransform>(t.d_in);
    case Kind::pca: {
      auto pca = std::make_shared<PCAMatrix>(t.d_in, t.d_out, t.eigen_power, t.random_rotation);
      if (t.is_trained) {
        t.eigenvalues.resize(t.d_in, 0.0f);  // Faiss keeps as many as it computed
        pca->restore(std::move(t.A), std::move(t.b), std::move(t.eigenvalues), std::move(t.mean));
      }
      return pca;
    }
    case Kind::random_rotation: {
      auto rr = std::make_shared<RandomRotationMatrix>(t.d_in, t.d_out);
      if (t.is_trained) rr->set_matrix(std::move(t.A), std::move(t.b));
      return rr;
    }
    case Kind::linear:
    case Kind::itq: {  // OPQ and ITQ rotations arrive as their trained matrix
      auto linear = std::make_shared<LinearTransform>(t.d_in, t.d_out);
      if (t.is_trained) linear->set_matrix(std::move(t.A), std::move(t.b));
      return linear;
    }
    case Kind::centering: {  // x - mean = I x + (-mean)
      SEXTANT_CHECK(t.d_in == t.d_out, "Faiss CenteringTransform must keep the dimension");
      auto linear = std::make_shared<LinearTransform>(t.d_in, t.d_out);
      std::vector<float> A(size_t(t.d_in) * t.d_in, 0.0f), b(t.d_in, 0.0f);
      for (int i = 0; i < t.d_in; i++) A[size_t(i) * t.d_in + i] = 1.0f;
      for (int i = 0; i < t.d_in && size_t(i) < t.mean.size(); i++) b[i] = -t.mean[i];
      if (t.is_trained) linear->set_matrix(std::move(A), std::move(b));
      return linear;
    }
    case Kind::remap:
      break;
  }
  detail::throw_error(__FILE__, __LINE__, "Faiss RemapDimensionsTransform is not supported");
}

}  // namespace

std::unique_ptr<Index> convert_faiss_pretransform(int, MetricType, std::vector<FaissVectorTransform> chain,
                                                  std::unique_ptr<Index> index) {
  std::vector<std::shared_ptr<VectorTransform>> transforms;
  for (auto& t : chain) transforms.push_back(convert_transform(std::move(t)));
  return std::make_unique<IndexPreTransform>(std::move(transforms), std::move(index));  // checks the dimensions
}

}  // namespace sextant
