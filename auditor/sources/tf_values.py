"""The values the Terraform evaluator produces, and the budget that bounds what it may produce.

A value is an `iac.V` (its Python value and the spot it is written at). Terraform's kinds map onto it:
string, number (int or float), bool, null (None), list or tuple (a Python list of V), set (`SetV`, a
list of distinct V), map or object (a dict of str to V). Besides those:

- `Unknown`: a value the configuration does not decide (a variable with no value, an attribute known
  only after apply) or that is an error in Terraform (an attribute that does not exist). Its value is
  the named placeholder (`${var.prefix}`) that stays in a policy's text (see iac.py);
- `ResourceAttr`: an Unknown that is an attribute of a resource instance of this configuration
  (`aws_iam_policy.deploy.arn`): the assembly follows it to the resource;
- `Attr`: a known attribute of a resource instance (`aws_iam_group.deploy.name`), remembering which;
- `Doc` and `Text`: a JSON string whose document is known element by element, and a string whose lines
  are a file's.

`Budget` counts what one configuration's evaluation produces: steps, characters of strings and elements
of collections (each counted when it is built, so locals that share subtrees, `replace(a, "x", a)` or a
template loop are charged for what they make), nesting depth and bytes read by `file()`. Past a limit,
`BudgetError` names it; the reader turns it into an `invalid` finding.
"""

from __future__ import annotations

from auditor.model import Spot
from auditor.sources.iac import V

MAX_STEPS = 200_000  # expressions evaluated for one configuration (all its modules)
MAX_CHARS = 4_000_000  # characters of the strings it builds, all together
MAX_STRING = 1_000_000  # characters of one string
MAX_ELEMENTS = 200_000  # elements of the lists, sets and maps it builds, all together
MAX_DEPTH = 200  # expressions nested in expressions, references followed through locals and variables (a local
# adds about 5): deeper would exhaust Python's stack
MAX_FILE_BYTES = 4 * 1024 * 1024  # bytes read by file(), templatefile() and local modules, all together


class HclError(Exception):
    """The configuration cannot be read: an `invalid` finding at `line` when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class BudgetError(HclError):
    """One of the evaluation budgets is used up."""


class Unknown(V):
    """A value the configuration does not decide, or an evaluation error (`error`): its value is the
    placeholder text."""

    __slots__ = ("error",)
    value: str

    def __init__(self, value: str, spot: Spot, error: bool = False) -> None:
        super().__init__(value, spot)
        self.error = error


class ResourceAttr(Unknown):
    """An attribute of a resource instance of the configuration known only after apply."""

    __slots__ = ("address", "attr")

    def __init__(self, value: str, spot: Spot, address: str, attr: str) -> None:
        super().__init__(value, spot)
        self.address = address
        self.attr = attr


class Attr(V):
    """A known attribute of a resource instance (its configured value), with the instance's address."""

    __slots__ = ("address",)

    def __init__(self, value: object, spot: Spot, address: str) -> None:
        super().__init__(value, spot)
        self.address = address


class Lazy(V):
    """An object whose attributes are looked up when used (a resource, data source or module instance): its
    value is the placeholder that names it; it is no string and nothing the configuration decides whole."""

    __slots__ = ()


class SetV(V):
    """A Terraform set: distinct elements (strings in lexical order, as Terraform orders them)."""

    __slots__ = ()


class Doc(V):
    """A JSON string whose document is known element by element (jsonencode, a policy document).
    `problems`: what makes Terraform or the provider refuse it (message, line)."""

    __slots__ = ("doc", "problems")
    value: str

    def __init__(self, value: str, spot: Spot, doc: V, problems: tuple[tuple[str, int | None], ...] = ()) -> None:
        super().__init__(value, spot)
        self.doc = doc
        self.problems = problems


class Text(V):
    """A string written as text whose lines are a file's (a heredoc, a file() read): `first_line` is the
    line its text starts on, None when its lines are not the file's (a template that repeats or drops
    lines)."""

    __slots__ = ("first_line",)
    value: str

    def __init__(self, value: str, spot: Spot, first_line: int | None = None) -> None:
        super().__init__(value, spot)
        self.first_line = first_line


class Partial(Text):
    """A string with undecided parts (placeholders) in it: a policy keeps its text; a decision on it
    (a comparison, a count) is undecided."""

    __slots__ = ()


def is_unknown(v: V) -> bool:
    """Is `v`, or anything in it, undecided?"""
    if isinstance(v, (Unknown, Partial, Lazy)):
        return True
    if isinstance(v.value, list):
        return any(is_unknown(i) for i in v.value)
    if isinstance(v.value, dict):
        return any(is_unknown(i) for i in v.value.values())
    return False


def type_name(v: V) -> str:
    """Terraform's name for the kind of `v` (for messages)."""
    value = v.value
    if isinstance(v, SetV):
        return "set"
    if isinstance(v, Lazy):
        return "object"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def number_text(value: int | float) -> str:
    """A number as Terraform writes it in a string: 2, 2.5 (never 2.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value) if isinstance(value, int) else repr(value)


class Budget:
    """What one configuration's evaluation may produce (see the module's docstring)."""

    def __init__(self) -> None:
        self.steps = 0
        self.chars = 0
        self.elements = 0
        self.file_bytes = 0

    def step(self, line: int | None = None) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetError(f"over the evaluation budget: more than {MAX_STEPS:,} expressions evaluated "
                              "(steps budget)", line)

    def text(self, length: int, line: int | None = None) -> None:
        """Count a string of `length` characters about to be built."""
        if length > MAX_STRING:
            raise BudgetError(f"over the evaluation budget: a string of more than {MAX_STRING:,} characters "
                              "(string budget)", line)
        self.chars += length
        if self.chars > MAX_CHARS:
            raise BudgetError(f"over the evaluation budget: more than {MAX_CHARS:,} characters of strings built "
                              "(characters budget)", line)

    def items(self, count: int, line: int | None = None) -> None:
        """Count a collection of `count` elements about to be built."""
        self.elements += count
        if self.elements > MAX_ELEMENTS:
            raise BudgetError(f"over the evaluation budget: more than {MAX_ELEMENTS:,} list, set and map elements "
                              "built (elements budget)", line)

    def depth(self, depth: int, line: int | None = None) -> None:
        if depth > MAX_DEPTH:
            raise BudgetError(f"over the evaluation budget: expressions and references nested more than "
                              f"{MAX_DEPTH} deep (depth budget)", line)

    def read(self, size: int, line: int | None = None) -> None:
        self.file_bytes += size
        if self.file_bytes > MAX_FILE_BYTES:
            raise BudgetError(f"over the evaluation budget: file(), templatefile() and modules read more than "
                              f"{MAX_FILE_BYTES // (1024 * 1024)} MiB (file budget)", line)
