#!/usr/bin/env bash
# Builds the web app (app/, Leptos compiled to WASM) into dist/, which `littlepbx serve` serves.
# Works offline once the toolchain is there; installs what is missing (the wasm32 target and the
# wasm-bindgen CLI from crates.io; wasm-opt from npm's binaryen@132 when npm is there).
#
#   scripts/build-app.sh            # dist/ (or $LITTLEPBX_WEB_DIR)
#   LITTLEPBX_NO_WASM_OPT=1 scripts/build-app.sh   # skip wasm-opt
#
# Output: dist/index.html (never cached), and content-hashed files that may be cached forever, each
# with a .gz beside it (served precompressed): dist/app.<hash>.css, dist/boot.<hash>.js (picks the
# bundle by path), and two builds of the app in dist/pkg/: `org` (the org admins' pages, without
# the admin demo: what org admins load) and `full` (with the provider's admin demo page and the
# History and Desk phones pages, loaded on /admin-demo, /history and /desk-phones only; feature
# `demo-bundle` leaves out the org-only PBX, Phones and Statistics pages, whose paths load the org
# bundle instead). Prints the gzip sizes; fails when a bundle's WASM + JS + CSS exceed 400 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

out=${LITTLEPBX_WEB_DIR:-dist}
budget=400000 # bytes: 400 KB, counted in thousands

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

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/pkg"

# wasm-opt: only npm's binaryen@132 (Debian's binaryen 108 produces a module that breaks).
wasm_opt=target/tools/node_modules/.bin/wasm-opt
if [ -z "${LITTLEPBX_NO_WASM_OPT:-}" ] && [ ! -x "$wasm_opt" ] && command -v npm >/dev/null; then
  echo "==> installing wasm-opt (npm binaryen@132) into target/tools" >&2
  mkdir -p target/tools
  npm install --silent --no-audit --no-fund --prefix target/tools binaryen@132 >&2 || echo "(wasm-opt not available: skipped)" >&2
fi

hash16() { sha256sum "$1" | cut -c1-16; }

# build_bundle NAME [CARGO FLAGS...]: the app compiled to $stage/pkg/NAME.<hash>.js and
# NAME_bg.<hash>.wasm (content-hashed: a new build never meets a stale cached copy). Sets
# bundle_js and bundle_wasm to their names.
build_bundle() {
  local name=$1; shift
  echo "==> cargo build -p app $* (wasm32, release-app profile): the $name bundle" >&2
  # erase_components: Leptos erases component view types, which makes the module ~8% smaller.
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components" \
    cargo build -p app --target wasm32-unknown-unknown --profile release-app "$@"
  local out=$stage/bind-$name
  wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "$name" \
    target/wasm32-unknown-unknown/release-app/app.wasm
  if [ -z "${LITTLEPBX_NO_WASM_OPT:-}" ] && [ -x "$wasm_opt" ]; then
    local before
    before=$(stat -c %s "$out/${name}_bg.wasm")
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-reference-types \
      --enable-sign-ext --enable-multivalue --enable-mutable-globals \
      -o "$out/opt.wasm" "$out/${name}_bg.wasm"
    mv "$out/opt.wasm" "$out/${name}_bg.wasm"
    echo "    wasm-opt -Oz: $before -> $(stat -c %s "$out/${name}_bg.wasm") bytes" >&2
  else
    echo "    (wasm-opt not used)" >&2
  fi
  if [ -d "$out/snippets" ]; then cp -r "$out/snippets" "$stage/pkg/"; fi
  bundle_wasm="${name}_bg.$(hash16 "$out/${name}_bg.wasm").wasm"
  bundle_js="$name.$(hash16 "$out/$name.js").js"
  mv "$out/${name}_bg.wasm" "$stage/pkg/$bundle_wasm"
  mv "$out/$name.js" "$stage/pkg/$bundle_js"
}

# The org admins' pages (what every org admin loads), and the app with the provider's admin demo
# page, loaded on /admin-demo only (without the org-only pages: feature demo-bundle).
build_bundle org --no-default-features
org_js=$bundle_js org_wasm=$bundle_wasm
build_bundle full --features demo-bundle
full_js=$bundle_js full_wasm=$bundle_wasm

cat style/*.css > "$stage/app.css"
css_name="app.$(hash16 "$stage/app.css").css"
mv "$stage/app.css" "$stage/$css_name"
cat > "$stage/boot.js" <<BOOT
// Chooses the bundle: the admin demo, History and Desk phones pages are only in the full one.
const under = (p) => location.pathname === p || location.pathname.startsWith(p + "/");
const full = under("/admin-demo") || under("/history") || under("/desk-phones");
const [js, wasm] = full
  ? ["/pkg/$full_js", "/pkg/$full_wasm"]
  : ["/pkg/$org_js", "/pkg/$org_wasm"];
const { default: init } = await import(js);
await init({ module_or_path: wasm });
BOOT
boot_name="boot.$(hash16 "$stage/boot.js").js"
mv "$stage/boot.js" "$stage/$boot_name"
sed -e "s|@CSS@|$css_name|; s|@BOOT@|$boot_name|" app/index.html > "$stage/index.html"
rm -rf "$stage"/bind-*

# Precompressed copies, served when the browser accepts gzip: zopfli writes standard gzip,
# about 5% smaller than gzip -9 (once per build, a few seconds).
ensure_debian_packages zopfli zopfli
find "$stage" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' \) \
  -exec zopfli --gzip {} \;

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
printf '==> built %s\n' "$out" >&2
printf '    %-36s %9s %9s\n' file raw gzip >&2
for f in pkg/$org_wasm pkg/$org_js pkg/$full_wasm pkg/$full_js $css_name $boot_name index.html; do
  printf '    %-36s %9d %9d\n' "$f" "$(raw "$out/$f")" "$(gz "$out/$f")" >&2
done
over=no
for bundle in "org:$org_wasm:$org_js" "full:$full_wasm:$full_js"; do
  IFS=: read -r name wasm js <<< "$bundle"
  total=$(( $(gz "$out/pkg/$wasm") + $(gz "$out/pkg/$js") + $(gz "$out/$css_name") + $(gz "$out/$boot_name") ))
  what=$([ "$name" = org ] && echo "org admins' pages" || echo "with the admin demo, History and Desk phones")
  printf '    %-20s WASM + JS + CSS gzip: %d bytes (%d KB; budget 400 KB)\n' "$name ($what)" "$total" $((total / 1000)) >&2
  if [ "$total" -gt "$budget" ]; then over=yes; fi
done
if [ "$over" = yes ]; then
  echo "the web app is over its size budget" >&2
  exit 1
fi
