# Shared by scripts/start and scripts/test: installs what is missing, idempotently.
# Source it; every function is safe to call again.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build output and tools live outside the clone, so a fresh clone reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aegis/target}"
AEGIS_TOOLS="${AEGIS_TOOLS:-$HOME/.cache/aegis/tools}"
export PATH="$HOME/.cargo/bin:$AEGIS_TOOLS/node_modules/.bin:$PATH"

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132.0.0

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return; fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 25 minutes, once)"
  # 0.3.11's lock needs a newer rustc; LTO off keeps the build inside memory and time.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
}

# cargo-leptos runs wasm-bindgen and, if the one on PATH differs from Cargo.lock's, downloads
# one, which cannot work here. The published lock of wasm-bindgen-cli pins a webpki-roots the
# registry lacks, so it is built from its source with that one dependency moved back.
ensure_wasm_bindgen() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return; fi
  say "installing wasm-bindgen-cli $want (about 5 minutes, once)"
  cargo install wasm-bindgen-cli --version "$want" --locked >/dev/null 2>&1 || true
  local src
  src="$(ls -d "$HOME"/.cargo/registry/src/*/wasm-bindgen-cli-"$want" | head -n 1)"
  local work
  work="$(mktemp -d)"
  cp -r "$src" "$work/cli"
  (cd "$work/cli" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked)
  rm -rf "$work"
}

# wasm-opt runs on release builds. Debian's binaryen is too old (the page never hydrates).
ensure_wasm_opt() {
  if wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then return; fi
  say "installing binaryen $BINARYEN_VERSION from npm"
  mkdir -p "$AEGIS_TOOLS"
  npm install --prefix "$AEGIS_TOOLS" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
}

ensure_chromium() {
  command -v chromium >/dev/null && return
  say "installing Chromium for the browser tests"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}

ensure_end2end_packages() {
  [ -d "$ROOT/end2end/node_modules/playwright-core" ] && return
  say "installing the browser-test packages"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund >/dev/null)
}

# Python packages the tests use as independent counterparts: aiosmtpd, a real SMTP server for
# the alert-email tests, and standardwebhooks, the spec's reference verifier for signatures.
ensure_python_test_packages() {
  python3 -c 'import aiosmtpd, standardwebhooks, pyotp' 2>/dev/null && return
  say "installing aiosmtpd, standardwebhooks and pyotp (test counterparts, from PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    'aiosmtpd==1.4.6' 'standardwebhooks==1.1.0' 'pyotp==2.9.0'
}

ensure_postgres() {
  pg_isready -h 127.0.0.1 -p 5432 -q && return
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && return; sleep 1; done
  echo "PostgreSQL did not start" >&2
  return 1
}

# Two tests share state between nodes through Redis; start it as the machine's setup does.
ensure_redis() {
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 1; done
  echo "Redis did not start" >&2
  return 1
}

ensure_build_tools() {
  ensure_wasm_target
  ensure_cargo_leptos
  ensure_wasm_bindgen
}
