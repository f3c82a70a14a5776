"""`data "aws_iam_policy_document"` rendered as the AWS provider renders it, from its source
(hashicorp/terraform-provider-aws internal/service/iam/policy_document_data_source.go and
policy_model.go):

- the merged document starts empty; `source_policy_documents` are merged in order (a Sid repeated
  across them is an error: "duplicate Sid ... in source_policy_documents"), then the document's own
  statements (`version`, default 2012-10-17, and `policy_id`; a Sid repeated among them is an error),
  then `override_policy_documents` in order. Merging (IAMPolicyDoc.Merge) adopts the newer document's
  Id when it has one, upgrades the Version, and puts each statement with a Sid in place of the merged
  one with that Sid, appending the others;
- `source_json` (merged before the source documents) and `override_json` (after the overrides) are
  provider 4's; provider 5 accepts them only empty, so a non-empty one is an Assumption;
- a statement block: `effect` (default Allow), `actions`/`not_actions` and `resources`/`not_resources`
  as sets: de-duplicated, one entry written as a string, several sorted in reverse order
  (policyDecodeConfigStrings: slices.Sort then slices.Reverse); `&{...}` becomes `${...}` in resources,
  principals' identifiers and condition values (not in actions), an error in version 2008-10-17;
- `principals`/`not_principals` blocks: identifiers as a set like actions; blocks of one type are
  combined into one list; a single `*` principal of type `*` is written `"*"`; types in lexical order
  (Go's JSON writes map keys sorted);
- `condition` blocks: values in the order written (a list), blocks with the same test and variable
  appended to one list, one value written as a string; tests and variables in lexical order;
- a document given as JSON (a source or override) is read into the provider's model and written back:
  unknown statement members are dropped, a Principal string becomes "*", principal lists are sorted in
  reverse, condition values become strings.
"""

from __future__ import annotations

import json

from auditor.model import Spot
from auditor.model import pointer as make_pointer
from auditor.sources.iac import Unresolved, V, plain
from auditor.sources.tf_context import Ctx, remembered
from auditor.sources.tf_values import Doc, Text, Unknown, is_unknown, number_text

STATEMENT_FIELDS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
                    "Condition")


def document(config, res, ctx: Ctx) -> V:
    """The document of a policy document data source instance, rendered once per instance."""
    key = ("document", res.block.path, res.block.pointer, None if res.key is None else str(res.key.value))

    def compute(own: Unresolved) -> V:
        problems: list[tuple[str, int | None]] = []
        doc = _render(config, res, res.inst.ctx(own, res.names, ctx.depth + 1), problems)
        text = json.dumps(plain(doc))
        config.budget.text(len(text), res.block.line)
        return Doc(text, res.block.spot, doc, tuple(problems))

    return remembered(res.inst, key, ctx, compute,
                      lambda own: Unknown(own.add(res.address, f"{res.address}: a policy document that includes itself"),
                                          res.block.spot, True))


def _render(config, res, ctx: Ctx, problems: list[tuple[str, int | None]]) -> V:
    block = res.block
    ev = config.ev
    spot = block.spot
    merged: dict[str, object] = {"Version": None, "Id": None, "Statement": []}
    legacy = [name for name in ("source_json", "override_json") if name in block.attrs]
    for name in legacy:
        config.assume(block.attr_spot(name), f"{name} on {res.address}",
                      "merged as AWS provider 4 did (provider 5 and later accept it only empty)")
    for doc in _documents(config, res, "source_json", ctx, problems):
        _merge(merged, doc)
    seen = {s.value["Sid"].value for s in merged["Statement"] if isinstance(s.value, dict) and _sid(s)}  # type: ignore[attr-defined]
    for i, doc in enumerate(_documents(config, res, "source_policy_documents", ctx, problems)):
        for stmt in _statements(doc):
            sid = _sid(stmt)
            if sid and sid in seen:
                problems.append((f"the AWS provider rejects this document: duplicate Sid ({sid}) in source_policy_documents "
                                 f"(document {i})", block.attr_lines.get("source_policy_documents", block.line)))
            seen.add(sid)
        _merge(merged, doc)
    version = ev.attr(block, "version", ctx) or V("2012-10-17", spot)
    own: list[V] = []
    own_sids: set[str] = set()
    for stmt_block, stmt_ctx in config.blocks(block, "statement", ctx, res.address):
        stmt = _statement(config, stmt_block, stmt_ctx, res.address, version, problems)
        sid = _sid(stmt)
        if sid and sid in own_sids:
            problems.append((f"the AWS provider rejects this document: duplicate Sid ({sid})", stmt_block.line))
        own_sids.add(sid)
        own.append(stmt)
    ident = ev.attr(block, "policy_id", ctx)
    _merge(merged, V({"Version": version, **({"Id": ident} if ident is not None else {}), "Statement": V(own, spot)}, spot))
    for doc in (*_documents(config, res, "override_policy_documents", ctx, problems),
                *_documents(config, res, "override_json", ctx, problems)):
        _merge(merged, doc)
    out: dict[str, V] = {}
    if merged["Version"] is not None:
        out["Version"] = merged["Version"]  # type: ignore[assignment]
    if merged["Id"] is not None:
        out["Id"] = merged["Id"]  # type: ignore[assignment]
    if merged["Statement"]:
        out["Statement"] = V(merged["Statement"], spot)
    return V(out, spot)


