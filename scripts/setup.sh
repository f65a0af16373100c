#!/bin/sh
# Installs the project's npm dependencies (and with them the pinned Node 24) when they are missing or stale,
# cfn-lint (PyPI) for validating the AWS templates, Debian's chromium for the console's browser tests, the Go
# modules of the Kubernetes manifest validator (test/deploy/k8s-validate: the Kubernetes API types, from the Go module
# proxy) so that it builds offline later, and builds the console's front end (ui/ → ui/dist/) when its sources changed.
# POSIX sh on purpose: it runs before the project's Node exists. The stack's own binaries (Collector, Jaeger,
# S3 store, Prometheus) are built or installed by `observatory stack up`, which the tests and the demo call.
# `setup.sh product` (npm run demo, npm run ui) does only what running the product needs: npm ci and the console's
# front end. The rest serves the tests alone, and on a fresh machine it cost the demo ≈ 50 s (the Python wheel's
# virtualenv most of it).
set -eu
cd "$(dirname "$0")/.."
ONLY_PRODUCT=false
if [ "${1:-}" = product ]; then ONLY_PRODUCT=true; fi
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (installs the pinned dependencies and Node 24)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$ONLY_PRODUCT" = true ]; then
  exec node_modules/.bin/node console/build.ts
fi
CFN_LINT_VERSION=1.58.0
if ! cfn-lint --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  echo "setup: pip install cfn-lint==$CFN_LINT_VERSION" >&2
  python3 -m pip install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi
if command -v go >/dev/null 2>&1; then
  (cd test/deploy/k8s-validate && go mod download)
fi
# The console's browser tests drive the system Chromium (nothing downloads a browser).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get install chromium (for the console's browser tests)" >&2
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else
    echo "setup: chromium is missing; the console's browser tests (test/console) need it: apt-get install chromium" >&2
  fi
fi
# The Python tracker (python/): built into a wheel and installed with pytest into a virtualenv under .observatory/,
# rebuilt when python/'s sources change (the stamp is their hash, the package version among them). Its tests
# (test/tracker/python.test.ts) run pytest from that virtualenv.
PY_VENV=.observatory/python/venv
PY_STAMP=$(find python -type f \( -name '*.py' -o -name '*.json' -o -name '*.toml' -o -name 'py.typed' \) -not -path '*/build/*' | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
if [ "$(cat "$PY_VENV/.stamp" 2>/dev/null)" != "$PY_STAMP" ]; then
  echo "setup: build the Python tracker's wheel and install it into $PY_VENV" >&2
  rm -rf "$PY_VENV" .observatory/python/dist
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check pytest==9.2.0
  "$PY_VENV/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w .observatory/python/dist ./python
  rm -rf python/build python/observatory.egg-info
  "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check .observatory/python/dist/observatory-*.whl
  echo "$PY_STAMP" > "$PY_VENV/.stamp"
fi
node_modules/.bin/node console/build.ts
