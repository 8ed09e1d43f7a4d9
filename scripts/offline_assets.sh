#!/usr/bin/env bash
# Install MathJax 3 and the ipywidgets HTML manager from the npm registry (versions pinned
# in package.json / package-lock.json) and copy the files the built book serves into
# _offline/, which _config.yml ships with html_extra_path. No page then loads a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "error: npm (Node.js) is needed to fetch MathJax and the widget manager" >&2; exit 1; }
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
else
  npm install --no-audit --no-fund --loglevel=error --ignore-scripts
fi
rm -rf _offline && mkdir -p _offline/mathjax _offline/widgets
mj=node_modules/mathjax/es5
cp "$mj/tex-mml-chtml.js" _offline/mathjax/
cp -r "$mj/input" "$mj/a11y" "$mj/ui" "$mj/adaptors" _offline/mathjax/
mkdir -p _offline/mathjax/output && cp -r "$mj/output/chtml" "$mj/output/chtml.js" _offline/mathjax/output/
hm=node_modules/@jupyter-widgets/html-manager/dist
cp "$hm/embed.js" "$hm"/*.woff2 "$hm"/*.woff "$hm"/*.ttf "$hm"/*.eot "$hm"/*.svg _offline/widgets/
cp "$hm/embed.js.LICENSE.txt" _offline/widgets/
echo "offline assets: $(du -sh _offline | cut -f1) in _offline/"
