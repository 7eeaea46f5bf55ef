#!/usr/bin/env bash
# Installs the system packages the tests need (real Dovecot and Postfix, Chromium, fonts, openssl).
# Idempotent: when everything is installed it only asks dpkg and exits. Installing the packages does
# not start the system Dovecot or Postfix; the tests run private instances (e2e/mailserver/).
set -euo pipefail

packages=(
  dovecot-imapd
  dovecot-pop3d
  dovecot-lmtpd
  postfix
  chromium
  fonts-noto-cjk
  fonts-noto-color-emoji
  openssl
)

missing=()
for package in "${packages[@]}"; do
  # "install ok installed" is dpkg's status of a fully installed package (not just unpacked or removed).
  status=$(dpkg-query --show --showformat='${Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "e2e/install-test-deps.sh: missing packages: ${missing[*]}" >&2
  echo "Install them as root, for example:" >&2
  echo "  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "Installing test dependencies: ${missing[*]}" >&2
# Postfix asks debconf questions unless the frontend is noninteractive.
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
