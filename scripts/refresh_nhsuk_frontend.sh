#!/usr/bin/env bash
# Vendors the built NHS.UK frontend (CSS, JS and assets) into static/nhsuk/.
# Usage: bash scripts/refresh_nhsuk_frontend.sh [VERSION]
# The version must match the nhsuk-frontend-jinja macros in requirements.txt
# (their README has the table: nhsuk-frontend 10.6.1 goes with nhsuk-frontend-jinja 0.10.2).
set -euo pipefail

VERSION="${1:-10.6.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/nhsuk"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "nhsuk-frontend@$VERSION" > /dev/null
tar xzf "nhsuk-frontend-$VERSION.tgz"
DIST="$WORK/package/dist/nhsuk"

rm -rf "$DEST"
mkdir -p "$DEST"
# The stylesheet loads the Frutiger web font from a CDN; the portal uses no CDN, so
# those @font-face rules are removed and pages fall back to Arial, as the design system allows.
python3 - "$DIST/nhsuk-frontend.min.css" "$DEST/nhsuk-frontend.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css, removed = re.subn(r"@font-face\{[^}]*https?://[^}]*\}", "", css)
# The source map is not vendored: a reference to it would fail collectstatic's manifest.
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
if re.search(r"url\(https?://", css):
    sys.exit("the stylesheet still refers to another site: check the refresh script")
open(sys.argv[2], "w", encoding="utf-8").write(css)
print(f"removed {removed} @font-face rules that loaded fonts from a CDN")
PY
sed -E 's@//# sourceMappingURL=[^ ]*$@@' "$DIST/nhsuk-frontend.min.js" > "$DEST/nhsuk-frontend.min.js"
cp -R "$DIST/assets" "$DEST/assets"
echo "$VERSION" > "$DEST/VERSION"
echo "Vendored nhsuk-frontend $VERSION into static/nhsuk/"
