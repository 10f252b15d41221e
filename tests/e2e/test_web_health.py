"""/healthz for load balancers and monitoring."""

from __future__ import annotations

import attrs

from caratzon_adapters.bootstrap import Services
from caratzon_web import create_app


class UnreachableDatabase(Services):
    def healthy(self) -> bool:
        return False


def test_healthz_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(config, services):
    # Every service as wired, whatever fields Services gains.
    down = UnreachableDatabase(**{f.alias: getattr(services, f.name) for f in attrs.fields(Services)})
    app = create_app(config, services=down)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


def test_healthz_needs_no_session_or_token(client):
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
