#!/usr/bin/env bash
# Builds proxbalance_<version>_all.deb from this checkout, without the network: the production
# dependencies come from npm's cache, filled by the `npm ci` that a build or CI has already run.
#
#   scripts/build-deb.sh [OUTDIR]      (or `npm run deb`; default OUTDIR: build/; prints the .deb path)
#
# Needs: node and npm, a built tree (`npm ci` builds it; `npm run build` otherwise), dpkg-deb.
# No root needed: dpkg-deb --root-owner-group makes every file root:root in the package.
#
# Layout of the package:
#   /usr/lib/proxbalance/{bin,dist/src,schemas,package.json,node_modules}  the CLI, prod deps only
#   /usr/bin/proxbalance -> ../lib/proxbalance/bin/proxbalance
#   /lib/systemd/system/proxmox-balance-automigrate.{service,timer}         not enabled by install
#   /usr/share/proxbalance/config.example.json   copied by postinst to
#                                                /opt/proxmox-balance-manager/config.json if absent
#                                                (not under /usr/share/doc: minimal images drop that)
#   /usr/share/doc/proxbalance/{README.md,docs/*.md,copyright,changelog.gz}
#   /usr/share/man/man1/proxbalance.1.gz         made from the CLI's help (scripts/gen-man.mjs)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUTDIR="${1:-$ROOT/build}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"

PKG=proxbalance
VERSION="$(node -p "require('$ROOT/package.json').version")"
DESCRIPTION="$(node -p "require('$ROOT/package.json').description")"
MAINTAINER="${DEB_MAINTAINER:-proxbalance maintainers <maintainers@proxbalance.invalid>}"
DEB="$OUTDIR/${PKG}_${VERSION}_all.deb"

if [ ! -f "$ROOT/dist/src/cli/main.js" ]; then
  echo "build-deb: no dist/src/cli/main.js: run \`npm ci\` (or \`npm run build\`) first" >&2
  exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/proxbalance-deb.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/root"
LIB="$STAGE/usr/lib/$PKG"
DOC="$STAGE/usr/share/doc/$PKG"
umask 022
mkdir -p "$LIB" "$STAGE/usr/bin" "$STAGE/lib/systemd/system" "$STAGE/usr/share/$PKG" "$DOC/docs" "$STAGE/DEBIAN"

# --- the CLI and its production dependencies ------------------------------------------------------
cp -R "$ROOT/bin" "$ROOT/schemas" "$LIB/"
# The compiled module of each src/**/*.ts, and nothing else: tsc never deletes the output of a
# removed source, and source maps point at TypeScript that is not shipped.
while IFS= read -r -d '' ts; do
  rel="${ts#"$ROOT/src/"}"
  js="$ROOT/dist/src/${rel%.ts}.js"
  if [ ! -f "$js" ] || [ "$ts" -nt "$js" ]; then
    echo "build-deb: dist/src/${rel%.ts}.js is missing or older than src/$rel: run \`npm run build\`" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$LIB/dist/src/$rel")"
  cp "$js" "$LIB/dist/src/${rel%.ts}.js"
done < <(find "$ROOT/src" -name '*.ts' ! -name '*.d.ts' -print0)
# package.json stays: it makes dist/*.js ES modules ("type": "module") and gives --version.
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$LIB/"
# The lockfile's production tree, from npm's cache only (--offline: fails rather than download);
# --ignore-scripts: our own `prepare` would try to build with the dev tools left out here.
(cd "$LIB" && npm ci --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error >/dev/null) || {
  echo "build-deb: npm ci --offline failed: run \`npm ci\` in $ROOT first to fill npm's cache" >&2
  exit 1
}
rm -f "$LIB/package-lock.json" "$LIB/node_modules/.package-lock.json"
rm -rf "$LIB/node_modules/.bin"
# Type declarations, source maps, tests and the dependencies' own development files (linters,
# VCS and npm metadata, CI) are for developers: licences and code stay. lintian checks the rest.
find "$LIB/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.gitattributes' -o -name '.gitignore' -o -name '.travis.yml' \
  -o -name '.editorconfig' -o -name '.prettierrc*' -o -name '.jshintrc' -o -name '.nycrc*' -o -name '.airtap.yml' \) -delete
