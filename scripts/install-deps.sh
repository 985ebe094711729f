#!/usr/bin/env bash
# Installs the system packages ace-web and its tests need, only those missing.
#   scripts/install-deps.sh run    # what `ace-web serve` needs: Chromium
#   scripts/install-deps.sh test   # also promtool (metrics check), Node.js for CDP clients
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