def _sid(stmt: V) -> str:
    """A statement's Sid; "" when it has none, or one the configuration does not decide (it then matches no
    other statement: kept, never merged or reported as a duplicate on a guess)."""
    sid = stmt.value.get("Sid") if isinstance(stmt.value, dict) else None
    return sid.value if sid is not None and isinstance(sid.value, str) and not is_unknown(sid) else ""


def _statements(doc: V) -> list[V]:
    body = doc.value.get("Statement") if isinstance(doc.value, dict) else None
    return list(body.value) if body is not None and isinstance(body.value, list) else []


def _merge(merged: dict, doc: V) -> None:
    """IAMPolicyDoc.Merge: the newer Id when it has one, the higher Version, statements by Sid in place."""
    body = doc.value if isinstance(doc.value, dict) else {}
    ident = body.get("Id")
    if ident is not None and isinstance(ident.value, str) and ident.value:
        merged["Id"] = ident
    version = body.get("Version")
    if version is not None and isinstance(version.value, str) and (merged["Version"] is None or version.value > merged["Version"].value):
        merged["Version"] = version
    statements: list[V] = merged["Statement"]
    for stmt in _statements(doc):
        sid = _sid(stmt)
        at = next((i for i, old in enumerate(statements) if sid and _sid(old) == sid), None)
        if at is None:
            statements.append(stmt)
        else:
            statements[at] = stmt


def _documents(config, res, name: str, ctx: Ctx, problems: list[tuple[str, int | None]]) -> list[V]:
    """The documents given in `name` (a list of JSON strings, or one for source_json/override_json), each
    read into the provider's model."""
    block = res.block
    value = config.ev.attr(block, name, ctx)
    if value is None or value.value is None or value.value == "":
        return []
    items = value.value if isinstance(value.value, list) and not isinstance(value, Unknown) else [value]
    out = []
    for item in items:
        if item.value is None:
            continue
        if isinstance(item, Doc):
            doc = item.doc
        elif isinstance(item.value, str) and not is_unknown(item):
            doc = json_tree(config.ev, item.value, item, ctx.un)
        else:
            config.assume(block.attr_spot(name), f"an entry of {name} on {res.address}",
                          "assumed to add no statements: the configuration does not decide it")
            continue
        if isinstance(doc, Unknown) or not isinstance(doc.value, dict):
            problems.append((f"the AWS provider rejects this document: an entry of {name} is not a JSON policy document",
                             block.attr_lines.get(name, block.line)))
            continue
        out.append(_modelled(doc, problems, block.attr_lines.get(name, block.line), name))
    return out


def _modelled(doc: V, problems: list[tuple[str, int | None]], line: int | None, name: str) -> V:
    """A JSON document as the provider's model reads it and writes it back."""
    body: dict[str, V] = doc.value  # type: ignore[assignment]
    out: dict[str, V] = {}
    for key in ("Version", "Id"):
        if key in body:
            out[key] = body[key]
    raw = body.get("Statement")
    if raw is not None:
        if not isinstance(raw.value, list):
            problems.append((f"the AWS provider rejects this document: Statement in {name} is not a list", line))
        else:
            out["Statement"] = V([_model_statement(s) for s in raw.value if isinstance(s.value, dict)], raw.spot)
    return V(out, doc.spot)


