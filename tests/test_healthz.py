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
def test_health_check_names_an_unreachable_broker(client, settings):
    from nhs_joint.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        body = client.get("/healthz").json()
    finally:
        app.conf.broker_url = old
    assert body["redis"].startswith("error")
    assert body["workers"] == "unknown"
