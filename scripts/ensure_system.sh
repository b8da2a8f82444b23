#!/usr/bin/env bash
# Install the Debian packages Kouan needs when they are missing (idempotent, quiet when present).
#   fonts-wqy-zenhei  CJK glyphs for overlays and contact sheets (plates: 蒙A·12345)
#   fonts-dejavu-core Cyrillic glyphs for synthetic Mongolian plates
#   fonts-roboto-unhinted, fonts-paratype, fonts-liberation
#                     narrow plate-like faces (Roboto Condensed, PT Sans Narrow, Liberation Sans
#                     Narrow) the Mongolian plate generator draws with; plate_rec_mn v2 was
#                     trained on them
#   nats-server       the alarm bus (real NATS JetStream in tests; private instances for fault tests)
#   postgresql        the review-queue database in tests
#   chromium          headless browser for the review UI tests
set -euo pipefail
pkgs=(fonts-wqy-zenhei fonts-dejavu-core fonts-roboto-unhinted fonts-paratype fonts-liberation
      nats-server postgresql chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
}
