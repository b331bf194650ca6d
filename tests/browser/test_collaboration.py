"""In a real Chromium: comments and papers on a record's page and the saved views work by keyboard, on a phone,
and pass axe."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from collaboration import services
from tests import factories as f

from .conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def world(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England")
    staff = f.UserFactory(username="sam.staff", first_name="Sam", last_name="Staff", role="Staff", bodies=[nhse])
    admin = f.UserFactory(username="ada.admin", role="Administrator", bodies=[nhse])
    programme = f.ProgrammeFactory(
        title="Urgent and emergency care",
        slug="uec",
        bodies=[nhse],
        accountable_body=nhse,
        start_date=dt.date(2018, 4, 1),
    )
    return {"staff": staff, "admin": admin, "programme": programme}


def test_comments_and_papers_on_a_records_page(new_page, world, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    staff, programme = world["staff"], world["programme"]
    paper = services.attach(programme, staff, SimpleUploadedFile("board.pdf", PDF), "Board paper, May 2018")
    services.replace(paper, staff, SimpleUploadedFile("board-v2.pdf", PDF + b"%v2\n"))
    hidden = services.post_comment(programme, world["admin"], "Something to hide")
    services.hide_comment(hidden, world["admin"], "Personal details")

    page = new_page()
    sign_in(page, "sam.staff", next_path="/programmes/uec/")
    # By keyboard: the comment box is reached and the comment posted without a mouse.
    page.get_by_role("textbox", name="Comment").focus()
    page.keyboard.type("Agreed at the Board: see https://localhost/minutes for the minutes.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    comments = page.locator("#comments + *").locator("xpath=..")
    expect(page.locator(".portal-comment").last).to_contain_text("Agreed at the Board")
    expect(page.locator(".portal-comment").last.get_by_role("link", name="https://localhost/minutes")).to_be_visible()
    expect(comments).to_contain_text("Comment hidden by an administrator: Personal details")
    expect(page.get_by_role("link", name="Board paper, May 2018 (download)")).to_be_visible()
    page.get_by_text("Earlier versions of Board paper, May 2018").click()
    expect(page.get_by_role("link", name="board.pdf")).to_be_visible()
    assert_accessible(page, "a programme's comments and papers")

    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_function("document.documentElement.scrollWidth <= 360", timeout=10_000)
    assert_accessible(page, "comments on a phone")

    # The upload page, with an error, passes axe too.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/papers/programme/{programme.pk}/new/")
    bad = tmp_path / "virus.pdf"
    bad.write_bytes(b"\x7fELF" + bytes(100))
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Add paper").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The selected file must be a PDF, Word, Excel or OpenDocument file"
    )
    assert_accessible(page, "a refused paper")


def test_a_view_is_saved_and_found_again(new_page, world):
    page = new_page()
    sign_in(page, "sam.staff", next_path="/programmes/?status=active")
    page.get_by_label("Name this view").fill("Active programmes")
    page.get_by_role("button", name="Save this view").click()
    expect(page.locator(".nhsuk-u-reading-width, main")).to_contain_text("Saved as “Active programmes”")
    assert page.url.endswith("/programmes/?status=active")
    page.get_by_role("link", name="Your saved views").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your saved views")
    assert_accessible(page, "your saved views")
    page.get_by_role("link", name="Active programmes").click()
    assert page.url.endswith("/programmes/?status=active")
