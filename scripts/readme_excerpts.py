"""Regenerate the README's excerpts of real command output, or check that they have not drifted.

    python scripts/readme_excerpts.py            # rewrite the blocks in README.md
    python scripts/readme_excerpts.py --check    # exit 1 and show the difference if any drifted

Each excerpt in README.md sits between two HTML comments::

    <!-- excerpt: flowopt solve -->
    ```
    …
    ```
    <!-- /excerpt -->

and :data:`EXCERPTS` says which command makes it and which lines it keeps. The command runs
in-process (``flowopt.cli.main``) from the repository's root; lines longer than
:data:`WIDTH` are cut with ``...`` and left-out stretches are shown as ``…``, as the README
does by hand. Parts of a line that change from run to run (solve times) are written as they
came but ignored by ``--check``. ``tests/test_readme_excerpts.py`` runs the check.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: Longest line shown; longer ones end in "..." at this width.
WIDTH = 140
#: Marks a stretch of output left out.
GAP = "…"
_BLOCK = re.compile(r"(<!-- excerpt: (?P<name>[^>]+?) -->\n```[a-z]*\n)(?P<body>.*?)(```\n<!-- /excerpt -->)", re.S)


@dataclass(frozen=True)
class Excerpt:
    """Which command makes an excerpt and which of its lines the README shows.

    ``keep`` lists stretches of the output: ``(start, count)`` where ``start`` is a line
    number or a regular expression the first line of the stretch matches (searched from the
    end of the previous stretch), and ``count`` the lines kept from there.
    """

    argv: tuple[str, ...]
    keep: tuple[tuple[int | str, int], ...]
    stream: str = "out"
    prompt: str | None = None
    exit_code: int = 0
    volatile: tuple[str, ...] = field(default=())


EXCERPTS: dict[str, Excerpt] = {
    "flowopt solve": Excerpt(("solve",), ((0, 14), (r"^Bottlenecks", 5))),
    "flowopt explain": Excerpt(("explain",), ((0, 6), (r"^Bottlenecks", 4), (r"^Why not\?", 2)), prompt="$ flowopt explain"),
    "flowopt solve data/panzhihua_east_2023": Excerpt(("solve", "data/panzhihua_east_2023"), ((0, 4), (r"^Cheapest relaxation", 6)), stream="err", prompt="$ flowopt solve data/panzhihua_east_2023      # exit code 1", exit_code=1),
    "flowopt compare": Excerpt(
        ("compare", "data/panzhihua_east", "data/panzhihua_east/whatifs/haorun_slips.yaml"),
        ((0, 3), (r"^What-if solved", 1)),
        prompt="$ flowopt compare data/panzhihua_east data/panzhihua_east/whatifs/haorun_slips.yaml",
        volatile=(r"\d[\d,.]* ms", r"\d+ simplex iterations"),
    ),
}


def _cut(line: str) -> str:
    line = line.rstrip()
    return line if len(line) <= WIDTH else line[: WIDTH - 3] + "..."


def select(lines: list[str], keep: tuple[tuple[int | str, int], ...]) -> list[str]:
    """The kept stretches of ``lines``, with ``…`` for every stretch left out between and after.

    Raises:
        LookupError: a stretch's first line is not in the output (the output changed: update
            :data:`EXCERPTS`).
    """
    out: list[str] = []
    pos = 0
    for start, count in keep:
        if isinstance(start, int):
            at = start
        else:
            pattern = re.compile(start)
            at = next((i for i in range(pos, len(lines)) if pattern.search(lines[i])), -1)
            if at < 0:
                msg = f"no line matching {start!r} after line {pos + 1} of the output"
                raise LookupError(msg)
        if at > pos:
            out.append(GAP)
        out += [_cut(x) for x in lines[at : at + count]]
        pos = at + count
    if pos < len(lines) and any(x.strip() for x in lines[pos:]):
        out.append(GAP)
    return out


def run(excerpt: Excerpt) -> list[str]:
    """Run the excerpt's command in-process from the repository's root; return its kept lines.

    Raises:
        RuntimeError: the command ended with another exit code than expected.
    """
    from flowopt.cli import main

    out, err = io.StringIO(), io.StringIO()
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(excerpt.argv))
    finally:
        os.chdir(cwd)
    if code != excerpt.exit_code:
        msg = f"flowopt {' '.join(excerpt.argv)} exited {code}, expected {excerpt.exit_code}: {err.getvalue()[-500:]}"
        raise RuntimeError(msg)
    text = (out if excerpt.stream == "out" else err).getvalue()
    body = select(text.rstrip("\n").splitlines(), excerpt.keep)
    return [excerpt.prompt, *body] if excerpt.prompt else body


def _masked(lines: list[str], volatile: tuple[str, ...]) -> list[str]:
    out = []
    for line in lines:
        for pattern in volatile:
            line = re.sub(pattern, "<varies>", line)
        out.append(line)
    return out


def regenerate(text: str, *, check: bool = False) -> tuple[str, list[str]]:
    """Rewrite every excerpt block of README text.

    Args:
        text: the README.
        check: compare instead of only rewriting (volatile parts ignored).

    Returns:
        The new text and, per drifted excerpt, a unified diff (empty when none drifted).

    Raises:
        KeyError: a block names an excerpt :data:`EXCERPTS` does not define, or an excerpt
            has no block.
    """
    drift: list[str] = []
    seen: set[str] = set()

    def replace(m: re.Match[str]) -> str:
        name = m.group("name").strip()
        if name not in EXCERPTS:
            msg = f"README block '{name}' has no entry in EXCERPTS"
            raise KeyError(msg)
        seen.add(name)
        spec = EXCERPTS[name]
        new = run(spec)
        old = m.group("body").rstrip("\n").splitlines()
        if _masked(old, spec.volatile) != _masked(new, spec.volatile):
            drift.append("".join(difflib.unified_diff([x + "\n" for x in old], [x + "\n" for x in new], f"README: {name}", f"now: {name}")))
        return m.group(1) + "\n".join(new) + "\n" + m.group(4)

    result = _BLOCK.sub(replace, text)
    missing = sorted(set(EXCERPTS) - seen)
    if missing:
        msg = f"README.md has no block for: {', '.join(missing)}"
        raise KeyError(msg)
    return result, drift


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md's excerpts, or (``--check``) report drift with exit code 1."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if an excerpt differs from the real output")
    p.add_argument("--readme", type=Path, default=README, help="the README to update (default: the repository's)")
    args = p.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new, drift = regenerate(text, check=args.check)
    if args.check:
        if drift:
            sys.stdout.write("".join(drift))
            sys.stdout.write(f"\n{len(drift)} excerpt(s) drifted; run: python scripts/readme_excerpts.py\n")
            return 1
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
    sys.stdout.write(f"{len(EXCERPTS)} excerpt(s) written to {args.readme}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
