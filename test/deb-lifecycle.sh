#!/usr/bin/env bash
# Installs, upgrades, removes and purges the .deb with the real dpkg, inside a private mount
# namespace where /usr, /etc, /var and /opt are overlays on the host's: every change (the dpkg
# database, the proxbalance user, the config) lands in throw-away upper folders and vanishes with
# the namespace. Run by test/deb.test.ts as root:
#   bash test/deb-lifecycle.sh DEB SCRATCH VERSION
set -euo pipefail

# Everything below mounts over system folders, so it must never run in the caller's mount
# namespace: the script enters a fresh private one itself, and then checks that it is in one
# (its mount namespace differs from its parent's, the shell that started it). It refuses when it
# cannot tell.
if [ "${PROXBALANCE_LIFECYCLE_NS:-}" != 1 ]; then
  exec unshare --mount --propagation private env PROXBALANCE_LIFECYCLE_NS=1 bash "$0" "$@"
fi
self_ns="$(readlink /proc/self/ns/mnt || true)"
parent_ns="$(readlink "/proc/$PPID/ns/mnt" || true)"
if [ -z "$self_ns" ] || [ -z "$parent_ns" ] || [ "$self_ns" = "$parent_ns" ]; then
  echo "FAIL: not in a private mount namespace of my own (self ${self_ns:-?}, parent ${parent_ns:-?}): refusing to mount" >&2
  exit 2
fi
DEB="$1" SCRATCH="$2" VERSION="$3"

for d in usr etc var opt; do
  mkdir -p "$SCRATCH/$d-upper" "$SCRATCH/$d-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$SCRATCH/$d-upper,workdir=$SCRATCH/$d-work" "/$d"
done

CONFIG=/opt/proxmox-balance-manager/config.json
STATE=/var/lib/proxbalance
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "== $*"; }

# A clean slate inside the overlays, whatever this machine has.
dpkg --purge proxbalance >/dev/null 2>&1 || true
rm -rf /opt/proxmox-balance-manager "$STATE"
if getent passwd proxbalance >/dev/null; then userdel proxbalance; fi
if getent group proxbalance >/dev/null; then groupdel proxbalance; fi

# Depends: nodejs (>= 20.19). Where node did not come from a Debian package, say so and go on.
DPKG_OPTS=()
if ! dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q 'install ok installed'; then
  echo "note: no nodejs package installed here (node $(node --version) came otherwise): --force-depends"
  DPKG_OPTS=(--force-depends)
fi

step "install"
out="$(dpkg "${DPKG_OPTS[@]}" -i "$DEB" 2>&1)" || { echo "$out"; fail "dpkg -i"; }
echo "$out"
[ "$(dpkg-query -W -f='${Status} ${Version}' proxbalance)" = "install ok installed $VERSION" ] || fail "not installed as $VERSION"
grep -q 'timer is not enabled' <<<"$out" || fail "postinst did not print the enable hint"
grep -q 'systemctl enable --now proxmox-balance-automigrate.timer' <<<"$out" || fail "no enable command in the hint"
[ ! -e /etc/systemd/system/timers.target.wants/proxmox-balance-automigrate.timer ] || fail "the timer was enabled"
entry="$(getent passwd proxbalance)" || fail "no proxbalance user"
uid="$(cut -d: -f3 <<<"$entry")"
[ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] || fail "proxbalance is not a system user (uid $uid)"
case "$(cut -d: -f7 <<<"$entry")" in */nologin | */false) ;; *) fail "proxbalance has a login shell: $entry" ;; esac
getent group proxbalance >/dev/null || fail "no proxbalance group"
[ "$(stat -c '%U:%G %a' "$STATE")" = "proxbalance:proxbalance 750" ] || fail "state dir is $(stat -c '%U:%G %a' "$STATE")"
[ "$(stat -c '%U:%G %a' "$CONFIG")" = "root:proxbalance 640" ] || fail "config is $(stat -c '%U:%G %a' "$CONFIG")"
cmp -s "$CONFIG" /usr/share/proxbalance/config.example.json || fail "config is not the example"
[ -x /usr/bin/proxbalance ] || fail "no /usr/bin/proxbalance"
[ "$(runuser -u proxbalance -- proxbalance --version)" = "$VERSION" ] || fail "proxbalance --version as the service user"
# The service user reads the example config: valid, but not ready until host and secret are set (exit 2).
rc=0; out="$(runuser -u proxbalance -- proxbalance config validate 2>&1)" || rc=$?
[ "$rc" = 2 ] && grep -q 'proxmox_host is ".*", a placeholder' <<<"$out" || { echo "$out"; fail "config validate as the service user (exit $rc)"; }
[ -f /lib/systemd/system/proxmox-balance-automigrate.service ] || fail "no service unit"
[ -f /lib/systemd/system/proxmox-balance-automigrate.timer ] || fail "no timer unit"

