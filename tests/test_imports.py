"""What the layering asks of imports beyond import-linter's contracts (pyproject.toml): an
import placed inside a function says why it is deferred, and the benches use the public API
or the modules they measure, never the batch or the command line."""

from __future__ import annotations

import ast
import re

from conftest import REPO

#: why an import may wait until its function runs
DEFERRED = re.compile(r"#\s*deferred: (start-up|an optional extra)\b")
#: what the benches and tools may import of photoguard
PUBLIC_OR_MEASURED = ("photoguard", "photoguard.errors", "photoguard.options", "photoguard.media", "photoguard.parts")


def imports_inside_functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner


def test_every_import_inside_a_function_says_why_it_waits():
    unmarked = []
    for path in sorted((REPO / "photoguard").rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in imports_inside_functions(ast.parse("\n".join(lines))):
            if not DEFERRED.search(lines[node.end_lineno - 1]):
                unmarked.append(f"{path.relative_to(REPO)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not unmarked, "imports inside functions without '# deferred: start-up' or '# deferred: an optional " \
                         "extra':\n" + "\n".join(unmarked)


def test_the_benches_use_the_public_api_or_the_modules_they_measure():
    reaching = []
    for path in sorted([*(REPO / "bench").glob("*.py"), *(REPO / "tools").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                if name.split(".")[0] == "photoguard" and not any(
                        name == allowed or name.startswith(allowed + ".") and allowed != "photoguard"
                        for allowed in PUBLIC_OR_MEASURED):
                    reaching.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    assert not reaching, "\n".join(reaching)
