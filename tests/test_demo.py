"""demo.py without a window: input parsing, prompting again after bad input, the text
walk-through, and clear messages for a missing or corrupt checkpoint."""
import io
from pathlib import Path

import pytest
import torch

import demo
from studio.input_parse import InputError, parse_problem
from studio.snapshot_history import compact
from studio.walkthrough import (PLAIN, UNSURE_TONE, WRONG_TONE, Miss, choice_line, first_miss,
                                format_walkthrough, guess_note, outcome, segments, source_label,
                                step_lines, step_report, step_summary, verdict)
from ttm import Trace, save
from ttm import tokens as tok
from ttm_fixtures import answering, long_trace, tiny_model

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
    ("x37 42", "goes between the two numbers"), ("37 42 ×", "goes between the two numbers"),
    ("× 37", "needs two operands"), ("1 2 x 3", "not one product"),
])
def test_bad_input_is_refused_with_a_clear_message(text, says):
    with pytest.raises(InputError, match=says):
        parse_problem(text, 4)


def test_digit_strings_are_measured_before_int_and_long_lines_echo_short():
    """Python's int() refuses strings of more than 4300 digits: leading zeros are dropped and the
    length checked first, and a pasted page is echoed cut to one short line."""
    assert parse_problem("0" * 5000 + "7x3", 4) == (7, 3)
    for text, says in (("9" * 5000 + "x3", "has 5,000 digits"), ("a" * 10000, "not a number"),
                       ("-" + "1" * 9000 + " x 3", "negative"), ("12 " * 3000, "not one product")):
        with pytest.raises(InputError, match=says) as refused:
            parse_problem(text, 4)
        assert len(str(refused.value)) < 200 and "\n" not in str(refused.value)


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
    # bad command-line words at a terminal: a message, then the prompt
    out = io.StringIO()
    assert demo.ask_problem(4, ["7", "x", "y"], read=lambda _: "7 8", out=out) == (7, 8)
    assert "not a number" in out.getvalue()


def test_bad_command_line_words_without_a_terminal_end_with_status_2(tmp_path, capsys):
    """A script's `demo.py 12345 5678 --text` must fail, not read its next line as a problem or
    end with 0 as if it had worked (pytest's stdin is not a terminal)."""
    def never(_):
        raise AssertionError("prompted without a terminal")
    with pytest.raises(demo.BadProblem):
        demo.ask_problem(4, ["12345", "5678"], read=never, can_ask=False)
    assert "at most 4 digits" in capsys.readouterr().err
    path = tmp_path / "tiny.pt"
    save(tiny_model(seed=1), path)
    assert demo.main(["12a", "5678", "--text", "--checkpoint", str(path)]) == 2
    captured = capsys.readouterr()
    assert "'12a' is not a number" in captured.err and captured.out == ""


def test_text_walkthrough_on_a_tiny_model():
    model = tiny_model(seed=3)
    trace = long_trace(model)
    text = format_walkthrough(trace)
    for t in range(trace.steps):
        assert f"step {t}: input " in text
    assert text.count("memory changed most: slot") == trace.steps
    assert text.count("read   (memory") == trace.steps
    report = step_report(trace, 0)
    assert report.inputs == "123×45<EOS>"
    assert sum(report.read_split.values()) == pytest.approx(1.0)
    assert sum(report.write_split.values()) == pytest.approx(1.0)
    assert [d for _, d in report.memory_changes] == sorted((d for _, d in report.memory_changes), reverse=True)


def test_long_trace_leaves_the_callers_model_alone():
    model = tiny_model(seed=3)
    before = {name: p.clone() for name, p in model.state_dict().items()}
    trace = long_trace(model)
    assert all(torch.equal(p, before[name]) for name, p in model.state_dict().items())
    assert trace.model is not model and trace.steps == model.config.max_steps


