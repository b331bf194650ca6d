#!/usr/bin/env bash
# Vendors the built accessible-autocomplete component (minified JS and CSS) into static/accessible-autocomplete/.
# Usage: bash scripts/refresh_accessible_autocomplete.sh [VERSION]
# The portal's static/portal/autocomplete.js enhances <select data-module="autocomplete"> with it.
set -euo pipefail

VERSION="${1:-3.0.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/accessible-autocomplete"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "accessible-autocomplete@$VERSION" > /dev/null
tar xzf "accessible-autocomplete-$VERSION.tgz"
DIST="$WORK/package/dist"

rm -rf "$DEST"
mkdir -p "$DEST"
# The source maps are not vendored: a reference to one would fail collectstatic's manifest.
sed -E 's@//# sourceMappingURL=[^ ]*$@@' "$DIST/accessible-autocomplete.min.js" > "$DEST/accessible-autocomplete.min.js"
sed -E 's@/\*# sourceMappingURL=[^*]*\*/@@' "$DIST/accessible-autocomplete.min.css" > "$DEST/accessible-autocomplete.min.css"
cp "$WORK/package/LICENSE.txt" "$DEST/LICENCE.txt" 2>/dev/null || cp "$WORK/package/LICENSE" "$DEST/LICENCE.txt"
echo "$VERSION" > "$DEST/VERSION"
echo "Vendored accessible-autocomplete $VERSION into static/accessible-autocomplete/"
