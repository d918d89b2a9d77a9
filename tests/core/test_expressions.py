"""The control-relation language: what it accepts, what it refuses, how it evaluates."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.core.expressions import (
    Arithmetic,
    CompiledRelations,
    Constant,
    ExpressionError,
    LineRef,
    Negation,
    Relation,
    SumOfOptions,
    parse_relation,
)

KEYS = (
    "registered",
    "ballots_received",
    "unaccounted",
    "issued_early",
    "issued_in_station",
    "issued_outside",
    "cancelled",
    "lost",
    "valid",
    "yes",
    "no",
)
OPTIONS = ("yes", "no")


def parse(text: str) -> Relation:
    return parse_relation(text, KEYS, OPTIONS)


def test_parses_the_law_arithmetic_into_our_own_tree() -> None:
    relation = parse(
        "ballots_received + unaccounted == issued_early + issued_in_station"
        " + issued_outside + cancelled + lost"
    )
    assert relation.comparison == "=="
    assert relation.left == Arithmetic("+", LineRef("ballots_received"), LineRef("unaccounted"))
    assert relation.line_keys == (
        "ballots_received",
        "unaccounted",
        "issued_early",
        "issued_in_station",
        "issued_outside",
        "cancelled",
        "lost",
    )
    assert relation.left_text == "ballots_received + unaccounted"
    assert relation.right_text.startswith("issued_early + ")


def test_sum_of_options_is_resolved_to_the_option_lines() -> None:
    relation = parse("valid == sum(options)")
    assert relation.right == SumOfOptions(("yes", "no"))
    assert relation.line_keys == ("valid", "yes", "no")


def test_constants_and_unary_minus() -> None:
    relation = parse("-lost + 0 <= 10 - -cancelled")
    assert relation.left == Arithmetic("+", Negation(LineRef("lost")), Constant(0))
    assert relation.right == Arithmetic("-", Constant(10), Negation(LineRef("cancelled")))


@pytest.mark.parametrize(
    ("text", "comparison"),
    [
        ("valid == yes + no", "=="),
        ("valid != yes", "!="),
        ("yes <= registered", "<="),
        ("yes < registered", "<"),
        ("registered >= yes", ">="),
        ("registered > yes", ">"),
    ],
)
def test_every_comparison_is_accepted(text: str, comparison: str) -> None:
    assert parse(text).comparison == comparison


@pytest.mark.parametrize(
    ("text", "offending"),
    [
        ("__import__('os') == 1", "__import__('os')"),
        ("registered.real == 1", "registered.real"),
        ("a.b == valid", "a.b"),
        ("registered ** 2 == valid", "registered ** 2"),
        ("registered * 2 == valid", "registered * 2"),
        ("registered // 2 == valid", "registered // 2"),
        ("valid == 1.5", "1.5"),
        ("valid == 'x'", "'x'"),
        ("valid == True", "True"),
        ("valid == (yes if no else lost)", "yes if no else lost"),
        ("valid == [yes][0]", "[yes][0]"),
        ("valid == sum(yes)", "sum(yes)"),
        ("valid == sum(options, 1)", "sum(options, 1)"),
        ("valid == max(options)", "max(options)"),
        ("valid == (lambda: 1)()", "(lambda: 1)()"),
        ("valid == +yes", "+yes"),
        ("valid == ~yes", "~yes"),
        ("valid == (yes == no)", "yes == no"),
        ("valid == 2 ** 64", "2 ** 64"),
        ("valid == 99999999999999999999", "99999999999999999999"),
        ("valid in (yes, no)", "valid in (yes, no)"),
        ("valid is yes", "valid is yes"),
        ("yes and no", "yes and no"),
    ],
)
def test_anything_outside_the_grammar_is_refused_naming_the_part(text: str, offending: str) -> None:
    with pytest.raises(ExpressionError) as err:
        parse(text)
    message = str(err.value)
    assert repr(text) in message
    assert repr(offending) in message


def test_chained_comparison_is_refused() -> None:
    with pytest.raises(ExpressionError, match="chained comparison"):
        parse("yes <= valid <= registered")


def test_a_relation_needs_a_comparison() -> None:
    with pytest.raises(ExpressionError, match="no comparison"):
        parse("yes + no")


def test_a_relation_needs_a_protocol_line() -> None:
    with pytest.raises(ExpressionError, match="no protocol line"):
        parse("1 == 1")


@pytest.mark.parametrize("text", ["valid ==", "valid = yes", "import os", "", "   "])
def test_syntax_errors_and_empty_text_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError, match="control relation"):
        parse(text)


def test_unknown_line_keys_are_named() -> None:
    with pytest.raises(ExpressionError) as err:
        parse("valid == yes + maybe + perhaps")
    assert "unknown line key(s) maybe, perhaps" in str(err.value)
    assert "expected one of:" in str(err.value)


def test_sum_of_options_needs_option_lines() -> None:
    with pytest.raises(ExpressionError, match="without ballot-option lines"):
        parse_relation("valid == sum(options)", KEYS, ())


def test_hostile_texts_are_refused_without_crashing() -> None:
    with pytest.raises(ExpressionError, match=r"nested too deeply|not a valid expression"):
        parse("valid == " + "(" * 500 + "yes" + ")" * 500)
    with pytest.raises(ExpressionError, match="at most"):
        parse("valid == " + " + ".join(["yes"] * 1000))


def test_evaluates_vectorised_with_both_sides() -> None:
    relation = parse("valid == sum(options)")
    result = relation.evaluate(
        {"valid": np.array([10, 7, 0]), "yes": np.array([6, 3, 0]), "no": np.array([4, 3, 1])}
    )
    assert result.holds.tolist() == [True, False, False]
    assert result.left.tolist() == [10, 7, 0]
    assert result.right.tolist() == [10, 6, 1]
    assert result.delta.tolist() == [0, 1, -1]
    assert result.left.dtype == np.int64


def test_evaluates_inequalities_constants_and_negation() -> None:
    relation = parse("issued_in_station + issued_outside - 5 <= registered - -lost")
    result = relation.evaluate(
        {
            "issued_in_station": [100, 100],
            "issued_outside": [10, 10],
            "registered": [105, 100],
            "lost": [0, 1],
        }
    )
    assert result.left.tolist() == [105, 105]
    assert result.right.tolist() == [105, 101]
    assert result.holds.tolist() == [True, False]


def test_evaluates_one_station_given_as_scalars() -> None:
    relation = parse("valid == yes + no")
    result = relation.evaluate({"valid": 5, "yes": 2, "no": 2})
    assert result.holds.tolist() == [False]
    assert result.delta.tolist() == [1]


def test_evaluates_a_constant_side_at_every_station() -> None:
    relation = parse("lost == 0")
    result = relation.evaluate({"lost": np.array([0, 2, 0])})
    assert result.holds.tolist() == [True, False, True]
    assert result.right.tolist() == [0, 0, 0]


def test_evaluation_does_not_overflow_32_bit_sums() -> None:
    relation = parse("yes + no == valid")
    big = np.array([2**31 - 1], dtype=np.int32)
    result = relation.evaluate({"yes": big, "no": big, "valid": np.array([2**32 - 2])})
    assert result.holds.tolist() == [True]


def test_evaluation_names_missing_lines() -> None:
    with pytest.raises(ExpressionError, match=r"no figures for line.*no"):
        parse("valid == yes + no").evaluate({"valid": [1], "yes": [1]})


def test_evaluation_refuses_non_integer_figures() -> None:
    with pytest.raises(ExpressionError, match=r"'yes'.*expected integers"):
        parse("valid == yes").evaluate({"valid": [1], "yes": [1.0]})


def test_evaluation_refuses_arrays_of_different_lengths() -> None:
    with pytest.raises(ExpressionError, match="different numbers of stations"):
        parse("valid == yes").evaluate({"valid": [1, 2], "yes": [1, 2, 3]})


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("registered ** 2 == valid", "the operator ** is not allowed"),
        ("registered.real == valid", "attribute access is not allowed"),
        ("valid == [yes][0]", "indexing is not allowed"),
    ],
)
def test_refusals_name_the_construct_in_plain_words(text: str, named: str) -> None:
    with pytest.raises(ExpressionError, match=named.replace("*", r"\*")):
        parse(text)


def _term_by_term(term: object, figures: dict[str, np.ndarray]) -> np.ndarray:
    """The tree walked with int64 arithmetic, one operation per node: what the compiled
    linear forms must equal, wrap-around included."""
    if isinstance(term, Constant):
        return np.asarray(term.value, dtype=np.int64)
    if isinstance(term, LineRef):
        return figures[term.key]
    if isinstance(term, SumOfOptions):
        total = np.zeros((), dtype=np.int64)
        for key in term.keys:
            total = total + figures[key]
        return total
    if isinstance(term, Negation):
        return -_term_by_term(term.operand, figures)
    assert isinstance(term, Arithmetic)
    left, right = _term_by_term(term.left, figures), _term_by_term(term.right, figures)
    return left + right if term.op == "+" else left - right


RELATIONS = (
    "valid == sum(options)",
    "issued_in_station + issued_outside - 5 <= registered - -lost",
    "lost - lost + 3 != 2 - -cancelled",
    "yes + yes + no > 9223372036854775807 + 9223372036854775807 + valid",
    "-(yes - (no + 1)) < registered",
    "lost >= 0",
)


def test_all_relations_at_once_equal_each_walked_term_by_term() -> None:
    relations = tuple(parse(text) for text in RELATIONS)
    compiled = CompiledRelations.of(relations, KEYS)
    rng = np.random.default_rng(3)
    values = rng.integers(-5, 6, (200, len(KEYS)))
    # Rows near the 64-bit limits, where sums wrap around.
    values[:50] += np.int64(2**62) * rng.integers(-2, 2, (50, len(KEYS)))
    evaluation = compiled.evaluate(values)
    figures = {key: values[:, column] for column, key in enumerate(KEYS)}
    for index, relation in enumerate(relations):
        with np.errstate(over="ignore"):
            left = np.broadcast_to(_term_by_term(relation.left, figures), (200,))
            right = np.broadcast_to(_term_by_term(relation.right, figures), (200,))
        assert evaluation.left[:, index].tolist() == left.tolist(), relation.text
        assert evaluation.right[:, index].tolist() == right.tolist(), relation.text
        single = relation.evaluate(figures)
        assert single.left.tolist() == left.tolist()
        assert single.holds.tolist() == evaluation.holds[:, index].tolist()
    assert compiled.reads[:, 2].tolist() == [key in ("lost", "cancelled") for key in KEYS]


def test_relations_evaluate_on_no_rows() -> None:
    compiled = CompiledRelations.of((parse("valid == yes + no"),), KEYS)
    evaluation = compiled.evaluate(np.zeros((0, len(KEYS)), dtype=np.int64))
    assert evaluation.holds.shape == evaluation.left.shape == (0, 1)
