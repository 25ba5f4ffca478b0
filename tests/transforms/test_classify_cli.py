import io
import json
from datetime import date

from pipeline.cli import main
from transforms.classify import OUTPUT_FIELDS, classify_line, classify_stream


def test_contract_fields():
    out = classify_line({"id": "a", "title": "Appel à projets inclusion numérique", "eligibility": "Les CCAS",
                         "deadline_text": "Date limite : 15 janvier 2026", "as_of": "2025-12-01",
                         "source_tags": ["Communes", "Inclusion numérique"]})
    assert tuple(out) == OUTPUT_FIELDS
    assert out["ccas_eligibility"] == "explicit"
    assert out["audiences"] == ["commune", "ccas"]
    assert out["themes"][0] == "solidarites-lien-social"
    assert out["status"] == "closing_soon" or out["status"] == "open"
    assert out["deadlines"] == ["2026-01-15"]


def test_bad_lines_give_error_objects():
    assert "error" in classify_line([1, 2])
    assert classify_line({"id": "b", "as_of": "2025-13-01"})["error"].startswith("as_of")
    assert "unknown fields" in classify_line({"id": "c", "colour": "red", "as_of": "2025-01-01"})["error"]
    assert classify_line({"id": "d"})["error"].startswith("as_of is missing")
    assert "source_tags" in classify_line({"id": "e", "as_of": "2025-01-01", "source_tags": "x"})["error"]


def test_stream_never_stops_on_bad_lines():
    src = io.StringIO('{"id": 1, "title": "x", "as_of": "2025-01-01"}\nnot json\n\n[]\n')
    dst = io.StringIO()
    assert classify_stream(src, dst, default_as_of=date(2025, 1, 1)) == (3, 2)
    lines = [json.loads(x) for x in dst.getvalue().splitlines()]
    assert [("error" in x) for x in lines] == [False, True, True]


def test_cli_files(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "z", "deadline_text": "en continu", "as_of": "2025-01-01"}\n', encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    assert main(["classify", "--input", str(src), "--output", str(dst)]) == 0
    out = json.loads(dst.read_text(encoding="utf-8"))
    assert (out["id"], out["deadline_kind"], out["status"]) == ("z", "rolling", "rolling")


def test_workers_keep_input_order_and_count_errors():
    lines = []
    for i in range(23):
        if i % 7 == 3:
            lines.append("{broken\n")
        else:
            lines.append(json.dumps({"id": i, "deadline_text": f"Date limite : {i % 27 + 1} mars 2026",
                                     "as_of": "2026-01-10"}) + "\n")
        if i % 5 == 0:
            lines.append("\n")
    one, many = io.StringIO(), io.StringIO()
    assert classify_stream(lines, one, workers=1, chunk_size=4) == (23, 3)
    assert classify_stream(lines, many, workers=2, chunk_size=4) == (23, 3)
    assert many.getvalue() == one.getvalue()
    out = [json.loads(x) for x in many.getvalue().splitlines()]
    assert [o["id"] for o in out if "error" not in o] == [i for i in range(23) if i % 7 != 3]
    assert out[1]["deadlines"] == ["2026-03-02"]


def test_cli_rejects_zero_workers(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("{}\n", encoding="utf-8")
    assert main(["classify", "--input", str(src), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_a_classifier_bug_costs_one_line(monkeypatch):
    import transforms.classify as classify

    real = classify.classify_line

    def flaky(obj, **kw):
        if obj.get("id") == "boom":
            raise RuntimeError("unexpected")
        return real(obj, **kw)

    monkeypatch.setattr(classify, "classify_line", flaky)
    src = ['{"id": "a", "as_of": "2026-01-01"}\n', '{"id": "boom", "as_of": "2026-01-01"}\n',
           '{"id": "c", "as_of": "2026-01-01"}\n']
    dst = io.StringIO()
    assert classify_stream(src, dst) == (3, 1)
    out = [json.loads(x) for x in dst.getvalue().splitlines()]
    assert [o["id"] for o in out] == ["a", "boom", "c"]
    assert out[1]["error"] == "line 2: classification failed: RuntimeError: unexpected"
