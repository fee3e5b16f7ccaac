"""What sextant finds, in a minute or two: a real text corpus embedded by sextant's own
producer, and Fashion-MNIST, each indexed and searched, with a few queries and what they find.

    python3 benchs/tour.py        # benchs/run.py runs it first, then compares with faiss and hnswlib

The corpus is the one-line descriptions of Debian packages (every Debian machine has them),
embedded once with all-MiniLM-L6-v2 and cached (SEXTANT_CACHE, default ~/.cache/sextant).
"""

import argparse
import time

import runners

CORPUS = 2_000                 # descriptions embedded for the text search (the benchmark's draw, first part)
TEXT_QUERIES = ["a game to play with friends", "convert PDF documents", "a typeface for programmers",
                "check the spelling of a text"]
IMAGE_QUERIES = 4              # Fashion-MNIST queries shown
IMAGE_CHECK = 1_000            # queries whose neighbours' classes are counted


def text_search(sx, datasets, corpus):
    t0 = time.perf_counter()
    encode = runners.minilm_encoder()
    xb, _ = datasets.load_minilm_descriptions(n_base=corpus, nq=0, encode=encode)
    texts, _ = datasets.minilm_description_texts(n_base=corpus, nq=0)
    index = sx.index_factory(xb.shape[1], "HNSW32", sx.METRIC_INNER_PRODUCT)
    index.add(xb)
    D, I = index.search(encode(TEXT_QUERIES), 3)
    print(f"Text: {len(texts):,} Debian package descriptions embedded by sextant (all-MiniLM-L6-v2, "
          f"{xb.shape[1]}-d) in an HNSW32 index, searched by cosine similarity "
          f"({time.perf_counter() - t0:.1f} s with the embedding):")
    for query, scores, ids in zip(TEXT_QUERIES, D, I):
        print(f'  "{query}"')
        for score, i in zip(scores, ids):
            print(f"      {score:.2f}  {texts[i]}")


def image_search(sx, datasets):
    t0 = time.perf_counter()
    xb, xq = datasets.load_fashion_mnist()
    yb, yq = datasets.load_fashion_mnist_labels()
    names = datasets.FASHION_MNIST_CLASSES
    index = sx.IndexFlatL2(xb.shape[1])
    index.add(xb)
    _, I = index.search(xq[:IMAGE_CHECK], 10)
    print(f"\nImages: Fashion-MNIST, {len(xb):,} images of 28 x 28 pixels in an exact index (IndexFlatL2); "
          f"the classes of the 5 nearest images of a few queries ({time.perf_counter() - t0:.1f} s):")
    for q in range(IMAGE_QUERIES):
        print(f"  query {q} ({names[yq[q]]}): " + ", ".join(names[yb[i]] for i in I[q, :5]))
    same = float((yb[I] == yq[:IMAGE_CHECK, None]).mean())
    print(f"  over {IMAGE_CHECK:,} queries, {same:.0%} of the 10 nearest images are of the query's class")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=int, default=CORPUS, help=f"descriptions to embed and search (default {CORPUS:,})")
    args = ap.parse_args(argv)
    contrib = runners.import_contrib()
    import sextant as sx

    for name, part in (("text search", lambda: text_search(sx, contrib.datasets, args.corpus)),
                       ("image search", lambda: image_search(sx, contrib.datasets))):
        try:
            part()
        except (FileNotFoundError, ImportError) as e:   # a dataset or the model package is not installed
            print(f"{name} skipped: {e} (scripts/setup.sh installs it)")


if __name__ == "__main__":
    main()
