"""Turn the harness's best-of-rounds summary into tables (markdown), ratios and a PNG plot."""

import re

import specs

RECALL_TARGETS = (0.9, 0.95)
MD_BEGIN, MD_END = "<!-- harness:begin -->", "<!-- harness:end -->"
# OpenBLAS kernels older than AVX2: a peer running one of these is not compared against.
PRE_AVX2_BLAS = {"prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "atom",
                 "opteron", "opteron_sse3", "barcelona", "bobcat", "bulldozer", "piledriver",
                 "steamroller", "katmai", "coppermine", "northwood", "banias", "nano"}


def lib_blas(facts):
    """The BLAS a library uses, as 'name version (kernel)', from threadpoolctl; numpy's own
    OpenBLAS (loaded in every runner) is left out."""
    found = [t for t in facts.get("threadpools", []) if t.get("user_api") == "blas"
             and "numpy" not in t.get("filepath", "") and "scipy_openblas" not in t.get("filepath", "")]
    return ", ".join(f"{t.get('internal_api')} {t.get('version')} ({t.get('architecture')}, "
                     f"{t.get('threading_layer')})" for t in found) or "none loaded"


def avx2_verdict(facts):
    """(ok, why): ok is False when the library's SIMD path or BLAS kernel predates AVX2,
    None when it could not be established."""
    kernels = {str(t.get("architecture", "")).lower() for t in facts.get("threadpools", [])
               if t.get("user_api") == "blas" and "numpy" not in t.get("filepath", "")}
    if kernels & PRE_AVX2_BLAS:
        return False, f"BLAS kernel {sorted(kernels & PRE_AVX2_BLAS)} predates AVX2"
    if facts.get("avx2") is False:
        return False, f"SIMD level {facts.get('simd')} is below AVX2"
    if facts.get("avx2") is None:
        return None, "SIMD level not established"
    return True, ""


def _interp(points, target, key):
    import contrib.evaluation as ev  # run.py puts the source tree's contrib on the path
    return ev.interpolate_qps_at_recall([(p["recall@10"], p[key]) for p in points
                                         if "recall@10" in p], target)


def ratios(best):
    """HEADLINE_LIB / peer QPS for each dataset and index, refusing peers without AVX2."""
    rows = []
    for (dataset, index), libs in _groups(best).items():
        head = libs.get(specs.HEADLINE_LIB)
        if not head or not head.get("points"):
            continue
        for lib, peer in libs.items():
            if lib == specs.HEADLINE_LIB or not peer.get("points"):
                continue
            ok, why = avx2_verdict(peer["facts"])
            row = {"dataset": dataset, "index": index, "peer": lib, "refused": None if ok is not False else why,
                   "unverified": why if ok is None else None}
            if specs.INDEXES[index]["exact"]:
                for key in ("batch_qps", "single_qps"):
                    row[key] = head["points"][0][key] / peer["points"][0][key]
            else:
                for t in RECALL_TARGETS:
                    for key in ("batch_qps", "single_qps"):
                        a, b = _interp(head["points"], t, key), _interp(peer["points"], t, key)
                        row[f"{key}@{t}"] = a / b if a and b else None
            rows.append(row)
    return rows


def best_of_each(best):
    """Per dataset and library, the fastest of its approximate index families at each recall target and
    mode (the family, its build time and QPS), and HEADLINE_LIB's best / each peer's best: how
    ann-benchmarks compares libraries, each at its own best configuration."""
    rows = []
    by_dataset = {}
    for e in best:
        if e.get("points") and not specs.INDEXES[e["index"]]["exact"]:
            by_dataset.setdefault(e["dataset"], {}).setdefault(e["lib"], []).append(e)
    for dataset, libs in by_dataset.items():
        tops = {}
        for lib, entries in libs.items():
            for t in RECALL_TARGETS:
                for key in ("batch_qps", "single_qps"):
                    found = [(q, e) for e in entries if (q := _interp(e["points"], t, key))]
                    if found:
                        q, e = max(found, key=lambda f: f[0])
                        tops[(lib, t, key)] = {"qps": q, "index": e["index"], "build_s": e.get("build_s")}
        for lib in libs:
            ok, why = avx2_verdict(libs[lib][0]["facts"])
            row = {"dataset": dataset, "lib": lib, "refused": None if ok is not False else why}
            for t in RECALL_TARGETS:
                for key in ("batch_qps", "single_qps"):
                    mine, head = tops.get((lib, t, key)), tops.get((specs.HEADLINE_LIB, t, key))
                    row[f"{key}@{t}"] = mine
                    row[f"ratio {key}@{t}"] = head["qps"] / mine["qps"] if mine and head else None
            rows.append(row)
    return rows


