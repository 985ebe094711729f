#!/usr/bin/env bash
# Installs the system packages ace-web and its tests need, only those missing.
#   scripts/install-deps.sh run    # what `ace-web serve` needs: Chromium
#   scripts/install-deps.sh test   # also promtool (metrics check), Node.js for CDP clients, warcio and wacz (PyPI)
set -euo pipefail
want=(chromium)
[[ "${1:-run}" == test ]] && want+=(prometheus nodejs npm)
missing=()
for pkg in "${want[@]}"; do
  case "$pkg" in
    chromium)   command -v chromium >/dev/null || missing+=(chromium) ;;
    prometheus) command -v promtool >/dev/null || missing+=(prometheus) ;;
    nodejs)     command -v node >/dev/null || missing+=(nodejs) ;;
    npm)        command -v npm >/dev/null || missing+=(npm) ;;
  esac
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The replicator's tests check its archives with the reference tools from PyPI.
if [[ "${1:-run}" == test ]] && ! { command -v warcio >/dev/null && command -v wacz >/dev/null; }; then
  echo "installing from PyPI: warcio wacz"
  python3 -m pip install -q --break-system-packages warcio wacz 2>/dev/null || python3 -m pip install -q warcio wacz
fi