def test_walkthrough_words_for_a_known_answer():
    trace = long_trace(tiny_model(seed=3))                  # 123 × 45 = 5535
    right = answering(trace, [5, 3, 5, 5, tok.EOS])         # least significant digit first
    lines = format_walkthrough(right).splitlines()
    assert lines[0] == "123 × 45: 5 steps, one answer digit per step, least significant first"
    steps = [line for line in lines if line.startswith("step ")]
    assert [line.split(" (p ")[0] for line in steps] == [
        "step 0: input 123×45<EOS>  -> produced 5", "step 1: input 5            -> produced 3",
        "step 2: input 3            -> produced 5", "step 3: input 5            -> produced 5",
        "step 4: input 5            -> produced <EOS>"]
    assert [line.split("answer so far: ")[-1] for line in steps[:4]] == ["5", "35", "535", "5535"]
    assert lines[-1] == "123 × 45 = 5535 (correct)"
    wrong = answering(trace, [5, 3, 5, 6, tok.EOS])
    assert format_walkthrough(wrong).splitlines()[-2:] == [
        "123 × 45 = 6535 (wrong, the answer is 5535)",
        "first wrong at step 3 (the 4th digit from the right): 6 for 5"]
    assert outcome(wrong) == "6535 (wrong)" and outcome(right) == "5535 (correct)"
    assert verdict(answering(trace, [tok.EOS])) == "123 × 45 = no digits (wrong, the answer is 5535)"


def with_step_probabilities(trace: Trace, t: int, probabilities: dict[int, float]) -> Trace:
    """`trace` whose step t scores the tokens with exactly `probabilities` (the rest shared
    evenly): a step whose rivals are known."""
    rest = (1 - sum(probabilities.values())) / (tok.VOCAB_SIZE - len(probabilities))
    p = torch.full((tok.VOCAB_SIZE,), rest)
    for token, value in probabilities.items():
        p[token] = value
    tensors = dict(trace.tensors, logits=trace["logits"].clone())
    tensors["logits"][t] = p.log()
    return Trace(trace.model, trace.a, trace.b, tensors)


def test_a_missed_step_names_the_products_digit_and_a_narrow_one_its_rivals():
    trace = long_trace(tiny_model(seed=3))                  # 123 × 45 = 5535: 5, 3, 5, 5, EOS
    wrong = with_step_probabilities(answering(trace, [5, 3, 5, 6, tok.EOS]), 3,
                                    {6: 0.40, 8: 0.30, 5: 0.20})
    report = step_report(wrong, 3)
    assert report.wrong and report.expected == ("5", pytest.approx(0.20), 3)
    assert [t for t, _ in report.choices] == ["6", "8", "5"]
    assert choice_line(report) == "wrong  the product has 5 here: the model gave it p 0.20, its 3rd choice"
    assert step_lines(report)[1] == (choice_line(report), WRONG_TONE)
    assert step_summary(report, 5).endswith("produced 6 (p 0.40); the product has 5 here (p 0.20, 3rd choice)")

    assert guess_note(step_report(wrong, 3)) is None        # p 0.40: no guess
    guessed = with_step_probabilities(answering(trace, [5, 3, 5, 6, tok.EOS]), 3, {6: 0.12, 5: 0.11})
    assert choice_line(step_report(guessed, 3)).endswith("its 2nd choice; no token above p 0.12: a guess")
    assert guess_note(step_report(guessed, 3)) == "step 3's 6 is a guess (p 0.12; 5 at 0.11): any slot can flip it"

    narrow = with_step_probabilities(answering(trace, [5, 3, 5, 5, tok.EOS]), 3,
                                     {5: 0.35, 2: 0.30, 9: 0.25})
    report = step_report(narrow, 3)
    assert not report.wrong and report.expected[2] == 1
    assert step_lines(report)[1] == ("unsure  next choices 2 (p 0.30), 9 (p 0.25)", UNSURE_TONE)
    assert "product" not in step_summary(report, 5)

    sure = with_step_probabilities(answering(trace, [5, 3, 5, 5, tok.EOS]), 3, {5: 0.9})
    assert choice_line(step_report(sure, 3)) is None
    assert [tone for _, tone in step_lines(step_report(sure, 3))] == [PLAIN] * len(step_lines(step_report(sure, 3)))

    early = with_step_probabilities(answering(trace, [5, 3, 5, tok.EOS]), 3, {tok.EOS: 0.7, 5: 0.2})
    assert choice_line(step_report(early, 3)) == (
        "wrong  the product has 5 here: the model gave it p 0.20, its 2nd choice")
    late = with_step_probabilities(answering(trace, [5, 3, 5, 5, 1]), 4, {1: 0.6, tok.EOS: 0.3})
    assert choice_line(step_report(late, 4)) == (
        "wrong  the product ends here: the model gave <EOS> p 0.30, its 2nd choice")


