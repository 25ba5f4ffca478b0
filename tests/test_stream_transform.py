"""The harvest transforms a source's raw items while its crawl is still writing them: whatever the
moments the file is read, the result is the one of reading the finished file at once."""

from __future__ import annotations

import json
import random
from datetime import date

from pipeline.run import JsonlTail, SourceTransform, read_jsonl_lines, transform_file
from tests.test_rerun_skip import SRC, item

AS_OF = date(2026, 11, 2)


def raw_bytes() -> bytes:
    items = [item(n, description="Public : personnes âgées isolées ; aidants — « répit » à domicile.")
             for n in range(12)]
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
        work, tail = SourceTransform(SRC, AS_OF), JsonlTail(path)
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


def test_tail_numbers_lines_like_the_file_reader(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    tail = JsonlTail(path)
    got = tail.read() + tail.read(final=True)
    assert [(n, err) for n, _, err, _ in got] == [(n, err) for n, _, err, _ in read_jsonl_lines(path)]


def test_unchanged_items_are_skipped_when_fed_in_batches(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_bytes(raw_bytes())
    first = transform_file(SRC, path, AS_OF)
    known = {h: i for i, h in first.raw_hashes.items()}
    rows = list(read_jsonl_lines(path))
    work = SourceTransform(SRC, AS_OF, known)
    for k in range(0, len(rows), 4):
        work.feed(rows[k:k + 4])
    again = work.finish()
    assert again.records == [] and set(again.unchanged) == {r["id"] for r in first.records}
    assert summary(again) == summary(transform_file(SRC, path, AS_OF, known))
