"""axe-core, the accessibility checker, for the browser tests: installed from the npm registry into a cache
folder on first use (``scripts/test`` installs it ahead), then injected into each page under test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE_VERSION = "4.10"  # the major.minor the checks were written against; npm picks the latest patch
AXE_HOME = Path(os.environ.get("CASEHOOKS_AXE_DIR") or Path.home() / ".cache" / "casehooks-tests" / "axe")
AXE_SCRIPT = AXE_HOME / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def install_axe() -> Path:
    """The path of ``axe.min.js``, installed with npm if it is not there yet; skips (fails under CI) without it."""
    if not AXE_SCRIPT.exists() and shutil.which("npm"):
        AXE_HOME.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(AXE_HOME),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@~{AXE_VERSION}",
            ],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if not AXE_SCRIPT.exists():
        message = f"{AXE_SCRIPT} is missing: scripts/test installs it (npm install axe-core)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE_SCRIPT


def serious_violations(page: Page, script: Path) -> list[dict[str, Any]]:
    """The serious and critical axe violations of the page as loaded (WCAG 2.1 A and AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=script.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
            'best-practice'], resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return [violation for violation in found if violation["impact"] in SERIOUS]
