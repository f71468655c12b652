"""The README's promises: its first commands are the ones CI runs, and the files it (and
CONTRIBUTING.md) names are there."""

import re

from conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_the_two_commands():
    install_and_run, test = readme_commands()[:2]
    assert "photoguard clean sample_images/" in install_and_run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    test = readme_commands()[1]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines


def test_the_paths_the_docs_name_exist():
    named = {path for doc in ("README.md", "CONTRIBUTING.md")
             for path in re.findall(r"`(photoguard/[^`\s]*)`", (REPO / doc).read_text())}
    assert len(named) > 10
    missing = sorted(path for path in named if "NAME" not in path and not list(REPO.glob(path.rstrip("/"))))
    assert not missing, f"named in the docs, not in the tree: {missing}"
