#!/usr/bin/env bash
# Installs the Debian packages the suite needs on the host, only those missing, so that a fresh
# Debian 12 machine runs the suite with no manual steps. The vm provider installs its own packages
# (QEMU, kernel) on first use.
set -euo pipefail

needed=(iproute2 containernetworking-plugins iputils-ping openssl util-linux procps curl)
missing=()
for pkg in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "multus-e2e needs these Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
