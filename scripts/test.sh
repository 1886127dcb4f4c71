#!/usr/bin/env bash
# Run every test frontdesk has. Installs what the tests need when it is missing
# (Debian packages via apt-get), so it works the same on a fresh machine and in CI.
#
#   scripts/test.sh            # format check, clippy, unit + integration + corpus tests
#
# Environment: FRONTDESK_CORPUS overrides the corpus folder (default ../shared/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# A real Dovecot (IMAP + LMTP) for the IMAP tests; the tests run it unprivileged.
command -v dovecot >/dev/null 2>&1 || need_apt+=(dovecot-imapd dovecot-lmtpd)
[ -x /usr/lib/dovecot/lmtp ] || need_apt+=(dovecot-lmtpd)
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || need_apt+=(chromium chromium-driver)  # tests/web
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v zbarimg >/dev/null 2>&1 || need_apt+=(zbar-tools)  # tests/web: reads the QR code off the screen
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing test dependencies: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# An SMTP receiver for the outbound tests (a standards-complete one from PyPI).
python3 -c 'import aiosmtpd' >/dev/null 2>&1 || python3 -m pip install -q aiosmtpd
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked --lib --bins --tests   # benches are run on their own (bench/README.md)
bash tests/packaging.sh
