"""PDF documents (a region's Board pack, a letter to an organisation), made on the server by WeasyPrint.

A page is rendered to HTML by the ordinary template, then laid out here with the fonts shipped in
``static/fonts`` (so a PDF does not depend on the server's fonts). WeasyPrint fetches nothing over
the network: only files under ``static/`` may be read; anything else a document asks for is refused.
"""

from pathlib import Path

from django.conf import settings

FONTS = Path(settings.BASE_DIR) / "static" / "fonts"
STATIC = Path(settings.BASE_DIR) / "static"

FONT_CSS = f"""
@font-face {{ font-family: "Portal Sans"; src: url("{(FONTS / "DejaVuSans.ttf").as_uri()}"); font-weight: normal; }}
@font-face {{ font-family: "Portal Sans"; src: url("{(FONTS / "DejaVuSans-Bold.ttf").as_uri()}"); font-weight: bold; }}
@page {{ size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-right {{ content: "Page " counter(page) " of " counter(pages); font-size: 8pt; }} }}
html {{ font-family: "Portal Sans", sans-serif; font-size: 10pt; line-height: 1.35; color: #212b32; }}
"""


class RefusedFetch(Exception):
    """A document asked for something outside the portal's static files (it stops the document)."""


def _local_fetcher():
    """A WeasyPrint fetcher that reads only the portal's static files; anything else stops the document."""
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://"):
                path = Path(url[len("file://") :].split("?")[0]).resolve()
                if path.is_relative_to(STATIC.resolve()):
                    return super().fetch(url, headers)
            raise RefusedFetch(f"A PDF document may only use the portal's own files, not {url[:200]}")

    return LocalOnly(allowed_protocols=("file", "data"), fail_on_errors=True)


def render_pdf(html, stylesheet=""):
    """The PDF (bytes) of an HTML document, with the portal's fonts and ``stylesheet`` (CSS text) applied."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _local_fetcher()
    fonts = FontConfiguration()
    styles = [CSS(string=FONT_CSS, font_config=fonts, url_fetcher=fetcher)]
    if stylesheet:
        styles.append(CSS(string=stylesheet, font_config=fonts, url_fetcher=fetcher))
    try:
        document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(stylesheets=styles, font_config=fonts)
    except FatalURLFetchingError as error:
        raise RefusedFetch(str(error.__cause__ or error)) from error
