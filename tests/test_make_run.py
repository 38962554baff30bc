"""`make run`'s steps on a fresh data folder: migrate, seed the demo store, start web + workers, sign in."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from generation.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_STORE
from tests.embedded import BANNER, EmbeddedRun
from tests.generation.photos import astronaut, jpeg_bytes

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
pytestmark = pytest.mark.slow


def signed_in(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    browser, home, _jar = signed_in_with_cookies(base)
    return browser, home


def signed_in_with_cookies(base: str) -> tuple[urllib.request.OpenerDirector, str, http.cookiejar.CookieJar]:
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_page = browser.open(base + "/").read().decode()  # redirected to the login form
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "username": DEMO_EMAIL,
                                   "password": DEMO_PASSWORD}).encode()
    home = browser.open(urllib.request.Request(base + "/accounts/login/", data=form, headers={"Referer": base + "/"}))
    assert home.geturl() == base + "/"
    return browser, home.read().decode(), jar


def upload_shots_at_once(browser, jar, base: str, photo: bytes, count: int) -> list:
    """What the shots page's drop zone does with several files: one POST per file, all in flight together."""
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    answers: list = []

    def upload(n: int) -> None:
        boundary = f"gasang-{n}"
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="look-{n}.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n")
        body = head.encode() + photo + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(base + "/api/v1/product-shots/", data=body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRFToken": csrf,
            "Accept": "application/json", "Referer": base + "/shots/"})
        try:
            answers.append(browser.open(request).status)
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.read().decode()[:300]))

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_embedded_stack_prints_the_login_last_and_the_demo_store_has_something_to_click(tmp_path):
    if not TESTDATA.is_dir():
        pytest.skip(f"demo photos absent ({TESTDATA}): the empty demo is covered by the next test")
    run = EmbeddedRun(tmp_path / "var", demo_photos=TESTDATA)
    seeded = run.start()
    try:
        assert "demo gallery faces: 10 imported" in seeded and "demo product shots: 6 imported" in seeded
        browser, home = signed_in(run.url)
        assert DEMO_STORE in home
        gallery = browser.open(run.url + "/gallery/").read().decode()
        assert gallery.count("beautygan_") >= 10  # the published demo faces, by name
        shots = browser.open(run.url + "/shots/").read().decode()
        assert shots.count("catvton_") >= 6
        jobs = browser.open(run.url + "/jobs/").read().decode()
        assert "/batches/" in jobs  # the demo batch, started once the shots' faces were detected
        time.sleep(2)  # give the workers time to fail if they are going to
        assert run.alive, "the stack stopped: a worker or the web server died"
    finally:
        output = run.stop()
    # The URL and login come last, after every worker's banner.
    banner_at = next(i for i, line in enumerate(run.lines) if BANNER in line)
    ready_at = [i for i, line in enumerate(run.lines) if " ready." in line]
    assert len(ready_at) == 3 and max(ready_at) < banner_at, output[-3000:]
    assert f"http://127.0.0.1:{run.port}/" in run.lines[banner_at]
    assert DEMO_EMAIL in run.lines[banner_at + 1] and DEMO_PASSWORD in run.lines[banner_at + 1]
    assert "demo batch started" in output

    # A second `make run` adds nothing twice.
    again = run.manage("seed_demo").stdout
    assert "10 already there" in again and "6 already there" in again


def test_embedded_stack_without_demo_photos_starts_empty_and_signs_in(tmp_path):
    run = EmbeddedRun(tmp_path / "var", demo_photos=tmp_path / "absent")
    seeded = run.start()
    try:
        assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in seeded and "demo photos not found" in seeded
        browser, home, jar = signed_in_with_cookies(run.url)
        assert DEMO_STORE in home
        # A seller drops a folder of shots while the workers write their face checks to the same SQLite file:
        # every upload is taken, none answered "busy".
        photo = jpeg_bytes(astronaut())
        for _round in range(3):
            answers = upload_shots_at_once(browser, jar, run.url, photo, count=8)
            assert answers == [201] * 8, answers
        assert run.alive
    finally:
        output = run.stop()
    assert "gpu@" in output and "events@" in output and "webhooks@" in output
    assert "demo batch: nothing to start" in output
