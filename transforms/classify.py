"""The ``aap classify`` JSON-lines contract (see transforms/README.md), on the pipeline's own code path."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import IO, Any

from pipeline import schema, settings
from transforms.labels import map_labels
from transforms.normalize import derive

#: input keys understood by ``classify_line``
INPUT_FIELDS = ("id", "title", "summary", "description", "eligibility", "deadline_text", "as_of", "source_tags")
#: output keys, in order (the contract of issue 4, then the documented extras)
OUTPUT_FIELDS = (
    "id", "deadline_kind", "deadlines", "next_deadline", "status", "ccas_eligibility", "ccas_evidence",
    "ccas_rule", "audiences", "themes", "categories", "is_call_for_projects", "amount_min", "amount_max",
    "opens_on", "deadline_time", "deadline_flags", "theme_evidence",
)
TAG_SOURCE = "at"
#: input lines per task sent to a worker process
CHUNK_SIZE = 200


def _error(obj_id: Any, message: str) -> dict:
    return {"id": obj_id, "error": message}


def classify_line(obj: Any, *, default_as_of: date | None = None) -> dict:
    """Classify one input object; returns the output object, or ``{"id", "error"}`` for bad input."""
    if not isinstance(obj, dict):
        return _error(None, f"line is a JSON {type(obj).__name__}, not an object")
    obj_id = obj.get("id")
    if obj_id is not None and not isinstance(obj_id, (str, int)):
        return _error(None, "id must be a string or a number")
    unknown = sorted(set(obj) - set(INPUT_FIELDS))
    if unknown:
        return _error(obj_id, f"unknown fields: {', '.join(unknown)}")
    for key in ("title", "summary", "description", "eligibility", "deadline_text", "as_of"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return _error(obj_id, f"{key} must be a string")
    tags = obj.get("source_tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        return _error(obj_id, "source_tags must be a list of strings")
    if obj.get("as_of"):
        try:
            as_of = date.fromisoformat(obj["as_of"])
        except ValueError:
            return _error(obj_id, f"as_of {obj['as_of']!r} is not YYYY-MM-DD")
    elif default_as_of is not None:
        as_of = default_as_of
    else:
        return _error(obj_id, "as_of is missing (give it per line or with --as-of)")
    tags = tags or []
    # every tag is read for applicants (a portal's audience wording may be unknown to the mapping files);
    # tags that are Aides-territoires audience labels are not theme tags
    audience_tags = {t for t in tags if map_labels(TAG_SOURCE, "audiences", [t])[0]}
    item = {
        "title": obj.get("title"),
        "summary": obj.get("summary"),
        "description": obj.get("description"),
        "eligibility_text": obj.get("eligibility"),
        "deadline_text": obj.get("deadline_text"),
        "audience_labels": tags,
        "theme_labels": [t for t in tags if t not in audience_tags],
    }
    try:
        derived = derive(item, TAG_SOURCE, as_of)
    except schema.ValidationError as exc:
        return _error(obj_id, str(exc))
    out = {"id": obj_id, **{k: derived[k] for k in OUTPUT_FIELDS[1:]}}
    return out


def _classify_text_line(lineno: int, line: str, default_as_of: date | None) -> tuple[str, bool]:
    """One input line → (output JSON line, whether it is an error object)."""
    try:
        obj = json.loads(line)
    except ValueError as exc:
        result = _error(None, f"line {lineno}: invalid JSON: {exc}")
    else:
        try:
            result = classify_line(obj, default_as_of=default_as_of)
        except Exception as exc:  # noqa: BLE001 — a classifier bug costs this line, never the run
            obj_id = obj.get("id") if isinstance(obj, dict) else None
            result = _error(obj_id if isinstance(obj_id, (str, int)) else None,
                            f"line {lineno}: classification failed: {type(exc).__name__}: {exc}")
    return json.dumps(result, ensure_ascii=False) + "\n", "error" in result


def _classify_chunk(chunk: list[tuple[int, str]], default_as_of: date | None) -> tuple[str, int]:
    """A worker's share: numbered lines → (their output lines joined, errors)."""
    out = []
    errors = 0
    for lineno, line in chunk:
        text, failed = _classify_text_line(lineno, line, default_as_of)
        out.append(text)
        errors += failed
    return "".join(out), errors


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[tuple[int, str]]]:
    """Non-blank lines, numbered from 1 as in the input, ``size`` at a time."""
    chunk: list[tuple[int, str]] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        chunk.append((lineno, line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def default_workers() -> int:
    """Worker processes for ``aap classify``: one per core this process may run on."""
    return settings.available_cores()


def classify_stream(lines: Iterable[str], out: IO[str], *, default_as_of: date | None = None,
                    workers: int = 1, chunk_size: int = CHUNK_SIZE) -> tuple[int, int]:
    """Read JSON lines from ``lines`` and write results to ``out`` in input order; returns (lines read,
    errors). With ``workers`` > 1, chunks of lines are classified by that many worker processes (forked,
    so the warmed tables are shared); at most two chunks per worker are in flight, so memory stays bounded
    whatever the input size, and the output order is the input order."""
    n = errors = 0
    chunks = _chunks(lines, chunk_size)
    if workers <= 1:
        for chunk in chunks:
            text, failed = _classify_chunk(chunk, default_as_of)
            out.write(text)
            n += len(chunk)
            errors += failed
        return n, errors
    pending: deque = deque()
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for chunk in chunks:
            pending.append((len(chunk), pool.submit(_classify_chunk, chunk, default_as_of)))
            while len(pending) >= 2 * workers:
                n, errors = _drain_one(pending, out, n, errors)
        while pending:
            n, errors = _drain_one(pending, out, n, errors)
    return n, errors


def _drain_one(pending: deque, out: IO[str], n: int, errors: int) -> tuple[int, int]:
    size, future = pending.popleft()
    text, failed = future.result()
    out.write(text)
    return n + size, errors + failed


def benchmark_records(inputs: list[dict], n: int) -> list[dict]:
    """``n`` distinct inputs built from corpus inputs: each keeps one case's fields, adds a reference number
    (no two texts alike, so no cache helps) and a description made of several other cases' texts
    (about 1–2 KB, like a portal's page)."""
    out = []
    m = len(inputs)
    for i in range(n):
        base = dict(inputs[i % m])
        extra = []
        for k in (1, 7, 31, 101):
            other = inputs[(i + k) % m]
            extra.extend(str(other.get(f) or "") for f in ("title", "summary", "description", "eligibility"))
        base["title"] = f"{base.get('title') or 'Appel'} (réf. {i})"
        base["description"] = "\n".join(t for t in (base.get("description"), *extra) if t) + f"\nRéf. {i}."
        out.append(base)
    return out


def reference_loop_us() -> float:
    """CPU microseconds of a fixed pure-Python loop (``sum(range(1000))``, best of 5 × 2,000), printed with
    the benchmark so that figures from machines of different speed or load can be compared."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(2000):
            sum(range(1000))
        best = min(best, (time.process_time() - start) / 2000 * 1e6)
    return best


def benchmark(objs: list[dict], *, default_as_of: date) -> dict[str, float]:
    """Classify ``objs`` once; returns records, wall seconds, CPU seconds and records per CPU second."""
    for obj in objs[:50]:  # warm the lazily loaded tables (mapping files, keyword indexes)
        classify_line(obj, default_as_of=default_as_of)
    start, cpu = time.perf_counter(), time.process_time()
    for obj in objs:
        classify_line(obj, default_as_of=default_as_of)
    elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return {"records": len(objs), "seconds": elapsed, "cpu_seconds": cpu_s,
            "chars_per_record": sum(len(str(o.get("description") or "")) for o in objs) / max(len(objs), 1),
            "records_per_s": len(objs) / cpu_s if cpu_s else 0.0, "reference_us": reference_loop_us()}


class _Sink:
    """A text sink that keeps nothing (the benchmark's output)."""

    def write(self, text: str) -> int:
        return len(text)


def benchmark_stream(objs: list[dict], *, default_as_of: date, workers: int) -> dict[str, float]:
    """Time the whole ``aap classify`` path on ``objs`` as JSON lines (parsing, classifying, writing in
    order) with ``workers`` processes, pool start-up included; returns records, wall seconds, records/s."""
    lines = [json.dumps(o, ensure_ascii=False) + "\n" for o in objs]
    start = time.perf_counter()
    n, errors = classify_stream(lines, _Sink(), default_as_of=default_as_of, workers=workers)
    elapsed = time.perf_counter() - start
    return {"records": n, "errors": errors, "seconds": elapsed, "workers": workers,
            "records_per_s": n / elapsed if elapsed else 0.0}
