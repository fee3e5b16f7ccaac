"""LangChain's FAISS vector store and LlamaIndex's FaissVectorStore / FaissMapVectorStore run
once on faiss-cpu and once with sextant installed as `faiss` (sys.modules, as
sextant.install_as_faiss() does), through the same calls: the documents must be the same,
in the same order, with the same scores. Index files saved by one load in the other.
Skipped where the packages are missing (tests/setup.sh installs them)."""
import contextlib
import hashlib
import re
import sys

import numpy as np
import pytest

import sextant
import sextant.faiss as sextant_faiss

real_faiss = pytest.importorskip("faiss")
pytestmark = pytest.mark.filterwarnings("ignore:`langchain-community` is being sunset:DeprecationWarning")

DIM = 64
TOPICS = {
    "fruit": ["ripe mango", "green apple", "sweet banana", "sour lemon", "fresh pear", "red cherry"],
    "animal": ["sleepy cat", "loyal dog", "wild fox", "grey wolf", "small mouse", "brown bear"],
    "city": ["busy Paris", "rainy London", "old Rome", "sunny Lisbon", "cold Oslo", "bright Tokyo"],
    "tech": ["fast database", "vector index", "graph search", "small compiler", "web server", "file system"],
}
DOCS = [(f"a {thing} in the {topic} story number {i}", {"topic": topic, "year": 2015 + (i * 7 + j) % 10})
        for j, (topic, things) in enumerate(TOPICS.items()) for i, thing in enumerate(things)]
MORE = [("a juicy mango from the market", {"topic": "fruit", "year": 2024}),
        ("a fox hunting in the snow", {"topic": "animal", "year": 2023}),
        ("a graph index for vector search", {"topic": "tech", "year": 2025})]
QUERIES = ["fresh fruit like mango or pear", "a wild animal in the forest", "search a vector index",
           "a trip to a city"]