def _model_statement(stmt: V) -> V:
    fields = {f.lower(): f for f in STATEMENT_FIELDS}
    given: dict[str, V] = {}
    assert isinstance(stmt.value, dict)
    for key, value in stmt.value.items():
        field = fields.get(key.lower())
        if field is not None and (field not in given or key == field):  # Go: an exact match wins over a case-insensitive one
            given[field] = value
    out: dict[str, V] = {}
    for field in STATEMENT_FIELDS:
        value = given.get(field)
        if value is None or value.value in (None, "", []):
            continue
        if field in ("Principal", "NotPrincipal"):
            value = _model_principal(value)
        elif field == "Condition" and isinstance(value.value, dict):
            value = _model_condition(value)
        out[field] = value
    return V(out, stmt.spot)


def _model_principal(value: V) -> V:
    if isinstance(value.value, str):
        return V("*", value.spot)
    if not isinstance(value.value, dict):
        return value
    out = {}
    for kind in sorted(value.value):
        ids = value.value[kind]
        if isinstance(ids.value, list):
            ordered = sorted(ids.value, key=lambda i: str(i.value), reverse=True)
            out[kind] = ordered[0] if len(ordered) == 1 else V(ordered, ids.spot)
        else:
            out[kind] = ids
    if len(out) == 1 and "*" in out and out["*"].value in ("*", ["*"]):
        return V("*", value.spot)
    return V(out, value.spot)


def _model_condition(value: V) -> V:
    out: dict[str, V] = {}
    assert isinstance(value.value, dict)
    for test in sorted(value.value):
        variables = value.value[test]
        if not isinstance(variables.value, dict):
            continue
        inner: dict[str, V] = {}
        for variable in sorted(variables.value):
            v = variables.value[variable]
            if isinstance(v.value, bool):
                v = V("true" if v.value else "false", v.spot)
            elif isinstance(v.value, list) and len(v.value) == 1:
                v = v.value[0]
            inner[variable] = v
        out[test] = V(inner, variables.spot)
    return V(out, value.spot)


# --- a statement block ------------------------------------------------------------------------------

def _statement(config, block, ctx: Ctx, owner: str, version: V, problems: list[tuple[str, int | None]]) -> V:
    ev = config.ev
    spot = block.spot
    out: dict[str, V] = {}
    sid = ev.attr(block, "sid", ctx)
    if sid is not None and sid.value not in ("", None):
        out["Sid"] = sid
    effect = ev.attr(block, "effect", ctx)  # null is unset: the schema's default
    out["Effect"] = effect if effect is not None and effect.value is not None else V("Allow", spot)
    old = version.value == "2008-10-17"
    for attr, key, amp in (("actions", "Action", False), ("not_actions", "NotAction", False),
                           ("resources", "Resource", True), ("not_resources", "NotResource", True)):
        value = ev.attr(block, attr, ctx)
        if value is None or value.value is None:  # null is unset
            continue
        listed = _string_set(value, amp, old, problems, block.attr_lines.get(attr, block.line))
        if listed is not None:
            out[key] = listed
    for kind, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        found = config.blocks(block, kind, ctx, owner)
        if found:
            out[key] = _principals(config, found, old, problems)
    conditions = config.blocks(block, "condition", ctx, owner)
    if conditions:
        out["Condition"] = _conditions(config, conditions, old, problems)
    return V(out, spot)


def _as_string(item: V) -> V:
    """A number or bool where the provider's schema wants a string, converted as Terraform converts it."""
    if isinstance(item.value, bool):
        return V("true" if item.value else "false", item.spot)
    if isinstance(item.value, (int, float)):
        return V(number_text(item.value), item.spot)
    return item


