"""The harvest transforms a source's raw items while its crawl is still writing them: whatever the
moments the file is read, the result is the one of reading the finished file at once."""

from __future__ import annotations

import json
import random
from datetime import date

from pipeline.run import JsonlTail, SourceTransform, read_jsonl_lines, transform_file
from tests.test_rerun_skip import SRC, item

AS_OF = date(2026, 11, 2)
DESCRIPTION = "Public : personnes âgées isolées ; aidants — « répit » à domicile."


def raw_bytes() -> bytes:
    items = [item(n, description=DESCRIPTION) for n in range(12)]
    items[5] = item(3)  # the same call twice: the second is a duplicate
    lines = [json.dumps(i, ensure_ascii=False) for i in items]
    lines[7] = '{"source": "grand_est", "title": '  # a truncated line
    lines.insert(9, "")  # a blank line keeps its number
    return ("\n".join(lines) + "\n" + json.dumps(item(99), ensure_ascii=False)).encode("utf-8")  # no last newline


def summary(done):
    return ([(r["id"], r["content_hash"], r["calendar_hash"]) for r in done.records],
            [(r["native_id"], r["reason"]) for r in done.rejected], done.raw_hashes, done.unchanged)


def test_reading_while_the_file_grows_gives_the_same_records(tmp_path):
    data = raw_bytes()
    whole = tmp_path / "whole.jsonl"
    whole.write_bytes(data)
    expected = transform_file(SRC, whole, AS_OF)
    assert len(expected.records) == 11 and len(expected.rejected) == 2
    rng = random.Random(7)
    for trial in range(25):
        path = tmp_path / f"growing-{trial}.jsonl"
        cuts = sorted(rng.sample(range(1, len(data)), 6))  # some fall inside a line or an accented letter
        work, tail = SourceTransform(SRC, AS_OF, raw_file=path), JsonlTail(path)
        work.feed(tail.read())  # the crawl has not created its file yet
        start = 0
        with path.open("wb") as fh:
            for cut in [*cuts, len(data)]:
                fh.write(data[start:cut])
                fh.flush()
                start = cut
                work.feed(tail.read())
        work.feed(tail.read(final=True))
        assert summary(work.finish()) == summary(expected)


def test_the_size_of_the_transform_batches_does_not_change_the_result(tmp_path, monkeypatch):
    """Records, rejections (and their order), line numbers and hashes are the same whether the items go
    to the transforms one at a time, three at a time or all at once."""
    from pipeline import run

    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    results = []
    for size in (1, 3, 1000):
        monkeypatch.setattr(run, "TRANSFORM_BATCH", size)
        results.append(summary(transform_file(SRC, path, AS_OF)))
    assert results[0] == results[1] == results[2]
    assert [native_id for native_id, _ in results[0][1]] == ["aap-3", None]  # the duplicate, then the cut line


def test_tail_numbers_lines_like_the_file_reader(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    tail = JsonlTail(path)
    got = tail.read() + tail.read(final=True)
    assert [(n, line.rstrip("\n")) for n, line in got] == [(n, line.rstrip("\n"))
                                                           for n, line in read_jsonl_lines(path)]


def test_unchanged_items_are_skipped_when_fed_in_batches(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    first = transform_file(SRC, path, AS_OF)
    known = {h: i for i, h in first.raw_hashes.items()}
    rows = list(read_jsonl_lines(path))
    work = SourceTransform(SRC, AS_OF, known, raw_file=path)
    for k in range(0, len(rows), 4):
        work.feed(rows[k:k + 4])
    again = work.finish()
    assert again.records == [] and set(again.unchanged) == {r["id"] for r in first.records}
    assert summary(again) == summary(transform_file(SRC, path, AS_OF, known))


def test_unchanged_lines_are_recognised_from_their_text_without_parsing(tmp_path, monkeypatch):
    from pipeline import run

    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    first = transform_file(SRC, path, AS_OF)
    known = {h: i for i, h in first.raw_hashes.items()}
    # a later crawl: every stamp differs, one item has changed, one has no source record ("raw")
    items = [item(n, fetched="2026-11-09T06:00:00+00:00", description=DESCRIPTION) for n in range(12)
             if n not in (5, 7)]
    items[0]["title"] += " (modifié)"
    items[1].pop("raw")
    later = tmp_path / "later.jsonl"
    later.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    parsed = []
    real = run.parse_line
    monkeypatch.setattr(run, "parse_line", lambda n, line: parsed.append(n) or real(n, line))
    again = transform_file(SRC, later, AS_OF, known)
    assert parsed == [1, 2], "only the changed item and the one without a source record are parsed"
    assert sorted(r["native_id"] for r in again.records) == ["aap-0", "aap-1"]
    assert len(again.unchanged) == len(items) - 2


def test_the_text_hash_is_the_item_hash_for_items_with_a_source_record():
    from pipeline.run import raw_item_hash, stamp_free_hash, transform_key

    key = transform_key(SRC, AS_OF)
    for obj in (item(1), item(2, fetched="2026-11-25T23:25:42+00:00", title="« Été » \\ \"x\"")):
        line = json.dumps(obj, ensure_ascii=False) + "\n"
        assert stamp_free_hash(key, SRC, line) == raw_item_hash(key, line, obj)
    bare = item(3)
    bare.pop("raw")
    line = json.dumps(bare, ensure_ascii=False) + "\n"
    assert stamp_free_hash(key, SRC, line) != raw_item_hash(key, line, bare)
    assert stamp_free_hash(key, "another", line) is None


def test_a_harvest_keeps_each_records_raw_item_as_its_stored_text(tmp_path):
    """With ``raw_as`` (a harvest's ``stored_json``), each record's raw item is replaced once, as soon as
    the record is made, whatever the pieces the lines come in; nothing else changes."""
    from warehouse.load import StoredJSON, stored_json

    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    plain = transform_file(SRC, path, AS_OF)
    rows = list(read_jsonl_lines(path))
    work = SourceTransform(SRC, AS_OF, raw_file=path, raw_as=stored_json)
    for k in range(0, len(rows), 4):
        work.feed(rows[k:k + 4])
    early = work.finish()
    assert summary(early) == summary(plain)
    assert [type(r["raw"]) for r in early.records] == [StoredJSON] * len(plain.records)
    assert [r["raw"] for r in early.records] == [stored_json(r["raw"]) for r in plain.records]
    assert [{**r, "raw": None} for r in early.records] == [{**r, "raw": None} for r in plain.records]
