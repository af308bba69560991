import pytest

from ttm import tokens as tok


def test_number_round_trip():
    assert tok.number_to_tokens(42) == [4, 2]
    assert tok.number_to_tokens(0) == [0]
    for n in (0, 7, 10, 999, 123456):
        assert tok.tokens_to_number(tok.number_to_tokens(n)) == n


def test_problem_and_answer_format():
    assert tok.problem_tokens(37, 42) == [3, 7, tok.TIMES, 4, 2, tok.EOS]
    assert tok.answer_tokens(1554) == [4, 5, 5, 1, tok.EOS]
    assert tok.answer_to_number([4, 5, 5, 1, tok.EOS, 3]) == 1554
    assert tok.answer_to_number([tok.EOS]) is None


def test_string_form_round_trips():
    tokens = tok.problem_tokens(37, 42)
    assert tok.tokens_to_string(tokens) == "37×42<EOS>"
    assert tok.string_to_tokens("37×42<EOS>") == tokens
    assert tok.string_to_tokens(tok.tokens_to_string(list(range(13)))) == list(range(13))


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_numbers_are_rejected(bad):
    with pytest.raises(ValueError):
        tok.number_to_tokens(bad)


def test_unknown_symbol():
    with pytest.raises(ValueError, match="unknown symbol"):
        tok.string_to_tokens("3+4")
