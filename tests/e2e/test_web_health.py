"""/healthz for load balancers and monitoring."""

from __future__ import annotations

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
    down = UnreachableDatabase(config=config, deps=services.deps, accounts=services.accounts,
                               audit=services.audit, designs=services.designs,
                               engagement=services.engagement, licensing=services.licensing,
                               messaging=services.messaging, notifications=services.notifications,
                               manufacturers=services.manufacturers, orders=services.orders,
                               blobs=services.blobs)
    app = create_app(config, services=down)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}


def test_healthz_needs_no_session_or_token(client):
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
