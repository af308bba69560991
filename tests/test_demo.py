"""demo.py without a window: input parsing, prompting again after bad input, the text
walk-through, and clear messages for a missing or corrupt checkpoint."""
import io
from pathlib import Path

import pytest

import demo
from studio.input_parse import InputError, parse_problem
from studio.walkthrough import format_walkthrough, step_report
from ttm import save
from ttm_fixtures import long_trace, tiny_model

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "ttm-multiply.pt"


@pytest.mark.parametrize("text", ["37x42", "37 * 42", "37 × 42", "37X42", " 37 x 42 ", "37 42",
                                  ["37", "42"], ["37x42"], ["37", "x", "42"], "0037*42"])
def test_accepted_forms(text):
    assert parse_problem(text, 4) == (37, 42)


@pytest.mark.parametrize("text, says", [
    ("abc", "not a number"), ("37xab", "not a number"), ("-3 x 4", "negative"),
    ("3 * -4", "negative"), ("12345 x 2", "at most 4 digits"), ("3.5 x 2", "whole number"),
    ("", "nothing to multiply"), ("42", "one number"), ("37 x", "two operands"),
    ("1 x 2 x 3", "not one product"), ("1 2 3", "not one product"),
])
def test_bad_input_is_refused_with_a_clear_message(text, says):
    with pytest.raises(InputError, match=says):
        parse_problem(text, 4)


def test_prompt_asks_again_until_the_input_is_good():
    answers = iter(["letters", "-5 x 3", "99999 x 1", "12 × 3"])
    out = io.StringIO()
    assert demo.ask_problem(4, read=lambda _: next(answers), out=out) == (12, 3)
    said = out.getvalue()
    assert "not a number" in said and "negative" in said and "at most 4 digits" in said
    assert "Traceback" not in said


def test_prompt_quits_on_q_and_end_of_input():
    assert demo.ask_problem(4, read=lambda _: "q", out=io.StringIO()) is None

    def eof(_):
        raise EOFError
    assert demo.ask_problem(4, read=eof, out=io.StringIO()) is None
    # bad command-line words: a message, then the prompt
    out = io.StringIO()
    assert demo.ask_problem(4, ["7", "x", "y"], read=lambda _: "7 8", out=out) == (7, 8)
    assert "not a number" in out.getvalue()


def test_text_walkthrough_on_a_tiny_model():
    model = tiny_model(seed=3)
    trace = long_trace(model)
    text = format_walkthrough(trace)
    for t in range(trace.steps):
        assert f"step {t}: input " in text
    assert text.count("memory changed most: slot") == trace.steps
    assert text.count("read   (memory") == trace.steps
    assert text.strip().endswith(f"({'correct' if trace.correct else f'wrong, the answer is {trace.expected}'})")
    report = step_report(trace, 0)
    assert report.inputs == "123×45<EOS>"
    assert sum(report.read_split.values()) == pytest.approx(1.0)
    assert sum(report.write_split.values()) == pytest.approx(1.0)
    assert [d for _, d in report.memory_changes] == sorted((d for _, d in report.memory_changes), reverse=True)


def test_demo_text_main_with_a_checkpoint(tmp_path, capsys):
    path = tmp_path / "tiny.pt"
    save(tiny_model(seed=1), path)
    assert demo.main(["37x42", "--text", "--checkpoint", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("37 × 42:") and "37 × 42 = " in out


def test_missing_and_corrupt_checkpoints_give_a_clear_message(tmp_path, capsys):
    assert demo.main(["3x4", "--text", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no model checkpoint at" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert demo.main(["3x4", "--text", "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cannot use" in err and "Traceback" not in err and len(err) < 400


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped model models/ttm-multiply.pt is not there yet")
def test_text_walkthrough_on_the_shipped_model(capsys):
    assert demo.main(["37", "42", "--text"]) == 0
    out = capsys.readouterr().out
    model = demo.load_model(str(SHIPPED))
    answer = model.multiply(37, 42)
    assert f"37 × 42 = {answer}" in out
    assert out.count("memory changed most") == len(model.generate([(37, 42)])[0])
