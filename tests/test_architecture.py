"""The apps import downward only: illgateway → requests_app → accounts → readers → core.

The contracts are in pyproject.toml ([tool.importlinter]); import-linter reads every module's
imports, the ones inside functions too, so a circle cannot hide in a lazy import.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_goes_down_the_layers():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout
