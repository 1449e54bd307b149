"""Docs are code: generated references are current and every command explains itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.docs import commands

ROOT = Path(__file__).resolve().parents[1]


def test_generated_reference_pages_are_current():
    r = subprocess.run(
        [sys.executable, "scripts/docs.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_command_has_help_text_and_a_doc_entry():
    reference = (ROOT / "docs" / "cli.md").read_text()
    for path, cmd in commands():
        assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"
        assert f"## `{' '.join(path)}`" in reference
        for param in cmd.params:
            if not param.hidden and getattr(param, "help", None) is not None:
                assert param.help.strip(), f"{' '.join(path)} {param.name} has no help"


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make run" in head and "make test" in head and "http://127.0.0.1:8750" in head
