#!/usr/bin/env bash
# Run the whole test suite: real PostgreSQL, real Redis, a real Celery worker, Chromium.
#   scripts/test.sh            (extra arguments go to pytest, e.g. scripts/test.sh tests/test_pages.py -x)
#   scripts/test.sh --quick    the fast loop: leaves out the slow and the browser tests
#   scripts/test.sh --lint     first ruff (lint and format) and the import layers (.importlinter), as CI does
#   TEST_WORKERS=1 scripts/test.sh ...   one pytest process instead of one per core
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
lint=false
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=true; shift ;;
        --lint) lint=true; shift ;;
        *) break ;;
    esac
done

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
    echo "test: the tests need Python 3.11 or newer ($PYTHON is older); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
# pip runs only when the requirements have changed since they were last installed into the environment (the
# digest of the requirements files is kept in .venv/requirements.sha256). A copy of the repository without .venv
# (a clean clone, as CI makes) uses the environment kept for these requirements in TEST_VENV_CACHE (by default
# ~/.cache/nhs-joint-portal/venv-<digest>), made there the first time; TEST_VENV_CACHE=none makes .venv itself.
requirements_digest="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
install_requirements() {
    echo "test: installing the requirements into $1"
    "$1/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$requirements_digest" > "$1/requirements.sha256"
}
venv_cache="${TEST_VENV_CACHE:-$HOME/.cache/nhs-joint-portal}"
if [ ! -e .venv ] && [ "$venv_cache" != none ]; then
    kept="$venv_cache/venv-${requirements_digest:0:16}"
    mkdir -p "$venv_cache"
    (
        flock 9  # another run making the same environment: wait for it
        if [ "$(cat "$kept/requirements.sha256" 2>/dev/null)" != "$requirements_digest" ]; then
            rm -rf "$kept"
            "$PYTHON" -m venv "$kept"
            install_requirements "$kept"
        fi
    ) 9>"$kept.lock"
    ln -s "$kept" .venv
    echo "test: using the environment kept for these requirements ($kept)"
fi
if [ ! -x .venv/bin/python ]; then
    echo "test: creating the virtual environment in .venv"
    "$PYTHON" -m venv .venv
fi
if [ "$(cat .venv/requirements.sha256 2>/dev/null)" != "$requirements_digest" ]; then
    install_requirements .venv
else
    echo "test: the requirements are installed already"
fi

# axe-core, injected into pages by the browser tests, and oidc-provider, the OpenID Connect provider the
# sign-in tests run on 127.0.0.1 (from the npm registry, pinned by package-lock.json).
# npm runs only when package-lock.json has changed since node_modules was installed from it (its digest is kept in
# node_modules/.package-lock.sha256: by content, not by date, so a fresh checkout beside an installed one does not
# reinstall it).
lock_digest="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/oidc-provider/package.json ] \
        || [ "$(cat node_modules/.package-lock.sha256 2>/dev/null)" != "$lock_digest" ]; then
    echo "test: installing axe-core and oidc-provider"
    npm ci --no-audit --no-fund --silent
    echo "$lock_digest" > node_modules/.package-lock.sha256
fi

# The browser tests drive Debian's Chromium; a browser download is never used.
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "test: installing Chromium from Debian's packages"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y --no-install-recommends chromium >/dev/null \
        || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends chromium >/dev/null; }
fi
export CHROMIUM_PATH

# The PDF tests read documents back with pdftotext (Debian's poppler-utils); WeasyPrint, which makes
# them, needs Debian's Pango (installed with Chromium on a desktop-less machine, checked here all the same).
# grep reads all of ldconfig's list (not -q): under pipefail, grep -q leaving early makes ldconfig fail on its
# closed pipe now and then, and the packages were installed again for nothing.
if ! command -v pdftotext >/dev/null || ! ldconfig -p | grep libpango-1.0 >/dev/null; then
    echo "test: installing poppler-utils and Pango from Debian's packages"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y --no-install-recommends poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null \
        || { $SUDO apt-get update >/dev/null \
             && $SUDO apt-get install -y --no-install-recommends poppler-utils libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; }
fi

if [ "$lint" = true ]; then
    echo "test: ruff (lint and format) and the import layers"
    .venv/bin/ruff check .
    .venv/bin/ruff format --check .
    .venv/bin/lint-imports --no-cache
fi

eval "$(.venv/bin/python scripts/bootstrap.py services --tests)"
# One pytest worker per core (pytest-xdist; TEST_WORKERS=1 for one process), each on its own copy of one
# migrated template database (tests/databases.py); the browser tests, and the other tests that serve the
# portal from a live server, run one module after another on each worker (tests/conftest.py). The 25 slowest
# tests are listed at the end.
workers="${TEST_WORKERS:-auto}"
parallel=(-n "$workers" --dist loadgroup)
[ "$workers" = 1 ] && parallel=(-p no:xdist)
if [ "$quick" = true ]; then
    exec .venv/bin/pytest "${parallel[@]}" --durations=25 -m "not slow and not browser" "$@"
fi
exec .venv/bin/pytest "${parallel[@]}" --durations=25 "$@"