def _groups(best):
    groups = {}
    for entry in best:
        groups.setdefault((entry["dataset"], entry["index"]), {})[entry["lib"]] = entry
    return groups


def _f(x, fmt="{:.3g}"):
    return "-" if x is None else fmt.format(x)


def _mb(x, digits=0):
    return "-" if x is None else f"{x / 2**20:,.{digits}f}"


def _params(p):
    return ",".join(f"{k}={v}" for k, v in p.items()) or "-"


def markdown(summary):
    """The whole report section: run facts, results, ratios, build facts."""
    s, m = summary["settings"], summary["machine"]
    out = [f"Run {summary['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gb']:.0f} GB), "
           f"k={s['k']}, {s['threads']} threads, best of {s['rounds']} rounds (order {' '.join(s['libs'])}"
           f" repeated). Command:", "", f"    {summary['command']}", ""]
    out += [f"- {note}" for note in summary["notes"]] + [""]
    out += ["| dataset | index | library | params | R@1 | R@10 | R@100 | batch QPS | single QPS "
            "| GFLOP/s (of SGEMM) | build s | size MB | index RSS MB | peak RSS MB |", "|" + "---|" * 14]
    for e in summary["best"]:
        label = specs.INDEXES[e["index"]]["libs"][e["lib"]].get("label", e["lib"])
        if not e.get("points"):
            reason = e.get("unsupported") or e.get("error", "failed")
            out.append(f"| {e['dataset']} | {e['index']} | {label} | {reason[:60]} |" + " |" * 10)
            continue
        for p in e["points"]:
            gf = f"{p['gflops']:.1f} ({p['sgemm_fraction']:.0%}{' !' if p['sgemm_fraction'] > 1 else ''})" \
                if p.get("sgemm_fraction") else _f(p.get("gflops"), "{:.1f}")
            single = f"{p['single_qps']:,.1f}" + (f" (n={p['single_nq']})" if p["single_nq"] < min(
                p["nq"], summary["settings"]["single_nq"]) else "")
            out.append(f"| {e['dataset']} | {e['index']} | {label} | {_params(p['params'])} | "
                       f"{_f(p.get('recall@1'), '{:.4f}')} | {_f(p.get('recall@10'), '{:.4f}')} | "
                       f"{_f(p.get('recall@100'), '{:.4f}')} | {p['batch_qps']:,.0f} | {single} | "
                       f"{gf} | {_f(e.get('build_s'), '{:.2f}')} | {_mb(e.get('size_bytes'))} | "
                       f"{_mb(e.get('index_rss'), 1)} | {_mb(e.get('peak_rss'))} |")
    by_columns = {}   # exact indexes compare QPS directly, sweeps compare QPS at fixed recall
    for r in summary["ratios"]:
        by_columns.setdefault(tuple(k for k in r if "qps" in k), []).append(r)
    for keys, rows in by_columns.items():
        out += ["", f"Ratios {specs.HEADLINE_LIB} / peer (same run; > 1 means {specs.HEADLINE_LIB} is faster"
                + ("" if "batch_qps" in keys else "; QPS interpolated at recall@10 = target") + "):", "",
                "| dataset | index | peer | " + " | ".join(k.replace("_qps", " QPS") for k in keys) + " |",
                "|" + "---|" * (3 + len(keys))]
        for r in rows:
            cells = [f"not reported: {r['refused']}"] * len(keys) if r["refused"] else \
                [_f(r.get(k), "{:.2f}") + (" (AVX2 unverified)" if r["unverified"] else "") for k in keys]
            out.append(f"| {r['dataset']} | {r['index']} | {r['peer']} | " + " | ".join(cells) + " |")
    keys = [f"{key}@{t}" for t in RECALL_TARGETS for key in ("batch_qps", "single_qps")]
    if summary.get("best_of_each"):
        out += ["", f"Each library at its best (the fastest of its index families at each recall@10 target; "
                f"{specs.HEADLINE_LIB}'s best / the library's best in brackets; build seconds of that family):", "",
                "| dataset | library | " + " | ".join(k.replace("_qps", " QPS") for k in keys) + " |",
                "|" + "---|" * (2 + len(keys))]
        for r in summary["best_of_each"]:
            cells = []
            for k in keys:
                top, ratio = r.get(k), r.get("ratio " + k)
                cells.append("-" if not top else f"{top['qps']:,.0f} {top['index']} ({_f(top['build_s'], '{:.0f}')} s)"
                             + ("" if ratio is None or r["lib"] == specs.HEADLINE_LIB else
                                f" [{'not reported: ' + r['refused'] if r['refused'] else f'{ratio:.2f}'}]"))
            out.append(f"| {r['dataset']} | {r['lib']} | " + " | ".join(cells) + " |")
    out += ["", "Build facts:", "", "| library | version | SIMD | BLAS (kernel, threading) | details |",
            "|---|---|---|---|---|"]
    for lib, f in summary["facts"].items():
        detail = f.get("compile_options") or (f.get("build_info") or {}).get("blas") or \
            (f.get("simd_evidence") or {}).get("how", "")
        out.append(f"| {lib} | {f.get('version')} | {f.get('simd')} | {lib_blas(f)} | {str(detail).strip()} |")
    if any((p.get("sgemm_fraction") or 0) > 1 for e in summary["best"] for p in e.get("points", [])):
        out += ["", "! above 100% of SGEMM: the reference was slowed by other load on the machine; rerun."]
    for name, g in summary["sgemm"].items():
        out.append("")
        out.append(f"SGEMM reference for {name}: " + (
            f"{g['gflops']:.1f} GFLOP/s, C({g['m']}x{g['n']}) = A({g['m']}x{g['k']}) B^T, {g['threads']} threads, "
            f"{g['blas']}{g.get('note', '')}" if g.get("gflops") else f"unavailable ({g.get('error')})"))
    return "\n".join(out) + "\n"


