#!/usr/bin/env bash
# Installs the system packages ace-web and its tests need, only those missing.
#   scripts/install-deps.sh run    # what `ace-web serve` needs: Chromium and its headless shell
#   scripts/install-deps.sh test   # also promtool (metrics check), Node.js for CDP clients, warcio and
#                                  # wacz (PyPI), and the official Firecrawl SDKs (Python and JS) under
#                                  # ~/.cache/ace-web/sdk
set -euo pipefail
want=(chromium chromium-headless-shell)
[[ "${1:-run}" == test ]] && want+=(prometheus nodejs npm)
missing=()
for pkg in "${want[@]}"; do
  case "$pkg" in
    chromium)   command -v chromium >/dev/null || missing+=(chromium) ;;
    chromium-headless-shell) command -v chromium-headless-shell >/dev/null || missing+=(chromium-headless-shell) ;;
    prometheus) command -v promtool >/dev/null || missing+=(prometheus) ;;
    nodejs)     command -v node >/dev/null || missing+=(nodejs) ;;
    npm)        command -v npm >/dev/null || missing+=(npm) ;;
  esac
done
sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official Firecrawl SDKs the compatibility tests drive, pinned, in a cache outside the
# tree. firecrawl-py's newest releases pin a certifi the registry may lack, so it is installed
# without dependencies and its dependencies are added by name.
if [[ "${1:-run}" == test ]]; then
  sdk="${FIRECRAWL_SDK_DIR:-$HOME/.cache/ace-web/sdk}"
  if ! "$sdk/venv/bin/python" -c 'import firecrawl' 2>/dev/null; then
    echo "installing firecrawl-py into $sdk/venv"
    python3 -m venv "$sdk/venv" 2>/dev/null || {
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$sdk/venv"
    }
    "$sdk/venv/bin/pip" install -q --no-deps firecrawl-py==4.55.0
    "$sdk/venv/bin/pip" install -q requests httpx python-dotenv websockets nest-asyncio pydantic aiohttp certifi
  fi
  if [[ ! -f "$sdk/node/node_modules/@mendable/firecrawl-js/package.json" ]]; then
    echo "installing @mendable/firecrawl-js into $sdk/node"
    mkdir -p "$sdk/node"
    (cd "$sdk/node" && npm install --silent --no-audit --no-fund --prefix . @mendable/firecrawl-js@4.42.0)
  fi
fi

# The replicator's tests check its archives with the reference tools from PyPI.
if [[ "${1:-run}" == test ]] && ! { command -v warcio >/dev/null && command -v wacz >/dev/null; }; then
  echo "installing from PyPI: warcio wacz"
  python3 -m pip install -q --break-system-packages warcio wacz 2>/dev/null || python3 -m pip install -q warcio wacz
fi
