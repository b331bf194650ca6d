"""Full-page screenshots of the portal's main pages on a phone (375 px) and a desktop (1280 px), for docs/screenshots/.

    .venv/bin/python manage.py seed_demo          # the demonstration data, once (and run the reports, for findings)
    .venv/bin/python scripts/screenshots.py       # starts the portal on 127.0.0.1, signs in, writes the PNGs

With ``--base-url http://127.0.0.1:8000`` it uses a portal already running there (scripts/run.sh) instead.
It drives the machine's Chromium (CHROMIUM_PATH, /usr/bin/chromium by default) with the browser tests' flags,
and only ever talks to the loopback address it is given. The images are reduced to 256 colours to stay small.
"""

import argparse
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (the browser tests' launch)

WIDTHS = (375, 1280)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def pages(region, programme):
    return {
        "programmes-list": "/programmes/",
        "programme": f"/programmes/{programme}/",
        "london-dashboard": f"/regions/{region}/",
        "findings-list": "/findings/",
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"screenshots: the portal did not answer at {url} within {seconds} seconds")


def start_portal():
    # The pages ask for the collected, hashed static files (as scripts/run.sh collects them).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, check=True
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url)
    except BaseException:
        server.terminate()
        raise
    return server, url


def small_png(png):
    """The PNG in at most 256 colours (text and flat colours survive; the file is a fraction of the size)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return out.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", help="a portal already running on a loopback address")
    parser.add_argument("--username", default="director.demo")
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "joint-working-2018"))
    parser.add_argument("--region", default="Y56", help="the region whose dashboard is shown (London)")
    parser.add_argument("--programme", default="urgent-emergency-care", help="the programme whose page is shown")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()

    server = None
    if args.base_url:
        url = args.base_url.rstrip("/")
        if urlsplit(url).hostname not in LOOPBACK:
            raise SystemExit("screenshots: give a loopback address (127.0.0.1, localhost or [::1])")
    else:
        server, url = start_portal()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            for width in WIDTHS:
                context = browser.new_context(base_url=url, viewport={"width": width, "height": 900})
                page = context.new_page()
                page.goto("/accounts/login/?next=/")
                page.get_by_label("Username").fill(args.username)
                page.get_by_label("Password").fill(args.password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda address: "/accounts/login/" not in address)
                for name, path in pages(args.region, args.programme).items():
                    response = page.goto(path)
                    if response.status != 200:
                        raise SystemExit(f"screenshots: {path} answered {response.status}")
                    page.wait_for_load_state("networkidle")
                    target = out / f"{name}-{width}.png"
                    target.write_bytes(small_png(page.screenshot(full_page=True)))
                    print(f"screenshots: {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KB)")
                context.close()
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