find "$LIB/node_modules" -depth -type d \( -name test -o -name tests -o -name spec -o -name __tests__ -o -name .github \) -exec rm -rf {} +
ln -s "../lib/$PKG/bin/$PKG" "$STAGE/usr/bin/$PKG"

# The staged CLI must run by itself: this also writes the example config.
node "$LIB/bin/$PKG" --version >/dev/null
node "$LIB/bin/$PKG" config init --config "$STAGE/usr/share/$PKG/config.example.json" >/dev/null

# --- units and docs --------------------------------------------------------------------------------
cp "$ROOT/deploy/proxmox-balance-automigrate.service" "$ROOT/deploy/proxmox-balance-automigrate.timer" "$STAGE/lib/systemd/system/"
cp "$ROOT/README.md" "$DOC/"
# The Debian changelog (a native package: changelog.gz) must name the version being built.
top="$(sed -n '1s/^proxbalance (\([^)]*\)).*/\1/p' "$ROOT/deploy/debian/changelog")"
if [ "$top" != "$VERSION" ]; then
  echo "build-deb: deploy/debian/changelog starts with $top, package.json says $VERSION: add an entry" >&2
  exit 1
fi
gzip -9n <"$ROOT/deploy/debian/changelog" >"$DOC/changelog.gz"
# proxbalance(1), made from the staged CLI's own help.
mkdir -p "$STAGE/usr/share/man/man1" "$STAGE/usr/share/lintian/overrides"
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}" \
  node "$ROOT/scripts/gen-man.mjs" "$LIB/dist/src/cli/main.js" | gzip -9n >"$STAGE/usr/share/man/man1/$PKG.1.gz"
cp "$ROOT/deploy/debian/lintian-overrides" "$STAGE/usr/share/lintian/overrides/$PKG"
cp "$ROOT"/docs/*.md "$DOC/docs/"
cat >"$DOC/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $PKG
Comment: The Node.js modules bundled under /usr/lib/$PKG/node_modules are each under the
 license in their own folder (LICENSE and package.json "license").

Files: *
Copyright: 2026 proxbalance contributors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 and associated documentation files (the "Software"), to deal in the Software without
 restriction, including without limitation the rights to use, copy, modify, merge, publish,
 distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
 BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
 DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF

# --- maintainer scripts and control ----------------------------------------------------------------
cp "$ROOT/deploy/debian/postinst" "$ROOT/deploy/debian/prerm" "$ROOT/deploy/debian/postrm" "$STAGE/DEBIAN/"

# Modes: no group/other write anywhere (whatever the checkout's umask); executables keep x.
chmod -R u+rwX,go+rX,go-w "$STAGE"
# Packages ship data with the x bit (highs ships its WebAssembly so): only scripts keep it.
while IFS= read -r -d '' f; do
  [ "$(head -c 2 "$f")" = '#!' ] || chmod a-x "$f"
done < <(find "$LIB/node_modules" -type f -perm /111 -print0)
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/prerm" "$STAGE/DEBIAN/postrm" "$LIB/bin/$PKG"
chmod 0644 "$STAGE/usr/share/$PKG/config.example.json"

INSTALLED_SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat >"$STAGE/DEBIAN/control" <<EOF
Package: $PKG
Version: $VERSION
Architecture: all
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_SIZE
Depends: nodejs (>= 20.19), adduser
Section: admin
Priority: optional
Description: balance a Proxmox VE cluster by live-migrating guests
$(printf '%s\n' "$DESCRIPTION. A one-shot CLI started every minute by a systemd timer (proxmox-balance-automigrate.timer, not enabled on install): each tick reads /opt/proxmox-balance-manager/config.json, reads the cluster through the Proxmox REST API, decides, migrates or only simulates, and appends what happened to /var/lib/proxbalance/history.jsonl." | fold -s -w 78 | sed 's/ *$//; s/^/ /')
EOF

# Same input, same package: file times from the last commit when there is one.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)"
fi
export SOURCE_DATE_EPOCH
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
