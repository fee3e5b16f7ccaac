#pragma once

// Reading index files written by Faiss (faiss.write_index), converted to the
// equivalent sextant index. Faiss's format is a sequence of fields with no
// checksum and no alignment: a four-character code per object, then the
// fields of its class (the layout was learnt from Faiss's public source; this
// reader is written from scratch). Every count is checked against the bytes
// that remain before anything is allocated, as in the sextant format.
//
// Read and converted: IndexFlat (IxF2, IxFI, IxFl), IndexIVFFlat (IwFl),
// IndexIVFPQ (IwPQ, legacy IvPQ), IndexIVFScalarQuantizer (IwSq, IwSQ),
// IndexScalarQuantizer (IxSQ), IndexPQ (IxPq, legacy IxPQ/IxPo), IndexRaBitQ
// (Ixrq; Ixrr with more bits), IndexIVFRaBitQ (Iwrq, Iwrr), IndexRaBitQFastScan
// (Irfn), IndexIVFRaBitQFastScan (Iwrn), IndexIDMap
// (IxMp), IndexIDMap2 (IxM2), IndexRefine / IndexRefineFlat (IxRF),
// IndexHNSWFlat (IHNf) and IndexPreTransform (IxPT with PCA, OPQ/linear,
// random rotation, normalization, centering transforms). HNSW graphs and
// transforms are parsed into neutral structs (faiss_structs.h) and converted
// in faiss_convert.cpp.
//
// Written (faiss_write.cpp): the same types, so that faiss.read_index loads
// what sextant writes: IndexFlat (as IxF2 / IxFI), IndexScalarQuantizer,
// IndexPQ, IndexRaBitQ (1 bit: Ixrq, more: Ixrr), IndexIVFFlat,
// IndexIVFScalarQuantizer, IndexIVFPQ, IndexIVFRaBitQ (Iwrq, Iwrr), IndexIDMap,
// IndexIDMap2, IndexRefine(Flat), IndexHNSWFlat / SQ / PQ and
// IndexPreTransform (PCA, OPQ and other linear maps, random rotation, L2
// normalisation). HNSW graphs are renumbered by id, as Faiss numbers them.
// The fast-scan indexes are refused (their Faiss block layout differs).

#include <cstddef>
#include <cstdint>
#include <memory>

#include "sextant/Index.h"
#include "sextant/io/bytes.h"

namespace sextant {

/// True when the bytes start like a Faiss index file: a four-character type
/// code of letters and digits beginning with 'I'. Types the reader does not
/// know are then named in its error.
bool is_faiss_file(const uint8_t* data, size_t size);

/// Parses a whole Faiss index file (the reader must span the entire file)
/// and converts it. Flat vectors and flat codes are borrowed from a mapped
/// file when the reader can borrow and they happen to be aligned; everything
/// else is copied (Faiss files are not laid out for mapping).
std::unique_ptr<Index> read_faiss_file(ByteReader& whole);

/// Writes `index` as a Faiss index file; an index type (or a part of one)
/// without a Faiss format raises Error naming it.
void write_faiss_file(const Index& index, ByteSink& out);

}  // namespace sextant
