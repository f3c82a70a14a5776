"""YAML from the repository, read with bounds: parliament's config file (`--parliament-config`).

PyYAML's safe loader shares the node an alias points to, so a 569-byte file of nested aliases (a
"billion laughs") loads quickly as a graph, and then whoever walks it (parliament's config handling, our
patterns) visits 9^9 values and fills the memory. Here the document is composed first, its nodes counted
with every alias expanded (a node reached twice counts twice), and it is constructed only when that
count stays within MAX_NODES. The pure-Python composer is used: its recursion is bounded
(RecursionError), LibYAML's is not checked.
"""

from __future__ import annotations

MAX_NODES = 100_000  # a config file's values, aliases expanded; parliament's own config has about 600


class YamlError(Exception):
    """Not YAML, or past the bounds; the message is one line."""


def load(text: str) -> object:
    """The one document of `text`, as yaml.safe_load builds it. Raises YamlError."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise YamlError(f"not valid YAML ({str(exc).splitlines()[0]})") from exc
    except RecursionError as exc:
        raise YamlError("not valid YAML (nested too deeply)") from exc
    except ValueError as exc:  # a number past Python's int-string conversion limit
        from auditor.failures import digits_message

        raise YamlError(f"not valid YAML ({digits_message(exc) or exc})") from exc
    finally:
        loader.dispose()


def _count(root) -> None:
    """YamlError when the document holds more than MAX_NODES values with aliases expanded. Iterative, and
    it stops at the bound: the walk itself is bounded by MAX_NODES steps."""
    import yaml

    seen = 0
    stack = [root]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise YamlError(f"more than {MAX_NODES:,} values with aliases expanded (an alias bomb?); refused")
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