def test_a_wrong_answer_says_where_it_first_left_the_product_and_what_carry_came_in():
    trace = long_trace(tiny_model(seed=3, carry_loss=0.5))  # 123 × 45 = 5535; carries out 1, 2, 1, 0
    assert first_miss(answering(trace, [5, 3, 5, 5, tok.EOS])) is None
    wrong = answering(trace, [5, 3, 5, 6, tok.EOS])
    probe = wrong.model.carry_head
    with torch.no_grad():              # a probe that reads 4.5 everywhere: step 2's carry of 1 lost
        probe.weight.zero_()
        probe.bias.fill_(0.45)
    assert first_miss(wrong).step == 3
    assert first_miss(wrong).line == ("first wrong at step 3 (the 4th digit from the right): 6 for 5; the "
                                 "carry memory brought in reads 4.5 against 1, so it was lost before this column")
    with torch.no_grad():
        probe.bias.fill_(0.15)         # 1.5 against 1: within a carry
    assert first_miss(wrong).line.endswith("reads 1.5 against 1, right within a carry, so this column's own sum went wrong")
    assert format_walkthrough(wrong).splitlines()[-1] == first_miss(wrong).line
    at_once = answering(trace, [4, 3, 5, 5, tok.EOS])       # wrong at step 0: no carry came in
    assert first_miss(at_once).line == "first wrong at step 0 (the 1st digit from the right): 4 for 5"
    early = answering(long_trace(tiny_model(seed=3)), [5, 3, 5, 5, 1])   # no probe; a digit past the end
    assert first_miss(early) == Miss(4, "first wrong at step 4 (where the product ends): 1 for <EOS>")


def test_segments_come_from_the_write_rule():
    """Which columns of the weights are memory, processed and input tokens (m 8, r 4, n 8)."""
    expected = {"summarize": {"memory": 8, "processed": 4, "input": 8},
                "erase_add": {"processed": 4}, "fifo": {"memory": 8, "processed": 4}}
    for rule, parts in expected.items():
        trace = tiny_model(seed=0, write_rule=rule).trace(12, 34)
        assert segments(trace, "write.weights") == parts
        assert segments(trace, "read.weights") == {"memory": 8, "input": 8}
        assert segments(compact(trace), "write.weights") == parts   # a compacted history entry too
    unknown = Trace(None, 12, 34, trace.tensors)                    # no config: nothing guessed
    assert segments(unknown, "write.weights") == {"source": 12}
    memoryless = tiny_model(seed=0, use_memory=False).trace(12, 34)
    assert segments(memoryless, "read.weights") == {"memory": 0, "input": 8}
    assert source_label(memoryless, "read.weights", 2, step=0) == "input 2 '×'"


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


def test_with_probes_each_step_says_what_the_memory_after_it_holds():
    from studio.walkthrough import held_line
    from ttm.probes import digit_probes
    trace = long_trace(tiny_model(seed=3))
    found = digit_probes(trace.model, (3, 2), problems=200, fit=150)
    text = format_walkthrough(trace, probes=found)
    held = [line.strip() for line in text.splitlines() if line.strip().startswith("holds  ")]
    assert held == [held_line(found, t + 1) for t in range(min(trace.steps, found.states - 1))]
    assert held and "in one slot (90%+ of held-out problems)" in held[0]
    assert held_line(found, found.states) is None


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped model models/ttm-multiply.pt is not there yet")
def test_the_shipped_model_writes_each_product_digit_to_memory_at_the_step_that_produces_it(capsys):
    """README's reading of the probes: after step 0 memory holds the operands and the units, not
    yet the tens; after step 1 the tens too."""
    assert demo.main(["37", "42", "--text", "--probes"]) == 0
    held = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("holds  ")]
    told_0, none_0 = held[0].split("; in none: ")
    assert all(d in told_0 for d in ("a's units", "a's tens", "b's units", "b's tens", "the product's units"))
    assert "the product's tens" in none_0 and "the product's tens" in held[1].split("; in none: ")[0]
