"""The control-relation language: arithmetic comparisons over protocol line keys.

A relation such as ``ballots_in_boxes == invalid + yes + no`` is written by whoever maintains a
protocol template, i.e. it is data, not code. It is parsed with Python's ``ast`` module and then
translated into a small AST of our own that admits only integer constants, line keys, ``+``,
``-`` (also unary), the special ``sum(options)`` and exactly one comparison. Nothing is ever
passed to ``eval``; anything outside that grammar is rejected naming the offending part.

Evaluation is vectorised with NumPy: one array element per station (or per protocol copy), so the
same relation checks one submission or a whole country's publication. The language has only +
and -, so every side is a linear form (a constant plus a coefficient per line): relations are
compiled once into a coefficient matrix (``CompiledRelations``), and evaluating all of a
template's relations on a figures matrix is one matrix product, whether it has one row or
millions. That is the only evaluator; the AST is for parsing, keys and reports.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Comparison = Literal["==", "!=", "<=", "<", ">=", ">"]
Int64Array: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IndexArray: TypeAlias = npt.NDArray[np.intp]

# Long enough for any real protocol; short enough that a hostile text cannot exhaust the parser.
MAX_EXPRESSION_LENGTH = 2000
_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
_INT64_SPAN = 2**64
_GRAMMAR = (
    "expected line keys, integer constants, + and -, sum(options) "
    "and exactly one comparison (==, !=, <=, <, >=, >)"
)

_COMPARISONS: dict[type[ast.cmpop], Comparison] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.LtE: "<=",
    ast.Lt: "<",
    ast.GtE: ">=",
    ast.Gt: ">",
}
_COMPARE: dict[Comparison, np.ufunc] = {
    "==": np.equal,
    "!=": np.not_equal,
    "<=": np.less_equal,
    "<": np.less,
    ">=": np.greater_equal,
    ">": np.greater,
}


# How refused constructs are named in errors, for people who do not read Python's AST.
_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.UAdd: "unary +",
    ast.Invert: "~",
    ast.Not: "not",
}
_CONSTRUCT_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.IfExp: "a conditional expression",
    ast.BoolOp: "and/or",
    ast.Lambda: "a lambda",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Starred: "unpacking",
    ast.NamedExpr: "assignment",
}


class ExpressionError(ValueError):
    """A control relation that is not in the language, or figures it cannot be evaluated on."""


@dataclass(frozen=True)
class Constant:
    value: int


@dataclass(frozen=True)
class LineRef:
    key: str


@dataclass(frozen=True)
class SumOfOptions:
    """``sum(options)``: the keys are resolved at parse time, so the parsed form is complete."""

    keys: tuple[str, ...]


@dataclass(frozen=True)
class Negation:
    operand: Term


@dataclass(frozen=True)
class Arithmetic:
    op: Literal["+", "-"]
    left: Term
    right: Term


Term: TypeAlias = Constant | LineRef | SumOfOptions | Negation | Arithmetic


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one relation at every station: whether it holds, and both sides' values.

    From ``CompiledRelations.evaluate``: one row per station, one column per relation.
    """

    holds: BoolArray
    left: Int64Array
    right: Int64Array

    @property
    def delta(self) -> Int64Array:
        """Left side minus right side: how far a broken relation is off."""
        return self.left - self.right


@dataclass(frozen=True)
class Relation:
    """A parsed control relation: ``left <comparison> right``."""

    text: str
    comparison: Comparison
    left: Term
    right: Term
    # The source text of each side, for reports ("ballots_in_boxes" vs "invalid + yes + no").
    left_text: str
    right_text: str

    @cached_property
    def line_keys(self) -> tuple[str, ...]:
        """Every line the relation reads, in order of first appearance."""
        return tuple(dict.fromkeys(_keys_of(self.left) + _keys_of(self.right)))

    @cached_property
    def compiled(self) -> CompiledRelations:
        """This relation alone, over its own lines (for ``evaluate``)."""
        return CompiledRelations.of((self,), self.line_keys)

    def evaluate(self, values: Mapping[str, npt.ArrayLike]) -> Evaluation:
        """Evaluate at every station: ``values`` maps line keys to integer arrays (or scalars).

        All arrays must have the same length; a scalar is one station's figure, or the same
        figure at every station. The result's arrays are always one-dimensional.
        """
        figures = _figures_of(f"control relation {self.text!r}", self.line_keys, values)
        evaluation = self.compiled.evaluate(_matrix(figures))
        return Evaluation(
            holds=evaluation.holds[:, 0], left=evaluation.left[:, 0], right=evaluation.right[:, 0]
        )


