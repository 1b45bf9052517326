#!/usr/bin/env bash
# Builds @tensorflow/tfjs-node's N-API addon from source against the TensorFlow C library inside the
# PyPI wheel tensorflow-cpu (the addon's own install script downloads libtensorflow from a host that is
# unreachable here), so dev machines, CI and the training image run one libtensorflow (issue #18).
#   usage: scripts/ci/tfjs-native.sh <tfjs-node package dir> <cache dir> [--copy]
# The addon and the libraries are built once into <cache dir>/<tfjs-node>-tf<tensorflow>-<arch>/ (the
# wheel is kept in <cache dir>/wheel) and rebuilt only when one of those versions changes. The package
# then gets `lib/` and `deps/` as symlinks into that build (or as copies with --copy, for an image).
# Never touches a file the package shipped with: pnpm hard-links those from its shared store.
set -euo pipefail

TENSORFLOW_WHEEL_VERSION=2.15.1
pkg="$(cd "$1" && pwd -P)"
cache="$2"
mode="${3:---link}"

say() { printf '\033[1;34m[gplay]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[gplay] tfjs-node: %s\033[0m\n' "$*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "the wheel recipe covers Linux only; training uses the wasm backend here."
case "$(uname -m)" in
  x86_64) wheel_platform=manylinux2014_x86_64 ;;
  *) die "no tensorflow-cpu wheel recipe for $(uname -m); training uses the wasm backend here." ;;
esac

tfjs_version="$(node -p "require('$pkg/package.json').version")"
build="$cache/tfjs-node-$tfjs_version-tf$TENSORFLOW_WHEEL_VERSION-$(uname -m)"
# The addon is N-API: napi-v8 serves every Node >= 15, so the Node version is not part of the key.
addon_rel="lib/napi-v8/tfjs_binding.node"

if [ ! -f "$build/.complete" ]; then
  for tool in g++ make; do command -v "$tool" >/dev/null || die "$tool is needed to build the addon."; done
  mkdir -p "$cache/wheel"
  wheel="$(find "$cache/wheel" -name "tensorflow_cpu-$TENSORFLOW_WHEEL_VERSION-*.whl" | head -n1)"
  if [ -z "$wheel" ]; then
    say "tfjs-node: downloading tensorflow-cpu==$TENSORFLOW_WHEEL_VERSION from PyPI (~207 MB, once) for its C library"
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.11 --platform "$wheel_platform" \
      --disable-pip-version-check --progress-bar on -d "$cache/wheel" "tensorflow-cpu==$TENSORFLOW_WHEEL_VERSION" >&2 \
      || die "pip could not download tensorflow-cpu==$TENSORFLOW_WHEEL_VERSION."
    wheel="$(find "$cache/wheel" -name "tensorflow_cpu-$TENSORFLOW_WHEEL_VERSION-*.whl" | head -n1)"
  fi

  say "tfjs-node: extracting libtensorflow and the C API headers from $(basename "$wheel")"
  rm -rf "$build" && mkdir -p "$build/deps/lib" "$build/deps/include"
  python3 - "$wheel" "$build/deps" <<'PY'
import os, shutil, sys, zipfile
wheel, deps = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
# c_api.h and eager/c_api.h include only the C API and the tstring/platform headers under these.
headers = tuple("tensorflow/include/" + p for p in ("tensorflow/c/", "tensorflow/core/platform/", "tsl/platform/", "tsl/c/"))
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.endswith("/"):
            continue
        if name in libs:
            target = os.path.join(deps, "lib", os.path.basename(name))
        elif name.startswith(headers):
            target = os.path.join(deps, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
PY
  (
    cd "$build/deps/lib"
    # Debug symbols are ~160 MB of the 614 MB; the dynamic symbol table the addon links against stays.
    if command -v strip >/dev/null; then strip --strip-unneeded libtensorflow_cc.so.2 libtensorflow_framework.so.2; fi
    # The names the addon links (-ltensorflow) and tfjs-node's install script checks (so it skips its download).
    ln -sf libtensorflow_cc.so.2 libtensorflow.so
    ln -sf libtensorflow_cc.so.2 libtensorflow.so.2.9.1
    ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so
  )

  say "tfjs-node: compiling the addon (node-pre-gyp install --build-from-source, ~20 s)"
  cp -r "$pkg/binding" "$pkg/binding.gyp" "$pkg/package.json" "$build/"
  node_pre_gyp="$(node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: ['$pkg'] })")"
  # Node's headers from the running Node's install prefix (node-gyp would otherwise fetch them).
  nodedir="$(node -p 'require("node:path").dirname(require("node:path").dirname(process.execPath))')"
  [ -f "$nodedir/include/node/node_api.h" ] || die "no Node headers under $nodedir/include/node."
  # node-gyp ships inside npm; the Node on PATH may be .local/node's, which has no npm beside it.
  npm_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$npm_gyp" ] && export npm_config_node_gyp="$npm_gyp"
  (cd "$build" && npm_config_nodedir="$nodedir" node "$node_pre_gyp" install --build-from-source --loglevel=warn >&2) \
    || die "the addon did not compile (see above)."
  rm -rf "$build/build"
  touch "$build/.complete"
fi

for dir in lib deps; do
  if [ "$mode" = --copy ]; then
    rm -rf "${pkg:?}/$dir" && cp -rL "$build/$dir" "$pkg/$dir"
  elif [ "$(readlink "$pkg/$dir" 2>/dev/null || true)" != "$build/$dir" ]; then
    rm -rf "${pkg:?}/$dir" && ln -s "$build/$dir" "$pkg/$dir"
  fi
done
[ -f "$pkg/$addon_rel" ] || die "the addon is missing at $pkg/$addon_rel."
(cd "$pkg" && node -e 'const tf = require("./dist/index.js"); if (tf.getBackend() !== "tensorflow") process.exit(1)' 2>/dev/null) \
  || die "the addon was built but does not load (remove $build to rebuild)."
say "tfjs-node: native TensorFlow ready (backend \"tensorflow\", libtensorflow of tensorflow-cpu $TENSORFLOW_WHEEL_VERSION)"
