"""`caratzon export EMAIL [--out FILE] [--json]` (issue #6, part 2) over a real
SQLite data dir and the local blob store: an operator working an access or
portability request gets the signed link and, with --out, the zip itself."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from caratzon_adapters.bootstrap import bootstrap
from caratzon_adapters.config import Config
from caratzon_cli.main import app
from caratzon_core.access import Actor
from caratzon_core.export import SCHEMA
from caratzon_core.services.accounts import SignUp

SECRET = "s3cret-key-" + "e" * 40


def test_the_operator_exports_a_person_to_a_file(tmp_path: Path) -> None:
    env = {"CARATZON_DATA_DIR": str(tmp_path / "data"), "CARATZON_PASSWORD_HASHING": "fast",
           "CARATZON_SECRET_KEY": SECRET}
    services = bootstrap(Config.from_env(env), migrate=True)
    try:
        services.accounts.create_user(Actor.cli_operator("test"), SignUp(
            email="bea@example.com", password="Quartz-Meadow-Compass-58", name="Bea", role="buyer"))
    finally:
        services.close()
    runner = CliRunner()
    full_env: dict[str, str | None] = {**env, "CARATZON_DATABASE_URL": None, "CARATZON_SMTP_URL": None,
                                       "CARATZON_AI": None}
    target = tmp_path / "bea.zip"
    result = runner.invoke(app, ["export", "BEA@example.com", "--out", str(target), "--json"], env=full_env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["email"] == "bea@example.com" and answer["url"] and answer["expires_at"]
    with zipfile.ZipFile(target) as zf:
        doc = json.loads(zf.read("export.json"))
    assert doc["schema"] == SCHEMA and doc["subject"]["requested_by"] == "admin"
    missing = runner.invoke(app, ["export", "nobody@example.com"], env=full_env)
    assert missing.exit_code != 0 and "nobody@example.com" in missing.output
