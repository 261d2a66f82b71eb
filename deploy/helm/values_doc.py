"""Read the helm-docs `# --` comments of a chart's values.yaml and print its values table.

A small stand-in for helm-docs (not installable from the registries CI reaches): it keeps
the chart README's values table in step with values.yaml, and the deploy tests use it to
check that every value is documented.

    python deploy/helm/values_doc.py deploy/helm/resizeq            # print the table
    python deploy/helm/values_doc.py deploy/helm/resizeq --write    # update README.md
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.-]*):(?P<rest>.*)$")
DOC_LINE = re.compile(r"^ *# -- (?P<text>.*)$")
MORE_DOC_LINE = re.compile(r"^ *# (?P<text>(?!-- ).*)$")
TABLE_START = "<!-- values-table:start -->"
TABLE_END = "<!-- values-table:end -->"


@dataclass(frozen=True)
class Value:
    """One documented key of values.yaml, by its dotted path."""

    path: str
    description: str
    default: object


def _lookup(tree: object, path: list[str]) -> object:
    for key in path:
        assert isinstance(tree, dict)
        tree = tree[key]
    return tree


def read_values(values_file: Path) -> tuple[list[Value], list[str]]:
    """Return the documented values and the dotted paths of leaves that have no `# --`."""
    lines = values_file.read_text().splitlines()
    tree = yaml.safe_load("\n".join(lines))
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    documented: list[Value] = []
    undocumented: list[str] = []

    for line in lines:
        doc = DOC_LINE.match(line)
        if doc:
            pending = [doc.group("text")]
            continue
        more = MORE_DOC_LINE.match(line)
        if more and pending:
            pending.append(more.group("text"))
            continue
        match = KEY_LINE.match(line)
        if not match:
            if not line.strip().startswith("-"):
                pending = []
            continue

        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [key for _, key in stack] + [match.group("key")]
        stack.append((indent, match.group("key")))
        default = _lookup(tree, path)
        dotted = ".".join(path)

        # Like helm-docs, a documented mapping documents everything under it.
        covered = any(dotted.startswith(value.path + ".") for value in documented)
        if pending:
            documented.append(Value(dotted, " ".join(pending), default))
        elif not covered and (not isinstance(default, dict) or not default):
            undocumented.append(dotted)
        pending = []

    return documented, undocumented


def _type_name(default: object) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, (int, float)):
        return "int" if isinstance(default, int) else "float"
    if isinstance(default, str):
        return "string"
    return "list" if isinstance(default, list) else "object"


def table(values: list[Value]) -> str:
    """The markdown values table, in values.yaml order."""
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for value in values:
        default = json.dumps(value.default, separators=(",", ":")).replace("|", "\\|")
        description = value.description.replace("|", "\\|")
        rows.append(
            f"| `{value.path}` | {_type_name(value.default)} | `{default}` | {description} |"
        )
    return "\n".join(rows) + "\n"


def readme_with_table(readme: str, values: list[Value]) -> str:
    """README text with the part between the table markers replaced by a fresh table."""
    start = readme.index(TABLE_START) + len(TABLE_START)
    end = readme.index(TABLE_END)
    return readme[:start] + "\n\n" + table(values) + "\n" + readme[end:]


def main(argv: list[str]) -> int:
    chart = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent / "resizeq"
    values, undocumented = read_values(chart / "values.yaml")
    if undocumented:
        print("values without a '# --' comment: " + ", ".join(undocumented), file=sys.stderr)
        return 1

    if "--write" in argv:
        readme = chart / "README.md"
        readme.write_text(readme_with_table(readme.read_text(), values))
    else:
        sys.stdout.write(table(values))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
