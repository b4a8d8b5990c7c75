"""Bounded parsing of the YAML (and JSON) files flowopt reads: one way in for every document.

Stage: file text -> plain Python data (dicts, lists, scalars), or an
:class:`~flowopt.errors.InputError` naming the file and line. Every YAML file flowopt reads goes
through :func:`parse_yaml`: ``scenario.yaml``, overrides (what-if) files, batch files and pathway
files; their JSON forms go through :func:`parse_json`.

``yaml.safe_load`` refuses arbitrary Python objects but still lets a small file do a lot of
harm, and silently accepts mistakes. :func:`parse_yaml` also refuses:

* aliases that expand past :data:`MAX_YAML_NODES` nodes (the "billion laughs" document: a few
  hundred bytes whose aliases expand to 10⁹ nodes when anything walks the result), and aliases
  that refer to the collection they are in (a document that never ends when walked);
* nesting deeper than :data:`MAX_YAML_DEPTH`, counted through aliases (a 5,000-deep list
  would otherwise end in ``RecursionError``);
* integer literals longer than :data:`MAX_INT_CHARS` characters (Python refuses to convert
  integers of more than 4,300 digits, and no quantity in a scenario needs 40);
* a key given twice in one mapping (YAML would silently keep the last value);
* documents longer than :data:`MAX_YAML_CHARS` characters.

Messages never repeat an unbounded piece of the input: keys are cut to 60 characters.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flowopt.errors import InputError, Problem

#: Most nodes a document may expand to, aliases counted at every place they are used.
MAX_YAML_NODES = 100_000
#: Deepest nesting of collections, aliases followed.
MAX_YAML_DEPTH = 64
#: Longest integer literal, in characters (digits, sign, underscores, base prefix).
MAX_INT_CHARS = 40
#: Longest document, in characters (the bundled files are a few kilobytes).
MAX_YAML_CHARS = 5_000_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_SHORT = 60


def short(value: object, limit: int = _SHORT) -> str:
    """Return ``str(value)`` cut to ``limit`` characters (with an ellipsis) for messages."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Refused(ConstructorError):
    """A document refused by a bound or a rule of this module, with how to fix it."""

    def __init__(self, problem: str, mark: Any, hint: str) -> None:
        super().__init__(None, None, problem, mark)
        self.hint = hint


