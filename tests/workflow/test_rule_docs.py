"""`snakemake -l` shows every rule with one line saying what it makes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULE = re.compile(r"^(?:rule|checkpoint) (\w+):", flags=re.MULTILINE)


def test_every_rule_has_a_one_line_docstring(tmp_path):
    for name in ("Snakefile", "workflow", "models", "profiles", "config"):
        (tmp_path / name).symlink_to(REPO / name)
    listing = subprocess.run(
        [sys.executable, "-m", "snakemake", "-l"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listing.returncode == 0, listing.stderr[-2000:]
    shown = dict(re.findall(r"^(\w+) \((.+)\)$", listing.stdout, flags=re.MULTILINE))
    sources = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    rules = {name for path in sources for name in RULE.findall(path.read_text())}
    assert rules and rules <= set(shown), f"rules without a docstring: {rules - set(shown)}"
    for rule in rules:
        assert "\n" not in shown[rule] and len(shown[rule]) <= 100, rule