def update_results_md(path, section, command):
    """Replace only the text between the harness markers (creating the file if needed)."""
    header = ("# Benchmark results\n\nThe table below is written by `benchs/run.py` (method: BENCHMARKS.md). "
              "Each library runs in its own process, alternating A B A B, with the same threads, k and "
              "queries; ratios are measured side by side in the same run, recall against exact top-100 "
              "ground truth. Raw JSON and the plot are in benchs/results/ (not in git). Only the part "
              "between the markers is rewritten; the run's own command line is recorded there.\n\n"
              "First produced by:\n\n    " + command + "\n\n")
    text = path.read_text() if path.exists() else header + f"{MD_BEGIN}\n{MD_END}\n"
    if MD_BEGIN not in text or MD_END not in text:
        text = text.rstrip("\n") + f"\n\n{MD_BEGIN}\n{MD_END}\n"
    pattern = re.compile(re.escape(MD_BEGIN) + ".*?" + re.escape(MD_END), re.S)
    path.write_text(pattern.sub(lambda _: f"{MD_BEGIN}\n{section}{MD_END}", text, count=1))


def plot(summary, path):
    """Exact indexes: bars of batch and single-query QPS per library; sweeps: recall/QPS curves."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = [(key, libs) for key, libs in _groups(summary["best"]).items()
              if any(e.get("points") for e in libs.values())]
    if not groups:
        return
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4), squeeze=False)
    for ax, ((dataset, index), libs) in zip(axes[0], groups):
        libs = {lib: e for lib, e in libs.items() if e.get("points")}
        if specs.INDEXES[index]["exact"]:
            names = list(libs)
            for j, key in enumerate(("batch_qps", "single_qps")):
                ax.bar([i + 0.4 * j for i in range(len(names))], [libs[n]["points"][0][key] for n in names],
                       width=0.4, label=key.replace("_qps", " (%s thr)" % (
                           summary["settings"]["threads"] if j == 0 else 1)))
            ax.set_xticks([i + 0.2 for i in range(len(names))], names)
            ax.set_ylim(bottom=min(libs[n]["points"][0][k] for n in names for k in ("batch_qps", "single_qps")) / 3)
            ax.set_ylabel("queries per second")
        else:
            for n, (lib, e) in enumerate(libs.items()):  # a colour per library, a line style per mode
                for key, style in (("batch_qps", "-o"), ("single_qps", "--x")):
                    ax.plot([p["recall@10"] for p in e["points"]], [p[key] for p in e["points"]], style,
                            color=f"C{n}", label=f"{lib} {key.split('_')[0]}")
            ax.set_xlabel("recall@10")
            ax.set_ylabel("queries per second")
        ax.set_yscale("log")
        ax.set_title(f"{dataset} / {index}")
        ax.legend(fontsize=8)
    fig.suptitle(f"{summary['date']} {summary['machine']['cpu']}, k={summary['settings']['k']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
