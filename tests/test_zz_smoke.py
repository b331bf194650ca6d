import pytest
from tests.factories import *

@pytest.mark.django_db
def test_smoke(client, nhse, nhsi):
    user = UserFactory(role="Staff", bodies=[nhse])
    p = ProgrammeFactory(bodies=[nhse, nhsi], accountable_body=nhse)
    w = WorkstreamFactory(programme=p, body=nhse, regions=[RegionFactory()])
    e = ExpectationFactory(programme=p, issued_by=nhse)
    a = AppointmentShareFactory(body=nhse).appointment
    OrganisationFactory()
    client.force_login(user)
    for url in ["/", "/programmes/", f"/programmes/{p.slug}/", f"/programmes/{p.slug}/edit/", f"/programmes/{p.slug}/history/",
                f"/programmes/{p.slug}/delete/", "/programmes/new/", "/workstreams/", f"/workstreams/{w.pk}/", "/expectations/",
                f"/expectations/{e.pk}/", "/measures/", f"/measures/{e.measure.code}/", "/appointments/", f"/appointments/{a.pk}/",
                f"/appointments/{a.pk}/edit/", "/people/", "/organisations/", "/regions/", f"/regions/{w.regions.first().ods_code}/",
                "/local-systems/", "/programmes/?export=csv", "/programmes/?q=programme&ordering=-title", "/accounts/password/",
                "/accounts/logout/", "/measurements/", "/board-approvals/", "/regional-deliveries/", "/programme-measures/"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.content[:3000])


@pytest.mark.django_db
def test_users(client, nhse):
    admin = UserFactory(role="Administrator", bodies=[nhse])
    client.force_login(admin)
    for url in ["/users/", f"/users/{admin.pk}/", f"/users/{admin.pk}/edit/", "/users/new/", f"/users/{admin.pk}/history/",
                f"/users/{admin.pk}/one-time-password/", f"/users/{admin.pk}/deactivate/"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.content[:3000])