def parse_relation(
    text: str, known_keys: Iterable[str], option_keys: Iterable[str] = ()
) -> Relation:
    """Parse ``text`` into a Relation over the template's lines, or raise ExpressionError.

    ``known_keys`` are the template's line keys; ``option_keys`` those of its ballot-option
    lines, which ``sum(options)`` adds up.
    """
    translator, body = _translator_for(text, "control relation", known_keys, option_keys)
    try:
        return translator.relation(body)
    except RecursionError:
        raise ExpressionError(f"control relation {text!r}: nested too deeply") from None


@dataclass(frozen=True)
class Quantity:
    """A figure derived from protocol lines, e.g. ballots issued = early + in station + outside.

    The same language as a relation's sides: a template's [statistics] says with it what the
    forensic tests' V, G and R are on that protocol.
    """

    text: str
    term: Term

    @cached_property
    def line_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_keys_of(self.term)))

    @cached_property
    def form(self) -> LinearForms:
        return LinearForms.of((self.term,), self.line_keys)

    def evaluate(self, values: Mapping[str, npt.ArrayLike]) -> Int64Array:
        """The quantity at every station; ``values`` as for ``Relation.evaluate``."""
        figures = _figures_of(f"quantity {self.text!r}", self.line_keys, values)
        return self.form.evaluate(_matrix(figures))[:, 0]


def parse_quantity(
    text: str, known_keys: Iterable[str], option_keys: Iterable[str] = ()
) -> Quantity:
    """Parse ``text`` (no comparison) into a Quantity over the template's lines."""
    translator, body = _translator_for(text, "quantity", known_keys, option_keys)
    try:
        term = translator.term(body)
    except RecursionError:
        raise ExpressionError(f"quantity {text!r}: nested too deeply") from None
    translator.check_keys(_keys_of(term))
    if not _keys_of(term):
        raise translator.fail(body, "no protocol line")
    return Quantity(text=text.strip(), term=term)


@dataclass(frozen=True, eq=False)
class LinearForms:
    """Terms as ``constant + Σ coefficient × line`` over a fixed list of lines, one per column.

    Evaluating them all on a figures matrix (rows × lines) is one matrix product: a few NumPy
    calls whatever the number of terms, which is what one copy's check costs, while a million
    rows take about as long as adding their columns term by term. Sums wrap around in 64 bits
    exactly as adding term by term would (the matrix product is exact modulo 2**64).
    """

    line_keys: tuple[str, ...]
    coefficients: Int64Array  # lines × terms
    constants: Int64Array | None  # per term; None when every constant is 0

    @classmethod
    def of(cls, terms: tuple[Term, ...], line_keys: tuple[str, ...]) -> LinearForms:
        """``terms`` compiled over ``line_keys``, which must hold every line they read."""
        column = {key: index for index, key in enumerate(line_keys)}
        coefficients = np.zeros((len(line_keys), len(terms)), dtype=np.int64)
        constants = np.zeros(len(terms), dtype=np.int64)
        for index, term in enumerate(terms):
            constant, per_line = _linear(term)
            constants[index] = _wrapped(constant)
            for key, coefficient in per_line.items():
                coefficients[column[key], index] = _wrapped(coefficient)
        return cls(line_keys, coefficients, constants if constants.any() else None)

    def evaluate(self, values: Int64Array) -> Int64Array:
        """Each term at each row of ``values`` (rows × lines): rows × terms."""
        result: Int64Array = np.matmul(values, self.coefficients)
        if self.constants is not None:
            result += self.constants
        return result