def _string_set(value: V, amp: bool, old: bool, problems: list, line: int | None) -> V | None:
    """A set of strings as the provider writes it: distinct, one as a string, several in reverse order;
    `&{` as `${` where the provider replaces it."""
    items = value.value if isinstance(value.value, list) and not isinstance(value, Unknown) else [value]
    items = [_as_string(i) for i in items]
    seen: dict[str, V] = {}
    for item in items:
        if item.value is None:  # a null element: the provider's set drops it
            continue
        text = item.value if isinstance(item.value, str) else json.dumps(plain(item))
        seen.setdefault(text, item)
    if not seen:
        return None
    ordered = [seen[k] for k in sorted(seen, reverse=True)]
    if amp:
        if old and any("&{" in k for k in seen):
            problems.append(("the AWS provider rejects this document: &{ is not supported in document version 2008-10-17", line))
        ordered = [V(i.value.replace("&{", "${"), i.spot) if isinstance(i.value, str) and "&{" in i.value else i for i in ordered]
    return ordered[0] if len(ordered) == 1 else V(ordered, value.spot)


def _principals(config, found: list, old: bool, problems: list) -> V:
    ev = config.ev
    first = found[0][0]
    entries: list[tuple[str, V]] = []
    for block, ctx in found:
        kind = ev.attr(block, "type", ctx)
        ids = ev.attr(block, "identifiers", ctx)
        if kind is None or ids is None or not isinstance(kind.value, str):
            continue
        listed = _string_set(ids, True, old, problems, block.line)
        if listed is not None:
            entries.append((kind.value, listed))
    if len(entries) == 1 and entries[0][0] == "*" and entries[0][1].value == "*":
        return V("*", entries[0][1].spot)
    combined: dict[str, V] = {}
    for kind, ids in entries:
        have = combined.get(kind)
        if have is None:
            combined[kind] = ids
            continue
        before = have.value if isinstance(have.value, list) else [have]
        after = ids.value if isinstance(ids.value, list) else [ids]
        combined[kind] = V([*before, *after], have.spot)
    return V({k: combined[k] for k in sorted(combined)}, Spot(first.path, first.pointer, first.line))


def _conditions(config, found: list, old: bool, problems: list) -> V:
    ev = config.ev
    tests: dict[str, dict[str, list[V]]] = {}
    spots: dict[str, Spot] = {}
    for block, ctx in found:
        test, variable, values = (ev.attr(block, n, ctx) for n in ("test", "variable", "values"))
        if test is None or variable is None or values is None or not isinstance(test.value, str) \
                or not isinstance(variable.value, str):
            continue
        given = [_as_string(i) for i in (values.value if isinstance(values.value, list) and not isinstance(values, Unknown)
                                         else [values])]
        if old and any(isinstance(i.value, str) and "&{" in i.value for i in given):
            problems.append(("the AWS provider rejects this document: &{ is not supported in document version 2008-10-17",
                             block.line))
        fixed = [V(i.value.replace("&{", "${"), i.spot) if isinstance(i.value, str) else i for i in given]
        tests.setdefault(test.value, {}).setdefault(variable.value, []).extend(fixed)
        spots.setdefault(test.value, block.spot)
    first = found[0][0].spot
    out: dict[str, V] = {}
    for test in sorted(tests):
        inner = {}
        for variable in sorted(tests[test]):
            values = tests[test][variable]
            inner[variable] = values[0] if len(values) == 1 else V(values, values[0].spot)
        out[test] = V(inner, spots[test])
    return V(out, first)


# --- JSON ---------------------------------------------------------------------------------------------

def json_tree(ev, text: str, origin: V, un: Unresolved) -> V:
    """A JSON string as a V tree whose spots point where the text is written (line by line when it is a
    file's or a heredoc's text)."""
    from auditor.source_map import SourceMap

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return Unknown(un.add("jsondecode", "a string that is not JSON where a document is needed"), origin.spot, True)
    first = origin.first_line if isinstance(origin, Text) else None
    smap = SourceMap(text) if first is not None else None
    budget = ev.budget

    def build(value: object, at: str) -> V:
        line = origin.spot.line
        if smap is not None and first is not None:
            found = smap.line(at)
            line = None if found is None else first + found - 1
        spot = Spot(origin.spot.path, origin.spot.pointer + at, line)
        if isinstance(value, dict):
            budget.items(len(value), line)
            return V({str(k): build(v, f"{at}/{make_pointer(str(k))[1:]}") for k, v in value.items()}, spot)
        if isinstance(value, list):
            budget.items(len(value), line)
            return V([build(v, f"{at}/{i}") for i, v in enumerate(value)], spot)
        return V(value, spot)

    try:
        return build(data, "")
    except RecursionError:
        return Unknown(un.add("jsondecode", "JSON nested too deeply"), origin.spot, True)
