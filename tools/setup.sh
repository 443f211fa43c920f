#!/usr/bin/env bash
# Makes a fresh Debian bookworm machine ready to build, test and run MultiGrain-WebGPU:
# a Vulkan driver for Dawn (lavapipe from bookworm-backports: the stock Mesa 22 lacks
# shaderUniform*ArrayDynamicIndexing), Chromium for the browser test, the Fashion-MNIST
# default data set, a C++ toolchain for the one native npm dependency, then the npm
# dependencies. Idempotent and quiet when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

lavapipe_ok() {
  ldconfig -p | grep -q 'libvulkan.so.1' || return 1
  local icd
  icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n1) || return 1
  [ -n "$icd" ] || return 1
  # Mesa >= 23 is needed; bookworm's 22.x lacks the features Dawn requires.
  local ver
  ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)
  dpkg --compare-versions "$ver" ge 23 
}

if ! lavapipe_ok; then
  echo "setup: installing Vulkan (lavapipe) from bookworm-backports"
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
  fi
  apt_updated=0
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports libvulkan1 mesa-vulkan-drivers >/dev/null
fi

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# hnswlib-node (the approximate search index) compiles with node-gyp at npm install.
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt_install "${need[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ready"