@dataclass(frozen=True, eq=False)
class CompiledRelations:
    """Relations evaluated together over a fixed list of lines (a template's, usually)."""

    relations: tuple[Relation, ...]
    sides: LinearForms  # the left sides, then the right sides
    reads: BoolArray  # lines × relations: which lines each relation reads

    @classmethod
    def of(cls, relations: tuple[Relation, ...], line_keys: tuple[str, ...]) -> CompiledRelations:
        terms = tuple(r.left for r in relations) + tuple(r.right for r in relations)
        column = {key: index for index, key in enumerate(line_keys)}
        reads = np.zeros((len(line_keys), len(relations)), dtype=np.bool_)
        for index, relation in enumerate(relations):
            reads[[column[key] for key in relation.line_keys], index] = True
        return cls(relations, LinearForms.of(terms, line_keys), reads)

    def evaluate(self, values: Int64Array) -> Evaluation:
        """Every relation at every row of ``values`` (rows × lines): rows × relations."""
        sides = self.sides.evaluate(values)
        count = len(self.relations)
        left, right = sides[:, :count], sides[:, count:]
        holds = np.empty(left.shape, dtype=np.bool_)
        for index, relation in enumerate(self.relations):
            _COMPARE[relation.comparison](left[:, index], right[:, index], out=holds[:, index])
        return Evaluation(holds=holds, left=left, right=right)


def _translator_for(
    text: str, what: str, known_keys: Iterable[str], option_keys: Iterable[str]
) -> tuple[_Translator, ast.expr]:
    """Check the text's size and syntax; the translator that will read its tree, and the tree."""
    options = tuple(option_keys)
    known = set(known_keys) | set(options)
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{what} {text!r}: empty; {_GRAMMAR}")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"{what} {text[:40]!r}…: {len(text)} characters; "
            f"expected at most {MAX_EXPRESSION_LENGTH}"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(
            f"{what} {text!r}: not a valid expression ({err.msg}); {_GRAMMAR}"
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"{what} {text!r}: nested too deeply") from None
    return _Translator(text.strip(), known, options, what), tree.body


class _Translator:
    """Translates Python's AST into ours, refusing every node outside the grammar."""

    def __init__(
        self, text: str, known: set[str], options: tuple[str, ...], what: str = "control relation"
    ) -> None:
        self.text = text
        self.known = known
        self.options = options
        self.what = what

    def fail(self, node: ast.AST, what: str) -> ExpressionError:
        part = ast.get_source_segment(self.text, node) or ast.dump(node)
        return ExpressionError(f"{self.what} {self.text!r}: {what} in {part!r}; {_GRAMMAR}")

    def check_keys(self, keys: Iterable[str]) -> None:
        unknown = sorted(key for key in dict.fromkeys(keys) if key not in self.known)
        if unknown:
            raise ExpressionError(
                f"{self.what} {self.text!r}: unknown line key(s) {', '.join(unknown)}; "
                f"expected one of: {', '.join(sorted(self.known))}"
            )

    def relation(self, node: ast.expr) -> Relation:
        if not isinstance(node, ast.Compare):
            raise self.fail(node, "no comparison")
        if len(node.ops) != 1:
            raise self.fail(node, "a chained comparison")
        comparison = _COMPARISONS.get(type(node.ops[0]))
        if comparison is None:
            raise self.fail(node, "an unsupported comparison operator")
        left, right = self.term(node.left), self.term(node.comparators[0])
        self.check_keys((*_keys_of(left), *_keys_of(right)))
        if not _keys_of(left) and not _keys_of(right):
            raise self.fail(node, "no protocol line")
        return Relation(
            text=self.text,
            comparison=comparison,
            left=left,
            right=right,
            left_text=ast.get_source_segment(self.text, node.left) or "",
            right_text=ast.get_source_segment(self.text, node.comparators[0]) or "",
        )

    def term(self, node: ast.expr) -> Term:
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                return Arithmetic("+", self.term(node.left), self.term(node.right))
            if isinstance(node.op, ast.Sub):
                return Arithmetic("-", self.term(node.left), self.term(node.right))
            raise self.fail(node, f"the operator {_operator(node.op)} is not allowed")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Negation(self.term(node.operand))
            raise self.fail(node, f"the operator {_operator(node.op)} is not allowed")
        if isinstance(node, ast.Name):
            return LineRef(node.id)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Call):
            return self.sum_of_options(node)
        if isinstance(node, ast.Compare):
            raise self.fail(node, "a second comparison")
        construct = _CONSTRUCT_NAMES.get(type(node), type(node).__name__)
        raise self.fail(node, f"{construct} is not allowed")

    def constant(self, node: ast.Constant) -> Constant:
        # bool is an int subclass in Python: True must not pass as 1.
        if type(node.value) is not int:
            raise self.fail(node, f"a {type(node.value).__name__} constant is not allowed")
        if not _INT64_MIN <= node.value <= _INT64_MAX:
            raise self.fail(node, "an integer outside the 64-bit range")
        return Constant(node.value)

    def sum_of_options(self, node: ast.Call) -> SumOfOptions:
        is_sum_of_options = (
            isinstance(node.func, ast.Name)
            and node.func.id == "sum"
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "options"
        )
        if not is_sum_of_options:
            raise self.fail(node, "a call other than sum(options)")
        if not self.options:
            raise self.fail(node, "sum(options) in a template without ballot-option lines")
        return SumOfOptions(self.options)


