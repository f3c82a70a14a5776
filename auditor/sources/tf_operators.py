"""Terraform's operators on decided values (Terraform's language documentation, "Arithmetic and Logical
Operators"): `-x`, `!x`, `*`, `/` (always a real division), `%` (the remainder's sign is the dividend's),
`+`, `-`, `<`, `>`, `<=`, `>=` on numbers (a string that reads as a number converts), `==` and `!=`
(equal only when both type and value are), `&&` and `||` on bools. An undecided operand makes the result
undecided, except `false && x` (false) and `true || x` (true). A number past 2^63 in size, a division by
zero or an operand of the wrong type is an error (undecided, named).
"""

from __future__ import annotations

import math

from auditor.model import Spot
from auditor.sources.iac import V
from auditor.sources.tf_context import Ctx, Evaluates, children_of, plain_value
from auditor.sources.tf_values import SetV, Unknown, is_unknown, type_name

MAX_NUMBER = 2**63


def number(value: V) -> int | float | None:
    """A value as a number, as Terraform converts it (a string that reads as one), else None."""
    raw = value.value
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return raw
    if isinstance(raw, str) and not is_unknown(value):
        try:
            return int(raw) if raw.strip().lstrip("-").isdigit() else float(raw)
        except ValueError:
            return None
    return None


def boolean(value: V) -> bool | None:
    """A decided value as a bool, as Terraform converts it ("true" and "false" convert), else None."""
    if is_unknown(value):
        return None
    if isinstance(value.value, bool):
        return value.value
    return {"true": True, "false": False}.get(value.value) if isinstance(value.value, str) else None


def operation(ev: Evaluates, node, ctx: Ctx, spot: Spot) -> V:
    from lark import Token, Tree

    kids = children_of(node)
    if node.data == "unary_op":
        op = str(kids[0])
        operand = ev.eval(kids[1], ctx)
        if is_unknown(operand):
            return ev.unknown(node, ctx, "an operand the configuration does not decide", spot)
        if op == "!" and boolean(operand) is not None:
            return V(not boolean(operand), spot)
        n = number(operand)
        if op == "-" and n is not None:
            return V(-n, spot)
        return ev.unknown(node, ctx, f"{op} on a {type_name(operand)} (Terraform rejects it)", spot, error=True)
    left_node = kids[0]
    term = kids[1]
    op = str(next(c for c in term.children if isinstance(c, Tree) and c.data == "binary_operator").children[0])
    right_node = [c for c in children_of(term) if isinstance(c, Tree) and c.data != "binary_operator"][0]
    left = ev.eval(left_node, ctx)
    right = ev.eval(right_node, ctx)
    del Token
    if op in ("&&", "||"):
        return _logic(ev, node, op, left, right, ctx, spot)
    if is_unknown(left) or is_unknown(right):
        return ev.unknown(node, ctx, "an operand the configuration does not decide", spot)
    if op in ("==", "!="):
        return V(_equal(left, right) == (op == "=="), spot)
    a, b = number(left), number(right)
    if a is None or b is None:
        return ev.unknown(node, ctx, f"{op} needs numbers, not a {type_name(left)} and a {type_name(right)} "
                                     "(Terraform rejects it)", spot, error=True)
    if op in ("<", ">", "<=", ">="):
        return V({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op], spot)
    if op in ("/", "%") and b == 0:
        return ev.unknown(node, ctx, "a division by zero (Terraform rejects it)", spot, error=True)
    if op == "+":
        result: int | float = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        if abs(a) > MAX_NUMBER or abs(b) > MAX_NUMBER:
            return ev.unknown(node, ctx, "a number too large to evaluate here", spot, error=True)
        result = a * b
    elif op == "/":
        result = a / b
    else:
        result = math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))
    if isinstance(result, float) and not math.isfinite(result) or abs(result) > MAX_NUMBER:
        return ev.unknown(node, ctx, "a number too large to evaluate here", spot, error=True)
    return V(int(result) if isinstance(result, float) and result.is_integer() and op != "/" else result, spot)


def _logic(ev: Evaluates, node, op: str, left: V, right: V, ctx: Ctx, spot: Spot) -> V:
    decided = [boolean(v) if boolean(v) is not None else v.value for v in (left, right) if not is_unknown(v)]
    if any(not isinstance(v, bool) for v in decided):
        return ev.unknown(node, ctx, f"{op} needs bools (Terraform rejects it)", spot, error=True)
    if op == "&&" and False in decided:
        return V(False, spot)
    if op == "||" and True in decided:
        return V(True, spot)
    if len(decided) < 2:
        return ev.unknown(node, ctx, "an operand the configuration does not decide", spot)
    return V(decided[0] and decided[1] if op == "&&" else decided[0] or decided[1], spot)


def _equal(a: V, b: V) -> bool:
    """Terraform's ==: the same type and the same value (1 == 1.0; "1" != 1; a list is never a set)."""
    if type_name(a) != type_name(b) and not (isinstance(a.value, list) and isinstance(b.value, list)
                                             and isinstance(a, SetV) == isinstance(b, SetV)):
        return False
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return False
    return plain_value(a) == plain_value(b)
