"""Benchmark the DuckDB writer: its capacity in documents/s beside one worker's parse rate.

    python -m pipeline.bench_store [--files 300] [--rounds 3]     (or: make bench-store)
    python -m pipeline.bench_store --synthetic [--items 100000] [--per-document 100]
    python -m pipeline.bench_store --real N

By default it builds the `make bench` document mix (pipeline/bench.py: the
seeds and their PDF and DOCX renderings, each copy unique), parses it once
the way a worker does (`_parse_one`, CPU time: one worker's parse rate),
pickles each result as a worker sends it, and then times the writer alone
(CPU time of this process, DuckDB on one thread, as in an ingest): results
unpickled and handed to ingest's `_Writer`, batches written and committed.
The ratio capacity / parse rate is how many workers one writer keeps up
with (target ≥ 8). The staging copy's publishes (time-based, see
pipeline/staging.py) are not included.

With --synthetic, it writes made-up documents (rows/s):

Builds documents in memory (no parsing, no jieba: the search words are made
up) and writes them with Store.write_documents in the batches ingest uses.
Prints item rows/s, and all rows/s (items, unit mentions, search words and
the rest) for the whole write, commit included.

With --real N, it writes the parsed notices of data/raw/ instead, N times over (each copy with
its own content hash), splitting their search words in the writer as an ingest does (jieba on
the tasks and on the text outside them), once with their passages and once without, to show
what indexing the whole text costs the writer.

Then it measures DuckDB's own share: the same rows, already inside DuckDB
(copied from the first file into in-memory tables), inserted into a new
file in the same batches and transactions, with the same keys and the same
search-word split. No Python value crosses into DuckDB there, so that
figure is the ceiling for any way of sending rows from Python.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from pipeline.ingest import BATCH_DOCUMENTS
from pipeline.store import DOCUMENT_TABLES, Store, document_id, fill_item_tokens
from schemas import Document, Item, Span, UnitMention

UNITS = [("中国科协", "中国科学技术协会"), ("教育部", "教育部"), ("科技部", "科学技术部"),
         ("市科协", "北京市科学技术协会"), ("市教委", "北京市教育委员会"), ("各成员单位", None)]
WORDS = "科普 应急 老年人 青少年 科学 素质 活动 开展 推进 建设 平台 宣传 教育 培训 机制 服务 基地 创新".split()


def synthetic_documents(items: int, per_document: int, seed: int = 7) -> list[tuple[Document, dict[str, str]]]:
    rng = random.Random(seed)
    out = []
    for d in range(0, items, per_document):
        doc_items, words = [], {}
        for n in range(1, min(per_document, items - d) + 1):
            key = f"附件/{n}"
            chosen = rng.sample(UNITS, 2)
            text = "".join(rng.choices(WORDS, k=20)) + f"。（{chosen[0][0]}、{chosen[1][0]}）"
            mentions = [
                UnitMention(
                    position=k + 1, raw_text=raw, role="lead" if k == 0 else "participant",
                    is_collective=canonical is None, canonical_name=canonical,
                    resolution="collective" if canonical is None else "alias",
                )
                for k, (raw, canonical) in enumerate(chosen)
            ]
            doc_items.append(
                Item(key=key, part="附件", number=n, label=f"{n}.", text=text, raw_text=f"{n}.{text}",
                     units_text="、".join(c[0] for c in chosen), jurisdiction="北京市", responsible_units=mentions,
                     span=Span(start=n * 100, end=n * 100 + 90, first_line=n, last_line=n))
            )
            words[key] = " ".join(rng.choices(WORDS, k=24))
        doc = Document(source_path=f"synthetic/{d // per_document:06d}.txt", format="txt",
                       content_hash=f"{d:064x}", title=f"合成文件{d}", items=doc_items)
        out.append((doc, words))
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300, metavar="N", help="files of the bench mix (default 300)")
    parser.add_argument("--rounds", type=int, default=3, metavar="N", help="times the writer is measured (default 3)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic documents, item rows/s")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--per-document", type=int, default=100)
    parser.add_argument("--real", type=int, metavar="N", help="write data/raw's notices N times over instead")
    args = parser.parse_args(argv)
    if args.real:
        return _real(args.real)
    if not args.synthetic:
        return _mix(args.files, args.rounds)
    documents = synthetic_documents(args.items, args.per_document)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.duckdb"
        with Store.open(db, threads=1) as store:
            run_id = store.start_run(["synthetic"])
            started = time.perf_counter()
            for k in range(0, len(documents), BATCH_DOCUMENTS):
                store.write_documents(documents[k : k + BATCH_DOCUMENTS], run_id)
            seconds = time.perf_counter() - started
            counts = {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("documents", "items", "unit_mentions", "item_tokens")}
        batches = [
            [document_id(doc.content_hash) for doc, _ in documents[k : k + BATCH_DOCUMENTS]]
            for k in range(0, len(documents), BATCH_DOCUMENTS)
        ]
        engine_seconds = _engine_only(db, Path(folder) / "engine.duckdb", batches)
    total = sum(counts.values())
    print(f"{len(documents)} documents, {counts['items']} items, {counts['unit_mentions']} unit mentions, "
          f"{counts['item_tokens']} item_tokens rows written in {seconds:.2f} s (batches of {BATCH_DOCUMENTS})")
    print(f"items: {counts['items'] / seconds:,.0f} rows/s   all rows: {total / seconds:,.0f} rows/s   "
          f"(target ≥ 100,000 item rows/s)")
    print(f"DuckDB's own share (the same rows and transactions, no Python values): {engine_seconds:.2f} s, "
          f"{counts['items'] / engine_seconds:,.0f} item rows/s: the ceiling for this schema on this machine")
    return 0


def _mix(files: int, rounds: int) -> int:
    """Writer capacity and one worker's parse rate on the `make bench` mix, in CPU seconds."""
    import os
    import pickle

    from pipeline import ingest
    from pipeline.bench import build_corpus
    from extractors.tokens import search_words

    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        formats = build_corpus(corpus, files)
        paths = sorted(corpus.iterdir())
        with Store.open(Path(folder) / "dictionary.duckdb", threads=1) as store:
            dictionary, _ = store.use_dictionary([])
        ingest._configure(dictionary, False, False)
        search_words("预热")  # jieba loaded before the clock, as in a long run (once per process)
        started = time.process_time()
        sent = [pickle.dumps(ingest._parse_one(p, ingest.source_key(p)), pickle.HIGHEST_PROTOCOL) for p in paths]
        parse_seconds = time.process_time() - started
        parse_rate = len(paths) / parse_seconds
        print(f"bench mix: {files} files ({', '.join(f'{n} {k}' for k, n in sorted(formats.items()))}), "
              f"{sum(map(len, sent)) / len(sent) / 1024:.0f} KiB pickled per document; load {os.getloadavg()[0]:.1f}")
        print(f"one worker parses {parse_rate:,.1f} documents/s ({parse_seconds:.1f} s CPU)")
        capacities = []
        for round_ in range(rounds):
            db = Path(folder) / f"writer{round_}.duckdb"
            with Store.open(db, threads=1, memory_limit_mb=ingest.WRITER_MEMORY_MB) as store:
                store.use_dictionary([])
                run_id = store.start_run([str(corpus)])
                outcomes: list = []
                writer = ingest._Writer(store, run_id, outcomes.append)
                started = time.process_time()
                for message in sent:
                    writer.add(pickle.loads(message))
                writer.flush()
                seconds = time.process_time() - started
                stored = store.con.execute("SELECT count(*) FROM documents").fetchone()[0]
                if round_ == 0:  # once: the links an ingest resolves after its workers are done
                    started = time.process_time()
                    store.resolve_links()
                    link_seconds = time.process_time() - started
            if stored != len(paths) or any(o.status != "new" for o in outcomes):
                raise SystemExit(f"the writer stored {stored} of {len(paths)} documents: its figure would mean nothing")
            capacities.append(len(paths) / seconds)
            print(f"  writer round {round_ + 1}: {seconds:.2f} s CPU, {capacities[-1]:,.1f} documents/s")
        capacity = sorted(capacities)[len(capacities) // 2]
        print(f"writer capacity {capacity:,.1f} documents/s (median of {rounds}) = "
              f"{capacity / parse_rate:.1f}x one worker's parse rate   (target ≥ 8x)")
        print(f"then, once the files are stored: citations and task links resolved in {link_seconds:.2f} s CPU "
              f"({link_seconds / len(paths) * 1000:.1f} ms a document; serial, not in the capacity above)")
    return 0


def _real(copies: int) -> int:
    """The writer on real notices (data/raw, parsed once), with and without their passages."""
    from extractors.tokens import item_words, search_words
    from pipeline.ingest import parse_file

    parsed = [parse_file(p) for p in sorted((Path(__file__).resolve().parents[1] / "data" / "raw").iterdir())
              if p.is_file() and p.suffix in {".txt", ".pdf", ".docx", ".html"}]
    search_words("预热")  # jieba's dictionary loaded before the clock starts, as in a long ingest
    for label, keep in (("with passages", True), ("tasks only (passages dropped)", False), ("with passages", True)):
        documents = [
            doc.model_copy(update={"content_hash": f"{n:08x}{doc.content_hash[8:]}", "source_path": f"copy{n}/{doc.source_path}",
                                   "passages": doc.passages if keep else []})
            for n in range(copies) for doc in parsed
        ]
        with tempfile.TemporaryDirectory() as folder, Store.open(Path(folder) / "real.duckdb", threads=1) as store:
            run_id = store.start_run(["real"])
            started = time.process_time()
            for k in range(0, len(documents), BATCH_DOCUMENTS):
                batch = documents[k : k + BATCH_DOCUMENTS]
                store.write_documents([(doc, item_words(doc)) for doc in batch], run_id)  # words split as _Writer does
            seconds = time.process_time() - started
            items, passages = (store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("items", "passages"))
        print(f"{label:>30}: {len(documents)} documents, {items} items, {passages} passages in {seconds:.2f} s CPU: "
              f"{len(documents) / seconds:,.1f} documents/s")
    return 0


def _engine_only(source: Path, target: Path, batches: list[list[str]]) -> float:
    """Seconds to insert `source`'s rows into a new database batch by batch, from inside DuckDB."""
    with Store.open(target, threads=1) as store:
        con = store.con
        con.execute(f"ATTACH '{source}' AS source (READ_ONLY)")
        con.execute("CREATE TEMP TABLE batch_of (document_id VARCHAR, batch INTEGER)")
        for number, ids in enumerate(batches):
            con.execute("INSERT INTO batch_of SELECT unnest(?::VARCHAR[]), ?", [ids, number])
        for table in DOCUMENT_TABLES:
            # Sorted by batch, so reading one batch's rows skips the others (zone maps).
            con.execute(
                f"CREATE TEMP TABLE copy_{table} AS SELECT t.*, b.batch FROM source.{table} t "
                "JOIN batch_of b USING (document_id) ORDER BY b.batch"
            )
        con.execute("DETACH source")
        started = time.perf_counter()
        for number, ids in enumerate(batches):
            con.execute("BEGIN")
            for table in DOCUMENT_TABLES:
                con.execute(f"INSERT INTO {table} SELECT * EXCLUDE (batch) FROM copy_{table} WHERE batch = ?", [number])
            fill_item_tokens(con, ids)
            con.execute("COMMIT")
        seconds = time.perf_counter() - started
        copied = con.execute("SELECT count(*) FROM items").fetchone()[0]
        expected = con.execute("SELECT count(*) FROM copy_items").fetchone()[0]
        if copied != expected:
            raise SystemExit(f"the DuckDB-only copy wrote {copied} of {expected} items: its figure would mean nothing")
        return seconds


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