def _operator(op: ast.AST) -> str:
    return _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)


def _keys_of(term: Term) -> tuple[str, ...]:
    if isinstance(term, LineRef):
        return (term.key,)
    if isinstance(term, SumOfOptions):
        return term.keys
    if isinstance(term, Negation):
        return _keys_of(term.operand)
    if isinstance(term, Arithmetic):
        return _keys_of(term.left) + _keys_of(term.right)
    return ()


def _figures_of(
    what: str, line_keys: tuple[str, ...], values: Mapping[str, npt.ArrayLike]
) -> dict[str, Int64Array]:
    """The lines from ``values`` as int64 arrays of one common length."""
    missing = [key for key in line_keys if key not in values]
    if missing:
        raise ExpressionError(f"{what}: no figures for line(s) {', '.join(missing)}")
    figures: dict[str, Int64Array] = {}
    for key in line_keys:
        array = np.asarray(values[key])
        if array.dtype.kind not in "iu" or array.ndim > 1:
            raise ExpressionError(
                f"{what}: figures for line {key!r} are "
                f"{array.ndim}-dimensional {array.dtype}; expected integers, one per station"
            )
        figures[key] = array.astype(np.int64, casting="same_kind")
    lengths = {array.size for array in figures.values() if array.ndim == 1}
    if len(lengths) > 1:
        raise ExpressionError(
            f"{what}: figures have different numbers of stations "
            f"({', '.join(f'{k}: {a.size}' for k, a in figures.items())})"
        )
    return figures


def _matrix(figures: Mapping[str, Int64Array]) -> Int64Array:
    """The figures as rows × lines; a scalar is the same figure in every row (one row if all
    are scalars)."""
    rows = max((array.size for array in figures.values() if array.ndim == 1), default=1)
    matrix = np.empty((rows, len(figures)), dtype=np.int64)
    for column, array in enumerate(figures.values()):
        matrix[:, column] = array
    return matrix


def _linear(term: Term) -> tuple[int, dict[str, int]]:
    """``term`` as (constant, coefficient per line), in exact integers."""
    if isinstance(term, Constant):
        return term.value, {}
    if isinstance(term, LineRef):
        return 0, {term.key: 1}
    if isinstance(term, SumOfOptions):
        return 0, dict(Counter(term.keys))
    if isinstance(term, Negation):
        constant, coefficients = _linear(term.operand)
        return -constant, {key: -value for key, value in coefficients.items()}
    sign = 1 if term.op == "+" else -1
    (left_constant, left), (right_constant, right) = _linear(term.left), _linear(term.right)
    return left_constant + sign * right_constant, _added(left, right, sign)


def _added(into: dict[str, int], coefficients: dict[str, int], sign: int) -> dict[str, int]:
    for key, value in coefficients.items():
        into[key] = into.get(key, 0) + sign * value
    return into


def _wrapped(value: int) -> int:
    """``value`` modulo 2**64 as a signed 64-bit integer, as int64 arithmetic leaves it."""
    return (value - _INT64_MIN) % _INT64_SPAN + _INT64_MIN
