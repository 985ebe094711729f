#!/usr/bin/env bash
# The replica fixture (fixtures/src/replica_sites.rs: content and images injected by script,
# lazy images, web fonts, an @import chain, srcset, inline styles, an iframe, assets with
# query strings, a font loaded from CSS loaded from JavaScript, an asset and a beacon on a
# second host) copied by `ace-web replicate --render`, by `ace-web replicate` (HTTP only) and
# by `wget --mirror --convert-links --page-requisites --adjust-extension`, then the project's
# QA applied to the same pages of each copy.
# Usage: bench/replicate-fixture.sh    (ACE_BIN=path/to/ace-web to use a given build)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wget >/dev/null || { echo "wget is missing (apt-get install wget)" >&2; exit 1; }
if [[ -z "${ACE_BIN:-}" ]]; then
  cargo build --release --locked --bin ace-web >/dev/null 2>&1 || { echo "release build failed: run cargo build --release" >&2; exit 1; }
  ACE_BIN="$PWD/target/release/ace-web"
fi
cargo build --release --locked -p ace-fixtures --example replica_site >/dev/null 2>&1 || { echo "fixture build failed" >&2; exit 1; }

work=$(mktemp -d)
mkfifo "$work/hold"
target/release/examples/replica_site < "$work/hold" > "$work/url" &
site_pid=$!
exec 3>"$work/hold"   # the fixture serves until this closes
trap 'exec 3>&-; wait $site_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [[ -s "$work/url" ]] && break; sleep 0.1; done
url=$(head -1 "$work/url")
echo "fixture at $url"

export ACE_ALLOW_PRIVATE_NETWORKS=1
"$ACE_BIN" replicate "$url" --render --out "$work/rendered" >/dev/null 2>"$work/rendered.err" || { cat "$work/rendered.err"; exit 1; }
"$ACE_BIN" replicate "$url" --out "$work/static" >/dev/null 2>"$work/static.err" || { cat "$work/static.err"; exit 1; }
wget --mirror --convert-links --page-requisites --adjust-extension --no-host-directories -e robots=off -q -P "$work/wget" "$url" || true

# Every copy puts /replica/ at replica/index.html and /replica/page2.html at replica/page2.html.
for name in rendered static wget; do
  "$ACE_BIN" replicate "$url" --check-copy "$work/$name" --qa-page /replica/=replica/index.html \
    --qa-page /replica/page2.html=replica/page2.html --out "$work/qa-$name" > "$work/qa-$name.json" 2>"$work/qa-$name.err" \
    || { echo "QA $name failed: $(tail -1 "$work/qa-$name.err")"; continue; }
  python3 - "$name" "$work/qa-$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
qa = json.load(open(path))
for p in qa["pages"]:
    print(f"{name:9} {p['url'].split('/', 3)[-1]:20} pixels {p['pixelMatch']:.4f} text {p['textSimilarity']:.4f} "
          f"escaped {len(p['escaped'])} missing {len(p['missing'])} kept in {len(p['contained'])}")
    for u in p["escaped"]:
        print(f"{'':9}   escaped: {u}")
    for u in p["missing"]:
        print(f"{'':9}   missing: {u}")
for page, err in qa["errors"]:
    print(f"{name:9} {page}: QA error {err}")
PY
done
