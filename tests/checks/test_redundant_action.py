import json

from tests.checks.conftest import allow


def test_covered_by_wildcard_in_same_statement(findings):
    (hit,) = findings("redundant-action", allow(["s3:Get*", "s3:GetObject"], "arn:aws:s3:::demo-*/*"))
    assert hit == ("low", "s3:GetObject", '"s3:GetObject" in Statement[0] is already granted by "s3:Get*" in the same statement',
                   "/Statement/0/Action/1")


def test_covered_by_wildcard_on_broader_resources_elsewhere(findings):
    hits = findings("redundant-action", allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-dev-*"),
                    allow("lambda:*", "arn:aws:lambda:*:*:function:demo-*"))
    assert [h[2] for h in hits] == ['"lambda:GetFunction" in Statement[0] is already granted by "lambda:*" in Statement[1]']


def test_narrower_resources_elsewhere_pass(findings):
    assert findings("redundant-action", allow("lambda:GetFunction", "arn:aws:lambda:*:*:function:demo-*"),
                    allow("lambda:*", "arn:aws:lambda:*:*:function:demo-dev-*")) == []


def test_conditional_wildcard_does_not_make_it_redundant(findings):
    cond = {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert findings("redundant-action", allow("lambda:GetFunction", "*"), allow("lambda:*", "*", Condition=cond)) == []


# --- the index (budget.StartIndex) against the pairwise search it replaces ------------------------

def _service(action):
    return action.partition(":")[0].lower()


def _wildcards(stmt):
    """The statement's wildcard entries by lower-cased service ("" for service wildcards such as "*")."""
    out = {}
    for w in stmt.actions or ():
        if "*" in w or "?" in w:
            service = _service(w)
            out.setdefault("" if any(c in service for c in "*?") else service, []).append(w)
    return out


def _pairwise(statements):
    """Every statement against every wildcard statement, as the check did before the index."""
    from auditor.checks.redundant_action import resources_within
    from auditor.globs import covers

    out = []
    holders = [s for s in statements if _wildcards(s)]
    for stmt in statements:
        others = [o for o in holders if o.effect == stmt.effect and not (o.conditions and o.conditions != stmt.conditions)
                  and resources_within(stmt.resources, o.resources)]
        for i, action in enumerate(stmt.actions):
            if action.strip("*") == "":
                continue
            for other in others:
                table = _wildcards(other)
                found = next((w for w in table.get(_service(action), []) + table.get("", [])
                              if w.lower() != action.lower() and covers(action.lower(), w.lower())), None)
                if found:
                    out.append((stmt.index, i, action, found, other.index))
                    break
    return out


def _mixed_policy():
    """Statements that meet in every way the index sorts them: same and other services, resources whose
    literal starts nest, diverge, are "*" or hold a wildcard early; conditions; Deny; holders alike."""
    import itertools

    from auditor.model import parse_policy

    actions = [["s3:GetObject", "s3:Get*"], ["s3:GetObject"], ["lambda:GetFunction", "s3:List*"], ["*"], ["s3:*"],
               ["lambda:Get*", "lambda:GetFunction"], ["S3:GETOBJECT"], ["s3:Get?bject"], ["logs:Put*", "s3:GetObject"]]
    resources = [["*"], ["arn:aws:s3:::demo-*"], ["arn:aws:s3:::demo-1/*"], ["arn:aws:s3:::demo-1*"], ["arn:aws:s3:::*"],
                 ["arn:aws:s3:::other/*", "arn:aws:s3:::demo-1/*"], ["arn:aws:lambda:*:*:function:demo-*"],
                 ["arn:aws:s3:::d?mo-1/*"], ["arn:aws:*"]]
    statements = []
    for n, (a, r) in enumerate(itertools.product(actions, resources)):
        extra = {"Condition": {"Bool": {"aws:SecureTransport": "true"}}} if n % 11 == 0 else {}
        statements.append({"Effect": "Deny" if n % 13 == 0 else "Allow", "Action": a, "Resource": r, **extra})
    statements += statements[:9]  # holders alike: the first stands for them
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), "mixed.json")


def test_index_finds_what_every_pair_finds():
    from auditor.budget import Work
    from auditor.checks.redundant_action import plain, redundant, wildcards

    statements = plain(_mixed_policy().statements)
    work = Work()
    indexed = [(s.index, i, a, w, o.index) for s, i, a, w, o in redundant(statements, wildcards(statements), work)]
    expected = _pairwise(statements)
    assert len(expected) > 100  # the policy exercises the check
    assert not work.exhausted
    assert indexed == expected


