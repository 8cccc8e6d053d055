#!/usr/bin/env bash
# The project's whole test: raad/ is the export of nbs/, notebooks are clean, README is generated, then nbdev_test and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r raad "$tmp/raad"; nbdev_export
if ! diff -r -x __pycache__ "$tmp/raad" raad; then echo "FAIL: raad/ is not the export of nbs/ (run nbdev_export and commit)"; exit 1; fi
cp -r nbs "$tmp/nbs"; nbdev_clean
if ! diff -r "$tmp/nbs" nbs; then echo "FAIL: notebooks are not clean (run nbdev_clean and commit)"; exit 1; fi
python tools/make_readme.py --check
OMP_NUM_THREADS=1 nbdev_test --n_workers 2   # two notebooks at a time, one thread each (oversubscribed threads are many times slower)
# two workers, one thread each; a test file (or group of files) runs whole on one worker, the longest first (tests/conftest.py;
# --no-loadscope-reorder keeps that order instead of pytest-xdist's, which starts with the groups of most tests)
OMP_NUM_THREADS=1 python -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder tests
