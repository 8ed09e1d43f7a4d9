#!/usr/bin/env bash
# Install everything the book needs into .venv (Python) and _offline/ (MathJax and the
# widget manager, from npm), then build the HTML book, executing every chapter.
# Warnings are errors: a broken reference or a failing cell fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
start=$SECONDS
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "is neither a file nor a directory" || true
.venv/bin/python -c "import mtlib, jupyter_book, sphinx_proof, numba, ot" \
  || { echo "error: the Python install into .venv failed" >&2; exit 1; }
bash scripts/offline_assets.sh
echo "installed in $((SECONDS - start)) s"
build_start=$SECONDS
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$root/.numba_cache}
.venv/bin/jupyter-book build . --warningiserror --nitpick --keep-going --quiet
echo "built in $((SECONDS - build_start)) s"
echo "The book: $root/_build/html/index.html"
