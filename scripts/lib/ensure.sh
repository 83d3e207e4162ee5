# Shared by the scripts: install what is missing, from Debian's packages, crates.io, npm or PyPI.
# Sourced, not run.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

apt_updated=no
# ensure_debian_packages COMMAND PACKAGE [COMMAND PACKAGE...]: installs PACKAGE when COMMAND is missing.
ensure_debian_packages() {
  local missing=()
  while [ $# -gt 1 ]; do
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing+=("$2")
    shift 2
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]} from Debian's packages" >&2
  if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The WASM toolchain of the web app: the rustup target and the wasm-bindgen CLI matching the
# wasm-bindgen crate version pinned in app/Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
ensure_wasm_toolchain() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "==> adding the wasm32-unknown-unknown target" >&2
    rustup target add wasm32-unknown-unknown >&2
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    echo "==> installing wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io (a few minutes, once)" >&2
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" >&2
  fi
}
