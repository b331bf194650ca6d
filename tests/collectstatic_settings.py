"""Settings for the collectstatic test: the base settings and their static files storage, compressing only the
stylesheets.

The storage (WhiteNoise's compressed manifest storage) hashes every file and rewrites the references between
them, refusing a stylesheet that names a missing file; then it compresses each file twice (Brotli and gzip).
Compressing the 23 MB of scripts, source maps and fonts that the API documentation and the PDF fonts bring took
nearly all of the test's 45 seconds and can fail for no reason the test is about; the stylesheets are still
compressed, so that the storage's last step is run too.
"""

from whitenoise.compress import Compressor

from nhs_joint.settings.base import *  # noqa: F403

WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *Compressor.SKIP_COMPRESS_EXTENSIONS,
    *("js", "mjs", "map", "ttf", "otf", "eot", "svg", "ico", "json", "html", "txt", "md"),
]