def test_index_leaves_out_holders_of_other_services():
    """A wildcard of another service never covers, so the index does not offer it; a holder on disjoint
    resources is offered and refused by the exact resource test (the finding names the first that holds)."""
    from auditor.automata import literal_ends
    from auditor.checks.redundant_action import wildcards
    from auditor.glob_text import requirement_pattern
    from auditor.model import parse_policy

    doc = {"Version": "2012-10-17", "Statement": [
        allow("s3:Get*", "arn:aws:s3:::demo-2/*"), allow("lambda:Get*", "arn:aws:s3:::demo-1/*"),
        allow("s3:Get*", "arn:aws:s3:::demo-1/*"), allow("s3:Get*", "arn:aws:s3:::demo-*"), allow("*", "*"),
        allow("s3:GetObject", "arn:aws:s3:::demo-1/a.txt")]}
    statements = parse_policy(json.dumps(doc), "p.json").statements
    held = wildcards(statements)
    picked, _ = held.by_action.candidates(literal_ends(requirement_pattern("s3:getobject"))[0])
    assert [stmt.index for _, _, stmt in picked] == [0, 2, 3, 4]
    # by resource: only holders with an entry whose literal start begins "arn:aws:s3:::demo-1/a.txt"
    places, _ = held.by_resource.candidates("arn:aws:s3:::demo-1/a.txt")
    assert sorted({stmt.index for _, stmt in places}) == [1, 2, 3, 4]


def test_statements_each_on_their_own_resources_are_compared_through_their_holders(monkeypatch):
    """The benchmark's shape: n statements, each on its own function and bucket, a third holding s3:Get*.
    Each action is compared only with the wildcards of its own statement's resources (linear work), so
    every redundant entry is found, and none past the work limit."""
    from auditor import budget
    from auditor.checks import redundant_action
    from auditor.model import parse_policy

    n = 3000
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": f"S{i}", "Effect": "Allow",
         "Action": ["lambda:GetFunction", "s3:GetObject"] + (["s3:Get*", "logs:Put*"] if i % 3 == 0 else []),
         "Resource": [f"arn:aws:lambda:*:*:function:demo-{i}-*", f"arn:aws:s3:::demo-{i}/*"]} for i in range(n)]}
    plain = redundant_action.plain(parse_policy(json.dumps(doc), "p.json").statements)
    work = budget.Work()
    found = list(redundant_action.redundant(plain, redundant_action.wildcards(plain), work))
    assert [(s.index, i, a, w, o.index) for s, i, a, w, o in found] == [(i, 1, "s3:GetObject", "s3:Get*", i) for i in range(0, n, 3)]
    assert not work.exhausted and work.spent < 20 * n


def test_holder_on_disjoint_resources_is_passed_over(findings):
    hits = findings("redundant-action", allow("s3:Get*", "arn:aws:s3:::demo-2/*"), allow("lambda:Get*", "arn:aws:s3:::demo-1/*"),
                    allow("s3:Get*", "arn:aws:s3:::demo-1/*"), allow("s3:GetObject", "arn:aws:s3:::demo-1/a.txt"))
    assert [h[2] for h in hits] == ['"s3:GetObject" in Statement[3] is already granted by "s3:Get*" in Statement[2]']


def _within_by_search(inner, outer):
    """resources_within without its shortcut: every entry through the joint search."""
    from auditor.globs import as_requirement, match_classes

    for r in inner:
        if r in outer or "*" in outer:
            continue
        wanted = as_requirement(r)
        if wanted is None:
            return False
        classes = match_classes(wanted, tuple(outer))
        if not classes or not all(any(v) for v in classes):
            return False
    return True


def test_unrelated_resources_are_refused_without_the_search(monkeypatch):
    """A statement on other resources is refused segment by segment: on a policy of wildcard holders each on
    its own function and bucket (benchmarks/run.py's shape) the joint search never runs, and every answer is
    the search's."""
    import itertools

    from auditor.checks import redundant_action

    resources = ["arn:aws:lambda:*:*:function:demo-1-*", "arn:aws:lambda:*:*:function:demo-2-*", "arn:aws:s3:::demo-1/*",
                 "arn:aws:lambda:*:*:function:demo-*", "arn:aws:lambda:eu-west-1:*:function:*", "arn:aws:s3:::demo-1*",
                 "arn:aws:*:*:*:function:demo-1-*", "arn:aws:lambda:*:*:function:demo-1-a:*", "arn:aws:s3:::*/*"]
    for a, b in itertools.product(resources, repeat=2):
        for inner, outer in (((a,), (b,)), ((a,), (b, resources[0])), ((a, b), (resources[3], resources[2]))):
            assert redundant_action.resources_within(inner, outer) == _within_by_search(inner, outer), (inner, outer)
    searched = []
    real = redundant_action.match_classes
    monkeypatch.setattr(redundant_action, "match_classes", lambda *args: searched.append(args) or real(*args))
    statements = [allow(["lambda:GetFunction", "s3:GetObject", *(["s3:Get*", "logs:Put*"] if i % 3 == 0 else [])],
                        [f"arn:aws:lambda:*:*:function:demo-{i}-*", f"arn:aws:s3:::demo-{i}/*"]) for i in range(30)]
    from auditor.budget import Work
    from auditor.checks.redundant_action import plain, redundant, wildcards
    from auditor.model import parse_policy

    policy = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": statements}), "p.json")
    found = list(redundant(plain(policy.statements), wildcards(plain(policy.statements)), Work()))
    assert [(s.index, action, o.index) for s, _, action, _, o in found] == [(i, "s3:GetObject", i) for i in range(0, 30, 3)]
    assert searched == []