def embed(text):
    """A deterministic embedding without a model: each word adds weights (from its hash) to a
    few of DIM coordinates; unit length. Texts sharing words are near each other."""
    v = np.zeros(DIM, dtype=np.float64)
    for word in re.findall(r"[a-z]+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=16).digest()
        for slot in range(3):
            v[digest[2 * slot] % DIM] += 0.5 + digest[2 * slot + 1] / 255
    return (v / np.linalg.norm(v)).astype(np.float32)


@contextlib.contextmanager
def installed_as_faiss(module):
    """`import faiss` gives `module` inside the block (both stores import faiss when called)."""
    saved = sys.modules.get("faiss")
    sys.modules["faiss"] = module
    try:
        yield module
    finally:
        sys.modules["faiss"] = saved


BACKENDS = {"faiss-cpu": real_faiss, "sextant": sextant_faiss}


def assert_same_rows(a, b, step=""):
    """Rows of (document..., score): the same documents in the same order, the same scores."""
    assert [x[:-1] for x in a] == [x[:-1] for x in b], step
    np.testing.assert_allclose([x[-1] for x in a], [x[-1] for x in b], rtol=1e-4, atol=1e-5, err_msg=step)


def assert_same_transcripts(a, b):
    assert a.keys() == b.keys()
    for step in a:
        assert_same_rows(a[step], b[step], step)


# ------------------------------------------------------------------------------------------ LangChain


def langchain_store_class():
    pytest.importorskip("langchain_community.vectorstores")
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings

    class HashEmbeddings(Embeddings):
        def embed_documents(self, texts):
            return [embed(t).tolist() for t in texts]

        def embed_query(self, text):
            return embed(text).tolist()

    return FAISS, HashEmbeddings()


def documents(results):
    """(text, metadata, score) rows; a score of 0 where the call returns none."""
    rows = []
    for r in results:
        doc, score = r if isinstance(r, tuple) else (r, 0.0)
        rows.append((doc.page_content, tuple(sorted(doc.metadata.items())), float(score)))
    return rows


def langchain_transcript(module, folder, strategy):
    from langchain_community.vectorstores.utils import DistanceStrategy

    FAISS, embeddings = langchain_store_class()
    with installed_as_faiss(module):
        store = FAISS.from_texts([t for t, _ in DOCS], embeddings, metadatas=[m for _, m in DOCS],
                                 ids=[f"doc{i}" for i in range(len(DOCS))],
                                 distance_strategy=getattr(DistanceStrategy, strategy))
        out = {}

        def queries(step):
            for q in QUERIES:
                out[f"{step}: {q}"] = documents(store.similarity_search_with_score(q, k=5))

        queries("search")
        out["plain"] = documents(store.similarity_search(QUERIES[0], k=3))
        out["filter dict"] = documents(store.similarity_search(QUERIES[1], k=4, filter={"topic": "animal"}))
        out["filter operators"] = documents(
            store.similarity_search(QUERIES[3], k=4, filter={"year": {"$gte": 2020}}, fetch_k=30))
        out["filter callable"] = documents(
            store.similarity_search(QUERIES[2], k=3, filter=lambda m: m["topic"] != "tech"))
        out["mmr"] = documents(store.max_marginal_relevance_search(QUERIES[0], k=4, fetch_k=12))
        out["mmr filtered"] = documents(
            store.max_marginal_relevance_search(QUERIES[3], k=3, fetch_k=12, filter={"topic": "city"}))
        store.add_texts([t for t, _ in MORE], metadatas=[m for _, m in MORE], ids=["more0", "more1", "more2"])
        queries("after add")
        store.delete(["doc2", "doc9", "more1"])
        queries("after delete")
        store.save_local(str(folder))
        loaded = FAISS.load_local(str(folder), embeddings, allow_dangerous_deserialization=True)
        store = loaded
        queries("loaded")
    return out


@pytest.mark.parametrize("strategy", ["EUCLIDEAN_DISTANCE", "MAX_INNER_PRODUCT"])
def test_langchain_faiss_store_gives_faiss_documents(strategy, tmp_path):
    transcripts = {name: langchain_transcript(module, tmp_path / name, strategy) for name, module in BACKENDS.items()}
    assert_same_transcripts(transcripts["faiss-cpu"], transcripts["sextant"])
    assert transcripts["sextant"]["after delete: " + QUERIES[1]][0][0] != MORE[1][0]  # the deleted one is gone
    # The saved folders cross over: each library loads what the other saved.
    FAISS, embeddings = langchain_store_class()
    for saved_by, loaded_by in (("sextant", "faiss-cpu"), ("faiss-cpu", "sextant")):
        with installed_as_faiss(BACKENDS[loaded_by]):
            store = FAISS.load_local(str(tmp_path / saved_by), embeddings, allow_dangerous_deserialization=True)
            for q in QUERIES:
                assert_same_rows(documents(store.similarity_search_with_score(q, k=5)),
                                 transcripts[saved_by][f"loaded: {q}"], f"{saved_by} -> {loaded_by}: {q}")


@pytest.mark.skipif(not hasattr(sextant.IndexFlat, "merge_from"), reason="IndexFlat.merge_from not built")
def test_langchain_merge_from_gives_faiss_documents():
    FAISS, embeddings = langchain_store_class()
    out = {}
    for name, module in BACKENDS.items():
        with installed_as_faiss(module):
            store = FAISS.from_texts([t for t, _ in DOCS[:12]], embeddings, metadatas=[m for _, m in DOCS[:12]])
            other = FAISS.from_texts([t for t, _ in DOCS[12:]], embeddings, metadatas=[m for _, m in DOCS[12:]])
            store.merge_from(other)
            assert store.index.ntotal == len(DOCS) and other.index.ntotal == 0
            out[name] = {q: documents(store.similarity_search_with_score(q, k=6)) for q in QUERIES}
    assert_same_transcripts(out["faiss-cpu"], out["sextant"])


# ------------------------------------------------------------------------------------------ LlamaIndex


def llama_nodes(rows, start=0):
    from llama_index.core.schema import TextNode

    return [TextNode(text=t, id_=f"node{start + i}", metadata=m, embedding=embed(t).tolist())
            for i, (t, m) in enumerate(rows)]


def llama_query(store, text, k=5):
    from llama_index.core.vector_stores.types import VectorStoreQuery

    result = store.query(VectorStoreQuery(query_embedding=embed(text).tolist(), similarity_top_k=k))
    return [(node_id, float(s)) for node_id, s in zip(result.ids, result.similarities)]


def llama_transcript(module, folder):
    pytest.importorskip("llama_index.vector_stores.faiss")
    from llama_index.vector_stores.faiss import FaissMapVectorStore, FaissVectorStore

    out = {}
    with installed_as_faiss(module):
        # FaissVectorStore: ids are positions; delete is not implemented by the store.
        store = FaissVectorStore(faiss_index=module.IndexFlatL2(DIM))
        out["added"] = [(i, 0.0) for i in store.add(llama_nodes(DOCS))]
        for q in QUERIES:
            out[f"flat: {q}"] = llama_query(store, q)
        with pytest.raises(NotImplementedError):
            store.delete("node3")
        path = str(folder / "flat" / "default__vector_store.json")
        store.persist(persist_path=path)
        loaded = FaissVectorStore.from_persist_path(path)
        for q in QUERIES:
            out[f"flat loaded: {q}"] = llama_query(loaded, q)

        # FaissMapVectorStore: an IndexIDMap2, with deletes.
        store = FaissMapVectorStore(faiss_index=module.IndexIDMap2(module.IndexFlatL2(DIM)))
        store.add(llama_nodes(DOCS))
        for q in QUERIES:
            out[f"map: {q}"] = llama_query(store, q)
        store.delete("node3")
        store.delete_nodes(["node7", "node12", "node20"])
        for q in QUERIES:
            out[f"map after delete: {q}"] = llama_query(store, q)
        path = str(folder / "map" / "default__vector_store.json")
        store.persist(persist_path=path)
        loaded = FaissMapVectorStore.from_persist_path(path)
        for q in QUERIES:
            out[f"map loaded: {q}"] = llama_query(loaded, q)
    return out


def test_llamaindex_faiss_stores_give_faiss_nodes(tmp_path):
    transcripts = {name: llama_transcript(module, tmp_path / name) for name, module in BACKENDS.items()}
    assert_same_transcripts(transcripts["faiss-cpu"], transcripts["sextant"])
    assert all(node != "node3" for node, _ in transcripts["sextant"]["map after delete: " + QUERIES[2]])


def test_llamaindex_map_store_reusing_an_id_is_refused():
    """FaissMapVectorStore gives a new node the id ntotal; after a delete that id can still be
    in use. Faiss's IndexIDMap2 then holds two vectors under one id (a search returns the id
    twice); sextant's refuses the duplicate with ValueError, a documented difference."""
    pytest.importorskip("llama_index.vector_stores.faiss")
    from llama_index.vector_stores.faiss import FaissMapVectorStore

    for name, module in BACKENDS.items():
        with installed_as_faiss(module):
            store = FaissMapVectorStore(faiss_index=module.IndexIDMap2(module.IndexFlatL2(DIM)))
            store.add(llama_nodes(DOCS[:5]))
            store.delete("node1")
            extra = llama_nodes(DOCS[5:6], start=5)
            if name == "sextant":
                with pytest.raises(ValueError, match="IndexIDMap2 needs unique ids: id 4 is already present"):
                    store.add(extra)
            else:
                store.add(extra)
                assert list(store.client.search(np.array([extra[0].embedding], dtype=np.float32), 5)[1][0]).count(4) == 2
