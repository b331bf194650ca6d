import pytest


@pytest.mark.django_db
def test_health_check_reports_database_and_redis_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert "workers" in body


@pytest.mark.django_db
def test_health_check_names_an_unreachable_broker(client, settings, monkeypatch):
    # Whatever broker the caller's environment names, the check follows the settings.
    monkeypatch.setenv("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = client.get("/healthz").json()
    assert body["redis"].startswith("error")
    assert body["workers"] == "unknown"