step "reinstall over a changed config and some history"
proxbalance config set proxmox_host pve-test.example >/dev/null
echo '{"test":1}' >"$STATE/history.jsonl"
chown proxbalance:proxbalance "$STATE/history.jsonl"
dpkg "${DPKG_OPTS[@]}" -i "$DEB" >/dev/null 2>&1 || fail "second dpkg -i"
grep -q '"pve-test.example"' "$CONFIG" || fail "reinstall overwrote the config"
[ "$(stat -c '%U:%G %a' "$CONFIG")" = "root:proxbalance 640" ] || fail "reinstall changed the config's mode"

step "remove keeps config, history and user"
dpkg --remove proxbalance >/dev/null 2>&1 || fail "dpkg --remove"
[ ! -e /usr/bin/proxbalance ] && [ ! -e /usr/lib/proxbalance ] || fail "program left after remove"
[ ! -e /lib/systemd/system/proxmox-balance-automigrate.service ] || fail "unit left after remove"
grep -q '"pve-test.example"' "$CONFIG" || fail "remove lost the config"
[ -s "$STATE/history.jsonl" ] || fail "remove lost the history"
getent passwd proxbalance >/dev/null || fail "remove deleted the user"

step "purge removes config, history and user"
dpkg --purge proxbalance >/dev/null 2>&1 || fail "dpkg --purge"
[ ! -e "$CONFIG" ] || fail "config left after purge"
[ ! -e /opt/proxmox-balance-manager ] || fail "empty config folder left after purge"
[ ! -e "$STATE" ] || fail "state left after purge"
! getent passwd proxbalance >/dev/null || fail "user left after purge"
! getent group proxbalance >/dev/null || fail "group left after purge"

step "an existing config (ProxBalance's) is adopted untouched, with a hint when unreadable"
mkdir -p /opt/proxmox-balance-manager /opt/proxmox-balance-manager/other
printf '{ "proxmox_host": "old.example" }\n' >"$CONFIG"
chmod 0600 "$CONFIG"
out="$(dpkg "${DPKG_OPTS[@]}" -i "$DEB" 2>&1)" || { echo "$out"; fail "dpkg -i over an existing config"; }
grep -q '"old.example"' "$CONFIG" || fail "existing config overwritten"
[ "$(stat -c '%U:%G %a' "$CONFIG")" = "root:root 600" ] || fail "existing config's owner or mode changed"
grep -q 'chgrp proxbalance' <<<"$out" || fail "no hint for a config the service cannot read"
! grep -qx config "$STATE/.package-created" || fail "a config that was there before is recorded as the package's"
out="$(dpkg --purge proxbalance 2>&1)" || { echo "$out"; fail "second purge"; }
[ -d /opt/proxmox-balance-manager/other ] || fail "purge removed someone else's files"
# apt purge removes only what the package created: this config.json was there before it.
grep -q '"old.example"' "$CONFIG" || fail "purge deleted a config.json that existed before the package"
[ "$(stat -c '%U:%G %a' "$CONFIG")" = "root:root 600" ] || fail "purge changed the pre-existing config's owner or mode"
grep -q 'was there before the package: left in place' <<<"$out" || fail "purge did not say it left the config"
! getent passwd proxbalance >/dev/null || fail "the user the package created is left after purge"

step "a user that existed before the package survives purge"
rm -rf /opt/proxmox-balance-manager
adduser --system --group --no-create-home --quiet proxbalance
dpkg "${DPKG_OPTS[@]}" -i "$DEB" >/dev/null 2>&1 || fail "dpkg -i with an existing user"
dpkg --purge proxbalance >/dev/null 2>&1 || fail "third purge"
getent passwd proxbalance >/dev/null || fail "purge deleted a user that existed before the package"
[ ! -e "$CONFIG" ] || fail "the config the package wrote is left after purge"
deluser --system --quiet proxbalance; delgroup --system --quiet proxbalance 2>/dev/null || true

echo "lifecycle: all checks passed"