_DEPTH_HINT = "flatten the document: flowopt's files need only a few levels."
_ALIAS_HINT = "write the values out instead of repeating aliases (*name) of aliases."


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with bounded depth, integers and alias expansion, no duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    # -- scanning: flow nesting ([[[…]]]); the scanner's cost grows with the square of it ----

    def fetch_flow_sequence_start(self) -> None:
        """Scan ``[``, refusing flow nesting deeper than :data:`MAX_YAML_DEPTH`."""
        self._check_flow_level()
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        """Scan ``{``, refusing flow nesting deeper than :data:`MAX_YAML_DEPTH`."""
        self._check_flow_level()
        super().fetch_flow_mapping_start()

    def _check_flow_level(self) -> None:
        if self.flow_level >= MAX_YAML_DEPTH:
            msg = f"the document is nested more than {MAX_YAML_DEPTH} levels deep"
            raise _Refused(msg, self.get_mark(), _DEPTH_HINT)

    # -- composition: depth while composing (the composer recurses), duplicate keys ----------

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """Compose one node, refusing nesting deeper than :data:`MAX_YAML_DEPTH`."""
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                msg = f"the document is nested more than {MAX_YAML_DEPTH} levels deep"
                raise _Refused(msg, mark, _DEPTH_HINT)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        """Compose a mapping and refuse a key that appears twice in it."""
        node = super().compose_mapping_node(anchor)
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue  # merge keys (<<) may be overridden; complex keys are refused later
            key = self.construct_object(key_node)
            if key in first_line:
                msg = f"the key '{short(key_node.value)}' is given twice in one mapping (first on line {first_line[key]}); YAML would silently keep only the last value"
                raise _Refused(msg, key_node.start_mark, "give each key once (delete or rename one of them).")
            first_line[key] = _line(key_node)
        return node

    # -- after composition: alias expansion, cycles ------------------------------------------

    def get_single_node(self) -> Node | None:
        """Compose the document and check what its aliases expand to before constructing it."""
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    # -- construction: integers ---------------------------------------------------------------

    def construct_yaml_int(self, node: ScalarNode) -> int:
        """Construct an integer, refusing literals longer than :data:`MAX_INT_CHARS`."""
        value = str(node.value)
        if len(value) > MAX_INT_CHARS:
            msg = f"an integer of {len(value)} characters is too long (at most {MAX_INT_CHARS})"
            raise _Refused(msg, node.start_mark, "check the value; quote it if it is text.")
        return int(super().construct_yaml_int(node))


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(root: Node) -> None:
    """Refuse a node graph whose aliases expand past the budgets or refer to their own parent.

    Aliased nodes are shared objects in the composed graph, so sizes and depths are computed
    once per node (memoized, iterative: no recursion however deep the aliases chain).
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_YAML_NODES:
                msg = f"the document's aliases (*name) expand to more than {MAX_YAML_NODES:,} values"
                raise _Refused(msg, node.start_mark, _ALIAS_HINT)
            if depth[key] > MAX_YAML_DEPTH:
                msg = f"the document is nested more than {MAX_YAML_DEPTH} levels deep (aliases followed)"
                raise _Refused(msg, node.start_mark, _DEPTH_HINT)
            continue
        if key in size:
            continue
        if key in on_path:
            msg = "an alias (*name) refers to the collection it is in, so the document never ends"
            raise _Refused(msg, node.start_mark, "an alias may only repeat a value defined before and outside it.")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _problem(table: str, source: str | None, line: int | None, message: str, hint: str) -> InputError:
    return InputError(f"{source or 'The document'}: {message}", [Problem(table, line, None, message, hint, source)])


def parse_yaml(text: str, *, source: str | None = None, table: str = "yaml") -> Any:
    """Parse one YAML document with the bounds above.

    Args:
        text: the document.
        source: file name for error locations.
        table: ``Problem.table`` of the error (``scenario``, ``changes``, ``batch``, ``pathway``).

    Returns:
        The data: dicts, lists and scalars (``None`` for an empty document).

    Raises:
        InputError: invalid or refused YAML, with the line when known.
    """
    if len(text) > MAX_YAML_CHARS:
        msg = f"the file has {len(text):,} characters, more than the {MAX_YAML_CHARS:,} a YAML file may have."
        raise _problem(table, source, None, msg, "split it, or check that it is the right file.")
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # _BoundedLoader is a SafeLoader: no Python objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = short(exc.problem or exc.context or "invalid syntax", 300)
        hint = getattr(exc, "hint", "fix the YAML syntax (indentation, colons, quotes).")
        raise _problem(table, source, line, f"not valid YAML: {what}.", hint) from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise _problem(table, source, None, f"not valid YAML: {short(exc, 200)}.", "fix the YAML syntax (indentation, colons, quotes).") from exc


def compose_yaml(text: str) -> Node | None:
    """Compose a YAML document into nodes (for line numbers) with the same bounds, or ``None``.

    Returns ``None`` for any document :func:`parse_yaml` would refuse, so callers that only want
    line numbers never fail on them.
    """
    if len(text) > MAX_YAML_CHARS:
        return None
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    finally:
        loader.dispose()


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every key path of a YAML document (``("targets", "2024")``) to its 1-based line.

    Sequence items are keyed by their 0-based index as a string. Aliased nodes are walked once,
    at their first place. Returns an empty mapping for a document :func:`parse_yaml` refuses.
    """
    root = compose_yaml(text)
    lines: dict[tuple[str, ...], int] = {}
    if root is None:
        return lines
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[str, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                lines.setdefault(sub, _line(key))
                stack.append((value, sub))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, str(i))
                lines.setdefault(sub, _line(item))
                stack.append((item, sub))
    return lines


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_CHARS:
        msg = f"an integer of {len(text)} characters is too long (at most {MAX_INT_CHARS})"
        raise ValueError(msg)
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            msg = f"the key '{short(key)}' is given twice in one object"
            raise ValueError(msg)
        out[key] = value
    return out


def _json_depth_ok(data: Any) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if level > MAX_YAML_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)
    return True


def parse_json(text: str, *, source: str | None = None, table: str = "json") -> Any:
    """Parse a JSON document with the same bounds as :func:`parse_yaml` (depth, integers, keys).

    Raises:
        InputError: invalid or refused JSON, with the line when known.
    """
    if len(text) > MAX_YAML_CHARS:
        msg = f"the file has {len(text):,} characters, more than the {MAX_YAML_CHARS:,} a JSON file may have."
        raise _problem(table, source, None, msg, "split it, or check that it is the right file.")
    hint = "fix the JSON syntax (quotes, commas, brackets, each key once)."
    try:
        data = json.loads(text, parse_int=_bounded_int, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise _problem(table, source, exc.lineno, f"not valid JSON: {short(exc.msg, 200)}.", hint) from exc
    except RecursionError as exc:
        raise _problem(table, source, None, f"not valid JSON: the document is nested more than {MAX_YAML_DEPTH} levels deep.", hint) from exc
    except ValueError as exc:
        raise _problem(table, source, None, f"not valid JSON: {short(exc, 200)}.", hint) from exc
    if not _json_depth_ok(data):
        raise _problem(table, source, None, f"not valid JSON: the document is nested more than {MAX_YAML_DEPTH} levels deep.", hint)
    return data
