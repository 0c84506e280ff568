"""A model's token embeddings: nearest tokens by cosine similarity and a 2-D t-SNE map
(`rnnlab explain embeddings`).

Works on any run whose API object has `embedding_table() -> (tokens, (vocab, embed) array)`:
language-model runs (`LanguageModel`) and sentiment runs (`SentimentClassifier`). The special
tokens (<pad>, <unk>, <eos>) and all-zero rows (the padding row) are left out of both.
Word vocabularies are ordered by training frequency, so the map's "most frequent" tokens are
the first ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
from rich.table import Table

from rnnlab.console import console
from rnnlab.data.text import EOS, PAD, UNK
from rnnlab.errors import UserError, check_range, printable
from rnnlab.report import html
from rnnlab.runs import staged_run

SPECIALS = frozenset({PAD, UNK, EOS})


@dataclass
class EmbeddingTable:
    """The usable rows of a model's embedding: tokens (most frequent first for word
    vocabularies) and their vectors (tokens, embed)."""

    tokens: list[str]
    vectors: np.ndarray
    job: str
    source: str  # the run folder

    def index(self, word: str) -> int | None:
        """Row of `word` (as given, else lower-cased: word vocabularies are lower-case)."""
        lookup = {token: i for i, token in enumerate(self.tokens)}
        found = lookup.get(word)
        return found if found is not None else lookup.get(word.lower())


def load_table(run_dir: str | Path) -> EmbeddingTable:
    """The embedding table of the run at `run_dir`; UserError for a run without one."""
    from rnnlab import load_run
    from rnnlab.jobs import get_job
    from rnnlab.store import describe

    job = describe(Path(run_dir))["job"]
    if not hasattr(get_job(job).api_class(), "embedding_table"):
        raise UserError(f"{run_dir} is a {job} run, which has no token embeddings; give a "
                        "language-model (`rnnlab lm`) or sentiment run")
    model = load_run(run_dir)
    if isinstance(model, dict):  # a compare run: {variant: model}
        model = next(iter(model.values()))
    tokens, vectors = model.embedding_table()
    keep = [i for i, token in enumerate(tokens)
            if token not in SPECIALS and np.any(vectors[i] != 0)]
    if len(keep) < 2:
        raise UserError(f"{run_dir} has {len(keep)} token embedding(s) besides the special "
                        "tokens; there is nothing to compare")
    return EmbeddingTable([tokens[i] for i in keep], vectors[keep].astype(np.float64), job,
                          str(run_dir))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its L2 norm (dot products of the result are cosines)."""
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def nearest(table: EmbeddingTable, index: int, top: int) -> list[tuple[str, float]]:
    """The `top` tokens with the highest cosine similarity to row `index` (itself excluded),
    most similar first, as (token, cosine)."""
    unit = unit_rows(table.vectors)
    cosines = unit @ unit[index]
    cosines[index] = -np.inf
    order = np.argsort(-cosines, kind="stable")[:top]
    return [(table.tokens[i], float(cosines[i])) for i in order]


def query_rows(table: EmbeddingTable, words: list[str], default: int = 8
               ) -> tuple[list[int], list[str]]:
    """(rows of the known `words`, the unknown ones); no words: the `default` most frequent.
    UserError when words were given and none is known."""
    if not words:
        return list(range(min(default, len(table.tokens)))), []
    rows, unknown = [], []
    for word in words:
        row = table.index(word)
        (unknown.append(word) if row is None else rows.append(row))
    if not rows:
        examples = ", ".join(table.tokens[:8])
        raise UserError(f"none of --words {','.join(words)} is in the vocabulary of "
                        f"{table.source} ({len(table.tokens)} tokens; the most frequent: "
                        f"{examples})")
    return rows, unknown


def tsne_map(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """(points (n, 2), perplexity): t-SNE of the unit vectors (their Euclidean distances
    order pairs as cosine similarity does); perplexity min(30, (n - 1) / 3), at least 1."""
    from sklearn.manifold import TSNE

    perplexity = float(max(1.0, min(30.0, (len(vectors) - 1) / 3)))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                  learning_rate="auto").fit_transform(unit_rows(vectors))
    return points, perplexity


@dataclass
class EmbeddingReport:
    table: EmbeddingTable
    neighbours: dict[str, list[tuple[str, float]]]
    unknown: list[str]
    map_rows: list[int]  # rows of the table on the map
    points: np.ndarray | None  # (len(map_rows), 2)
    perplexity: float | None

    def to_dict(self) -> dict:
        """embeddings.json."""
        result = {
            "run": self.table.source, "job": self.table.job,
            "tokens": len(self.table.tokens), "dimensions": int(self.table.vectors.shape[1]),
            "neighbours": {word: [{"token": t, "cosine": c} for t, c in pairs]
                           for word, pairs in self.neighbours.items()},
            "unknown_words": self.unknown,
        }
        if self.points is not None:
            result["map"] = {"method": "t-SNE of the unit vectors", "perplexity": self.perplexity,
                             "tokens": [self.table.tokens[i] for i in self.map_rows],
                             "x": self.points[:, 0].tolist(), "y": self.points[:, 1].tolist()}
        return result


