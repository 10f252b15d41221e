"""The code-quality gates run as tests, so the README's one test command covers
them: ruff, mypy (strict on the core) and the import-linter contracts that keep
the core free of frameworks and the web/CLI away from adapter internals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_import_contracts_hold() -> None:
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_imports_with_only_attrs_and_cattrs() -> None:
    """`import caratzon_core` needs nothing but attrs and cattrs: run it with every
    other third-party package made unimportable."""
    blocked = ["sqlalchemy", "alembic", "psycopg", "boto3", "botocore", "stripe", "google", "flask",
               "werkzeug", "jinja2", "typer", "click", "rich", "argon2", "zxcvbn", "waitress",
               "numpy", "trimesh", "PIL"]
    code = (
        "import sys, importlib, pkgutil\n"
        f"blocked = {blocked!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in blocked: raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import caratzon_core\n"
        "for m in pkgutil.walk_packages(caratzon_core.__path__, 'caratzon_core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    result = run(sys.executable, "-c", code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
