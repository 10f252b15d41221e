"""The privacy policy's versions in the portal (issue #6 part 5; policy section 13, P46):
/legal/privacy shows the version in force with its effective date and text, older
and announced versions stay readable at /legal/privacy/<version>, and a signed-in
person sees a banner on every page until they acknowledge a material change (a
CSRF-protected POST that records the acceptance)."""

from __future__ import annotations

import re
from datetime import timedelta

from caratzon_core.access import Actor
from caratzon_core.privacy import INITIAL_POLICY_VERSION
from caratzon_core.services.policy import notice_dedupe_key

OPERATOR = Actor.cli_operator()
TEXT = ("Privacy Policy\n\n"
        "13. Changes to This Policy\n\n"
        "We may update this Privacy Policy from time to time.\n"
        "Material changes will be communicated via email.\n\n"
        "Tags like <script>alert(1)</script> are shown as text.\n")
BANNER = 'id="policy-banner"'


def html(response) -> str:
    return response.get_data(as_text=True)


def acceptances(web, user_id: str) -> list[str]:
    with web.services.deps.uow() as uow:
        return [a.version for a in uow.policies.acceptances(user_id)]


def user_id(web, email: str = "ada@example.com") -> str:
    with web.services.deps.uow() as uow:
        user = uow.users.get_by_email(email)
    assert user is not None
    return user.id


def csrf_of(page: str) -> str:
    match = re.search(r'action="/legal/privacy/acknowledge".*?name="csrf_token" value="([^"]+)"', page, re.S)
    assert match, "no acknowledgement form"
    return match.group(1)


# -- the pages ---------------------------------------------------------------------------


def test_the_initial_version_shows_the_text_shipped_with_the_portal(client) -> None:
    page = html(client.get("/legal/privacy"))
    assert f"<strong>Version {INITIAL_POLICY_VERSION}</strong>, effective 4 March 2026." in page
    assert "Who is responsible" in page and "Clean Jewel Beyond Limited" in page
    assert "Versions of this policy" in page and "First version" in page and "In force" in page


def test_a_published_version_shows_its_stored_text_and_the_old_one_stays_readable(web, client) -> None:
    web.services.policy.publish(OPERATOR, "2026-11-27", TEXT, web.today(), False)

    page = html(client.get("/legal/privacy"))
    assert "<strong>Version 2026-11-27</strong>, effective 27 November 2026." in page
    assert "<h2>13. Changes to This Policy</h2>" in page
    assert "We may update this Privacy Policy from time to time.<br>Material changes will be communicated" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Who is responsible" not in page  # the stored text, not the shipped summary
    assert f'href="/legal/privacy/{INITIAL_POLICY_VERSION}"' in page and "Minor change" in page

    old = client.get(f"/legal/privacy/{INITIAL_POLICY_VERSION}")
    assert old.status_code == 200
    old_page = html(old)
    assert f"<strong>Version {INITIAL_POLICY_VERSION}</strong>, effective 4 March 2026." in old_page
    assert "This is an older version, replaced on\n        27 November 2026." in old_page
    assert "Who is responsible" in old_page  # its text is the shipped one
    assert 'href="/legal/privacy/2026-11-27"' in old_page


def test_an_announced_version_can_be_read_before_it_takes_effect(web, client) -> None:
    effective = web.today() + timedelta(days=30)
    web.services.policy.publish(OPERATOR, None, TEXT, effective, True)
    # The link in the notice e-mail works at once.
    page = html(client.get(web.services.policy.version_url(effective.isoformat()).split("8000", 1)[1]))
    assert "This version takes effect on 27 December 2026." in page
    assert "13. Changes to This Policy" in page
    current = html(client.get("/legal/privacy"))
    assert f"<strong>Version {INITIAL_POLICY_VERSION}</strong>" in current and "Upcoming" in current


def test_an_unknown_version_is_404(client) -> None:
    response = client.get("/legal/privacy/no-such-version")
    assert response.status_code == 404
    assert "There is no privacy policy version" in html(response)


# -- the banner -----------------------------------------------------------------------------------


def test_a_material_change_shows_a_banner_until_acknowledged(web) -> None:
    browser = web.signed_in()
    assert BANNER not in html(browser.get("/"))
    effective = web.today() + timedelta(days=2)
    web.services.policy.publish(OPERATOR, None, TEXT, effective, True)
    assert BANNER not in html(browser.get("/"))  # announced (by mail), not in force yet
    web.clock.advance(timedelta(days=2))

    for path in ("/", "/account", "/catalog", "/legal/privacy"):
        page = html(browser.get(path))
        assert BANNER in page, path
        assert "Our privacy policy has changed" in page and "I have read it" in page
    assert BANNER not in html(web.client().get("/"))  # nobody signed in: no banner

    page = html(browser.get("/account"))
    flat = " ".join(page.split())
    assert f"in force since {effective.day} November 2026 (version {effective.isoformat()})" in flat
    ada = user_id(web)
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION]

    # Without the CSRF token: refused, nothing recorded.
    refused = browser.post("/legal/privacy/acknowledge", data={"next": "/account"})
    assert refused.status_code == 400
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION]

    done = browser.post("/legal/privacy/acknowledge", data={"csrf_token": csrf_of(page), "next": "/account"})
    assert done.status_code == 302 and done.headers["Location"] == "/account"
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION, effective.isoformat()]
    after = html(browser.get("/account"))
    assert BANNER not in after and "we have recorded that you have read the privacy policy" in after
    assert BANNER not in html(browser.get("/"))


def test_acknowledge_redirects_only_to_local_pages(web) -> None:
    browser = web.signed_in()
    web.services.policy.publish(OPERATOR, None, TEXT, web.today(), True)
    page = html(browser.get("/"))
    response = browser.post("/legal/privacy/acknowledge",
                            data={"csrf_token": csrf_of(page), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_acknowledging_needs_a_session(web, client) -> None:
    response = client.post("/legal/privacy/acknowledge", data={"csrf_token": web.csrf(client, "/login")})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_continued_use_after_a_minor_change_is_recorded_without_a_banner(web) -> None:
    browser = web.signed_in()
    ada = user_id(web)
    web.services.policy.publish(OPERATOR, "minor-fix", TEXT, web.today() + timedelta(days=1), False)
    browser.get("/")
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION]  # not in force yet
    web.clock.advance(timedelta(days=1))
    assert BANNER not in html(browser.get("/"))
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION, "minor-fix"]
    browser.get("/account")
    assert acceptances(web, ada) == [INITIAL_POLICY_VERSION, "minor-fix"]  # recorded once


def test_the_notice_links_to_the_version_page(web) -> None:
    web.signed_in()
    effective = web.today() + timedelta(days=7)
    web.services.policy.publish(OPERATOR, None, TEXT, effective, True)
    with web.services.deps.uow() as uow:
        queued = [m for m in uow.outbox.claim_due(web.clock.now(), web.clock.now() + timedelta(minutes=1))]
    assert [m.dedupe_key for m in queued] == [notice_dedupe_key(effective.isoformat(), user_id(web))]
    url = queued[0].notice.values["url"]
    assert url.endswith(f"/legal/privacy/{effective.isoformat()}")
    assert web.client().get(url.split("8000", 1)[1]).status_code == 200


def test_the_api_never_shows_or_records_anything(web, client) -> None:
    web.signup_api(client)
    token = web.token(client)
    web.services.policy.publish(OPERATOR, "minor", TEXT, web.today(), False)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert acceptances(web, user_id(web)) == [INITIAL_POLICY_VERSION]
