#!/usr/bin/env bash
# Builds the web app (app/, Leptos compiled to WASM) into dist/, which `littlepbx serve` serves.
# Works offline once the toolchain is there; installs what is missing (the wasm32 target and the
# wasm-bindgen CLI from crates.io; wasm-opt from npm's binaryen@132 when npm is there).
#
#   scripts/build-app.sh            # dist/ (or $LITTLEPBX_WEB_DIR)
#   LITTLEPBX_NO_WASM_OPT=1 scripts/build-app.sh   # skip wasm-opt
#
# Output: dist/index.html (never cached), and content-hashed files that may be cached forever:
# dist/app.<hash>.css, dist/boot.<hash>.js, dist/pkg/app.<hash>.js, dist/pkg/app_bg.<hash>.wasm,
# each with a .gz beside it (served precompressed). Prints the gzip sizes; fails when WASM + JS +
# CSS exceed 400 KB gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

out=${LITTLEPBX_WEB_DIR:-dist}
budget=$((400 * 1024))

ensure_wasm_toolchain

# The CLI must be exactly the version of the wasm-bindgen crate the app is built with.
crate_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
cli_version=$(wasm-bindgen --version | awk '{ print $2 }')
if [ -z "$crate_version" ]; then
  echo "wasm-bindgen is not in Cargo.lock: run cargo once (cargo build -p app --target wasm32-unknown-unknown)" >&2
  cargo metadata --format-version 1 >/dev/null
  crate_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
fi
if [ "$crate_version" != "$cli_version" ]; then
  echo "wasm-bindgen CLI $cli_version does not match the wasm-bindgen crate $crate_version (app/Cargo.toml pins it)" >&2
  exit 1
fi

echo "==> cargo build -p app (wasm32, release-app profile)" >&2
# erase_components: Leptos erases component view types, which makes the module ~8% smaller.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components" \
  cargo build -p app --target wasm32-unknown-unknown --profile release-app
wasm=target/wasm32-unknown-unknown/release-app/app.wasm

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
echo "==> wasm-bindgen $cli_version" >&2
wasm-bindgen --target web --no-typescript --out-dir "$stage/pkg" --out-name app "$wasm"

# wasm-opt: only npm's binaryen@132 (Debian's binaryen 108 produces a module that breaks).
wasm_opt=target/tools/node_modules/.bin/wasm-opt
if [ -z "${LITTLEPBX_NO_WASM_OPT:-}" ] && [ ! -x "$wasm_opt" ] && command -v npm >/dev/null; then
  echo "==> installing wasm-opt (npm binaryen@132) into target/tools" >&2
  mkdir -p target/tools
  npm install --silent --no-audit --no-fund --prefix target/tools binaryen@132 >&2 || echo "(wasm-opt not available: skipped)" >&2
fi
if [ -z "${LITTLEPBX_NO_WASM_OPT:-}" ] && [ -x "$wasm_opt" ]; then
  echo "==> wasm-opt -Oz" >&2
  before=$(stat -c %s "$stage/pkg/app_bg.wasm")
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types \
    --enable-sign-ext --enable-multivalue --enable-mutable-globals \
    -o "$stage/pkg/app_bg.opt.wasm" "$stage/pkg/app_bg.wasm"
  mv "$stage/pkg/app_bg.opt.wasm" "$stage/pkg/app_bg.wasm"
  echo "    $before -> $(stat -c %s "$stage/pkg/app_bg.wasm") bytes" >&2
else
  echo "==> wasm-opt not used" >&2
fi

hash16() { sha256sum "$1" | cut -c1-16; }

# Content-hashed names: a new build never meets a stale cached copy.
wasm_name="app_bg.$(hash16 "$stage/pkg/app_bg.wasm").wasm"
mv "$stage/pkg/app_bg.wasm" "$stage/pkg/$wasm_name"
js_name="app.$(hash16 "$stage/pkg/app.js").js"
mv "$stage/pkg/app.js" "$stage/pkg/$js_name"
cat style/*.css > "$stage/app.css"
css_name="app.$(hash16 "$stage/app.css").css"
mv "$stage/app.css" "$stage/$css_name"
printf 'import init from "/pkg/%s";\ninit({ module_or_path: "/pkg/%s" });\n' "$js_name" "$wasm_name" > "$stage/boot.js"
boot_name="boot.$(hash16 "$stage/boot.js").js"
mv "$stage/boot.js" "$stage/$boot_name"
sed -e "s|@CSS@|$css_name|; s|@JS@|$js_name|; s|@WASM@|$wasm_name|; s|@BOOT@|$boot_name|" \
  app/index.html > "$stage/index.html"

# Precompressed copies, served when the browser accepts gzip.
find "$stage" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) \
  -exec gzip -9 -k -n {} \;

# Swap in the new build (the server may be serving the old one).
mkdir -p "$out"
rm -rf "$out.new"
cp -r "$stage" "$out.new"
rm -rf "$out.old"
if [ -e "$out" ]; then mv "$out" "$out.old"; fi
mv "$out.new" "$out"
rm -rf "$out.old"

gz() { stat -c %s "$1.gz"; }
raw() { stat -c %s "$1"; }
w=$out/pkg/$wasm_name j=$out/pkg/$js_name c=$out/$css_name b=$out/$boot_name
total=$(( $(gz "$w") + $(gz "$j") + $(gz "$c") + $(gz "$b") ))
printf '==> built %s\n' "$out" >&2
printf '    %-28s %9s %9s\n' file raw gzip >&2
for f in "$w" "$j" "$c" "$b" "$out/index.html"; do
  printf '    %-28s %9d %9d\n' "${f#$out/}" "$(raw "$f")" "$(gz "$f")" >&2
done
printf '    WASM + JS + CSS gzip total: %d bytes (%d KB; budget 400 KB)\n' "$total" $((total / 1024)) >&2
if [ "$total" -gt "$budget" ]; then
  echo "the web app is over its size budget" >&2
  exit 1
fi
