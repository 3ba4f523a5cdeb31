#!/usr/bin/env bash
# A PNG screenshot of a Snakemake report (report.html) taken with headless Chromium.
#
#   tools/screenshot_report.sh [REPORT.html] [SCREENSHOT.png] [VIEW] [WIDTH,HEIGHT]
#
# Defaults: report.html, report.png, the landing page, 1400,1000. VIEW opens one view of
# the report first: a category (a glacier's name: its list of results), a result's path
# (e.g. results/demo/plots/position.png: the result with its caption) or `statistics`
# (the run's job statistics). The report is a JavaScript app with no addresses for its
# views, so the view is opened by a few lines of script added to a temporary copy of the
# report; Chromium gets a virtual time budget so that the screenshot shows the rendered
# page, not the loading screen.
# Chromium: Debian's `apt-get install chromium` (or set CHROMIUM to the browser's binary).
set -euo pipefail

report=${1:-report.html}
screenshot=${2:-report.png}
view=${3:-}
window=${4:-1400,1000}

browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [[ -z "$browser" ]]; then
    echo "no Chromium found: apt-get install chromium, or set CHROMIUM" >&2
    exit 1
fi
if [[ ! -s "$report" ]]; then
    echo "no report at $report: make it with snakemake --cores 1 --report $report" >&2
    exit 1
fi

if [[ ! "$window" =~ ^[0-9]+,[0-9]+$ ]]; then
    echo "WIDTH,HEIGHT '$window' is not two numbers, e.g. 1400,1000" >&2
    exit 1
fi
if [[ ! "$view" =~ ^[A-Za-z0-9_./-]*$ ]]; then
    echo "VIEW '$view' is not a category, a result path or 'statistics'" >&2
    exit 1
fi
screenshot=$(realpath -m "$screenshot")
# A private folder for the browser profile and the report's copy: no clash with a running
# browser or another screenshot.
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
page="$workdir/report.html"
# The report fills the browser's viewport (CSS h-screen), which headless Chromium makes
# shorter than the window it screenshots: the page is given the whole window's height.
# Transitions are switched off so the screenshot never catches the sidebar mid-way.
height=${window#*,}
# `app`, `results` and `categories` are the report's own global variables.
opener="<style>.h-screen{height:${height}px !important}
*{transition:none !important;animation:none !important}</style>
<script>setTimeout(function () {
  var view = '$view';
  if (view === 'statistics') { app.setView({content: 'stats'}); }
  else if (view in results) {
    var entry = results[view];
    app.setView({navbarMode: 'resultinfo', resultPath: view, contentPath: entry.data_uri,
                 content: entry.mime_type.startsWith('image/') ? 'img' : 'html'});
  } else if (view in categories) { app.showCategory(view); }
}, 200);</script>"
# Inserted before the last </body> (the results inside are base64: they have none).
python3 - "$report" "$page" "$opener" "$view" <<'PYTHON'
import sys
source, target, opener, view = sys.argv[1:]
text = open(source, encoding="utf-8").read()
# Results and categories are JSON keys in the report's data.
if view not in ("", "statistics") and f'"{view}": {{' not in text:
    sys.exit(f"{source} has no category or result {view!r}")
cut = text.rindex("</body>")
open(target, "w", encoding="utf-8").write(text[:cut] + opener + text[cut:])
PYTHON

"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$workdir/profile" --virtual-time-budget=10000 \
    --window-size="$window" --screenshot="$screenshot" "file://$page" 2>"$workdir/chromium.log" || {
    cat "$workdir/chromium.log" >&2
    exit 1
}
if [[ ! -s "$screenshot" ]]; then
    cat "$workdir/chromium.log" >&2
    echo "Chromium wrote no screenshot" >&2
    exit 1
fi
echo "$screenshot"