def explain_embeddings(run_dir: str | Path, words: list[str], top: int = 10, limit: int = 300,
                       seed: int = 0, with_map: bool = True) -> EmbeddingReport:
    """Nearest tokens of each known word (warning about unknown ones) and, with `with_map`,
    the t-SNE map of the `limit` most frequent tokens plus the words and their neighbours."""
    check_range(top, "--top", 1)
    check_range(limit, "--limit", 3)
    table = load_table(run_dir)
    rows, unknown = query_rows(table, words)
    for word in unknown:
        console.print(f"[yellow]warning:[/yellow] {word!r} is not in the vocabulary of "
                      f"{run_dir}; skipped")
    neighbours = {table.tokens[row]: nearest(table, row, top) for row in rows}
    map_rows, points, perplexity = [], None, None
    if with_map:
        lookup = {token: i for i, token in enumerate(table.tokens)}
        wanted = rows + [lookup[t] for pairs in neighbours.values() for t, _ in pairs]
        map_rows = sorted(set(range(min(limit, len(table.tokens)))) | set(wanted))
        if len(map_rows) >= 3:
            points, perplexity = tsne_map(table.vectors[map_rows], seed)
    return EmbeddingReport(table, neighbours, unknown, map_rows, points, perplexity)


# -- output --------------------------------------------------------------------------------
def show(report: EmbeddingReport) -> None:
    """The neighbours table in the terminal: one row per word."""
    table = Table(title=f"nearest tokens by cosine similarity ({report.table.job} run "
                  f"{report.table.source}, {len(report.table.tokens)} tokens)",
                  title_justify="left")
    table.add_column("token", no_wrap=True)
    table.add_column("nearest (cosine)")
    for word, pairs in report.neighbours.items():
        table.add_row(printable(word), ", ".join(f"{printable(t)} {c:.2f}" for t, c in pairs))
    console.print(table)


def map_plot(report: EmbeddingReport, path: Path, labelled: int = 60) -> Path:
    """The t-SNE points: the query words in red, their neighbours in blue, the `labelled` most
    frequent other tokens named in grey."""
    from rnnlab.report.plots import plt, save_figure

    words = set(report.neighbours)
    near = {t for pairs in report.neighbours.values() for t, _ in pairs} - words
    fig, ax = plt.subplots(figsize=(10, 8))
    ax.scatter(report.points[:, 0], report.points[:, 1], s=6, color="#bbbbbb")
    for rank, (row, (x, y)) in enumerate(zip(report.map_rows, report.points, strict=True)):
        token = report.table.tokens[row]
        if token in words:
            ax.annotate(token, (x, y), color="#d62728", fontsize=10, weight="bold")
        elif token in near:
            ax.annotate(token, (x, y), color="#1f77b4", fontsize=8)
        elif rank < labelled:
            ax.annotate(token, (x, y), color="#777777", fontsize=7)
    ax.set(title=f"t-SNE of {len(report.map_rows)} token embeddings (perplexity "
                 f"{report.perplexity:g}); red: the words asked about, blue: their neighbours",
           xticks=[], yticks=[])
    return save_figure(fig, path)


def neighbours_html(report: EmbeddingReport) -> str:
    rows = "".join(
        f"<tr><td>{escape(word)}</td><td>"
        + ", ".join(f"{escape(t)} <small>{c:.2f}</small>" for t, c in pairs) + "</td></tr>"
        for word, pairs in report.neighbours.items())
    return ("<table><thead><tr><th>token</th><th>nearest tokens (cosine)</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def embeddings_run(run_dir: str | Path, words: list[str], top: int = 10, limit: int = 300,
                   seed: int = 0, out: str | None = None, overwrite: bool = False
                   ) -> EmbeddingReport:
    """Print the neighbours; with `out`, also write embeddings.json, plots/embeddings_map.png
    and report.html there (atomically)."""
    if out is None:
        report = explain_embeddings(run_dir, words, top, limit, seed, with_map=False)
        show(report)
        return report
    with staged_run(out, "explain-embeddings", overwrite) as run:
        report = explain_embeddings(run_dir, words, top, limit, seed)
        figures = []
        if report.points is not None:
            figures.append(("t-SNE map of the token embeddings",
                            map_plot(report, run.file("plots/embeddings_map.png"))))
        run.write_json("embeddings.json", report.to_dict())
        options = {"run": str(run_dir), "words": words, "top": top, "limit": limit,
                   "seed": seed}
        run.write_config(options, None)
        run.write_text("report.html", html.run_page(
            "rnnlab explain embeddings", f"token embeddings of {run_dir}", None, "", figures,
            {"embeddings": options}, sections=[("Nearest tokens", neighbours_html(report))]))
    show(report)
    console.print(f"written: {run.path} (embeddings.json, report.html, plots/)")
    return report
