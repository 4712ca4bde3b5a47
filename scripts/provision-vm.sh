#!/usr/bin/env bash
# Provision the course VM: the Vagrantfile runs this as root on the first `vagrant up`.
# Safe to run again at any time (each part checks first and only does what is missing):
#   sudo /vagrant/scripts/provision-vm.sh
#
#   --mount-only  only put the VM's own node_modules over the shared project folder
#                 (Vagrant does this on every `vagrant up`)
#   --no-apt      install no Debian packages, only check that they are there (CI runs
#                 the script so, in a throwaway root: see .ci/check-vm)
#
# Environment (defaults are the VM's): CFS_PROJECT=/vagrant, CONTAINERFS=/containerfs,
# CFS_LOCAL_MODULES=/var/lib/container-from-scratch/node_modules
set -euo pipefail

PROJECT=${CFS_PROJECT:-/vagrant}
export CONTAINERFS=${CONTAINERFS:-/containerfs}
LOCAL_MODULES=${CFS_LOCAL_MODULES:-/var/lib/container-from-scratch/node_modules}
NODE_MAJOR=24
NPM_MAJOR=11
# busybox-static: the containers' root filesystem; iproute2, nftables: steps 11 and 12's
# networks; gcc, libc6-dev, skopeo, umoci, openssl: for `sudo npm test` in the VM (a
# probe built from C, the registry tests' images and token key).
PACKAGES=(busybox-static ca-certificates git iproute2 nftables gcc libc6-dev libseccomp2 golang-github-containers-common skopeo umoci openssl podman conmon containerd crun runc golang-github-opencontainers-specs-dev)
NO_APT=false
MOUNT_ONLY=false

say() { printf '==> %s\n' "$*"; }
# A fresh Ubuntu VM runs unattended-upgrades at boot: wait for its dpkg lock.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@" >/dev/null; }
die() { printf 'provision-vm: %s\n' "$*" >&2; exit 1; }

for arg in "$@"; do
  case "$arg" in
    --no-apt) NO_APT=true ;;
    --mount-only) MOUNT_ONLY=true ;;
    *) die "unknown option $arg (options: --no-apt, --mount-only)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run me as root: sudo $0"
[ -f "$PROJECT/package-lock.json" ] || die "no project at $PROJECT (set CFS_PROJECT)"

# The shared folder (VirtualBox's vboxsf, rsync, NFS) is a poor home for node_modules:
# a host's own node_modules (macOS, Windows) would clash with Linux's, and Windows
# hosts refuse the symlinks npm makes. So node_modules lives on the VM's disk and is
# bind-mounted over the shared folder's.
mount_node_modules() {
  local target="$PROJECT/node_modules"
  mkdir -p "$LOCAL_MODULES" "$target"
  if mountpoint -q "$target"; then
    say "node_modules: already on the VM's disk ($LOCAL_MODULES)"
  else
    mount --bind "$LOCAL_MODULES" "$target"
    say "node_modules: $LOCAL_MODULES mounted at $target"
  fi
}

install_packages() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages: ${PACKAGES[*]} already installed"
    return
  fi
  $NO_APT && die "missing packages (--no-apt, so not installing): ${missing[*]}"
  say "packages: installing ${missing[*]}"
  apt_get update
  apt_get install --no-install-recommends "${missing[@]}"
}

node_is_ready() {
  [[ "$(/usr/local/bin/node --version 2>/dev/null)" == v${NODE_MAJOR}.* ]] &&
    [[ "$(/usr/local/bin/npm --version 2>/dev/null)" == ${NPM_MAJOR}.* ]]
}

# Node 24 LTS from the npm registry (the node-linux-<arch> package holds the official
# binary), so no third-party apt repository is needed. The distribution's nodejs and npm
# only bootstrap it and are removed afterwards: one Node on the VM, in /usr/local/bin,
# which is on sudo's secure_path.
install_node() {
  if node_is_ready; then
    say "Node: $(/usr/local/bin/node --version) and npm $(/usr/local/bin/npm --version) already in /usr/local/bin"
    return
  fi
  local arch
  case "$(dpkg --print-architecture)" in
    amd64) arch=x64 ;;
    arm64) arch=arm64 ;;
    *) die "no Node $NODE_MAJOR package for $(dpkg --print-architecture)" ;;
  esac
  local bootstrapped=false
  if ! command -v npm >/dev/null; then
    $NO_APT && die "no npm to install Node $NODE_MAJOR with (--no-apt, so not installing one)"
    say "Node: installing the distribution's nodejs and npm, only to fetch Node $NODE_MAJOR"
    apt_get update
    apt_get install --no-install-recommends nodejs npm
    bootstrapped=true
  fi
  say "Node: installing node-linux-$arch@$NODE_MAJOR into /usr/local"
  npm install --global --prefix /usr/local --no-audit --no-fund "node-linux-$arch@$NODE_MAJOR"
  hash -r # from now on `node` is /usr/local/bin/node: the old npm runs on Node 24,
  # which npm 11 requires of the npm that installs it
  say "Node: installing npm@$NPM_MAJOR into /usr/local"
  npm install --global --prefix /usr/local --no-audit --no-fund "npm@$NPM_MAJOR"
  hash -r
  # Debian's npm hands its own built-in settings on to the npm it installs; npm 11
  # warns about one of them on every command.
  local builtin=/usr/local/lib/node_modules/npm/npmrc
  if [ -f "$builtin" ]; then sed -i '/^globalignorefile=/d' "$builtin"; fi
  node_is_ready || die "Node $NODE_MAJOR did not install into /usr/local/bin"
  if $bootstrapped; then
    say "Node: removing the bootstrap nodejs and npm packages"
    apt_get purge nodejs npm
    apt_get autoremove
  fi
}

# `sudo npm ...` must find /usr/local/bin's npm and node (sudo resets PATH to its
# secure_path).
check_sudo_path() {
  if ! command -v sudo >/dev/null; then
    say "sudo: not installed here, nothing to check"
    return
  fi
  local found
  found=$(sudo -n sh -c 'echo "$(command -v npm) $(node --version)"')
  [[ "$found" == "/usr/local/bin/npm v${NODE_MAJOR}."* ]] || die "sudo finds npm and node as: $found"
  say "sudo: finds $found"
}

# npm ci again only when package-lock.json changed since the last successful one.
install_project() {
  local stamp="$PROJECT/node_modules/.provisioned-lock" sum
  sum=$(sha256sum "$PROJECT/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && [ -x "$PROJECT/node_modules/.bin/node" ]; then
    say "npm ci: node_modules already matches package-lock.json"
    return
  fi
  say "npm ci: installing the project's dependencies (and its own Node $NODE_MAJOR)"
  (cd "$PROJECT" && npm ci --no-audit --no-fund)
  echo "$sum" >"$stamp"
}

build_rootfs() {
  say "rootfs: $CONTAINERFS"
  (cd "$PROJECT" && npm run -s rootfs)
}

# Ubuntu 23.10 and later (24.04 here) let AppArmor restrict unprivileged user
# namespaces: one can be created, but with no capability inside, and steps 08-10 create
# theirs as an unprivileged user (shared/userns/start.ts). On this throwaway course VM we lift
# the restriction, for good (a file in /etc/sysctl.d) and now.
allow_user_namespaces() {
  local knob=/proc/sys/kernel/apparmor_restrict_unprivileged_userns
  local conf=/etc/sysctl.d/60-container-from-scratch.conf
  if [ ! -f "$knob" ]; then
    say "user namespaces: no AppArmor restriction on this kernel"
  elif [ "$(cat "$knob")" = 0 ] && [ -f "$conf" ]; then
    say "user namespaces: already allowed ($conf)"
  else
    echo 'kernel.apparmor_restrict_unprivileged_userns = 0' >"$conf"
    sysctl -q -p "$conf"
    say "user namespaces: AppArmor restriction lifted ($conf)"
  fi
}

# The command the README promises, and a step that uses namespaces and koffi.
smoke_test() {
  say "check: npm run step:1 -- hostname"
  (cd "$PROJECT" && npm run -s step:1 -- hostname)
  say "check: npm run step:4 -- true (UTS and PID namespaces)"
  (cd "$PROJECT" && npm run -s step:4 -- true)
  say "check: npm run step:8 -- true (a user namespace)"
  (cd "$PROJECT" && npm run -s step:8 -- true)
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    say "cgroup v2: mounted at /sys/fs/cgroup"
  else
    say "cgroup v2: not alone here (a v1 or hybrid layout: step 09 works, but the course pages show v2)"
  fi
}

mount_node_modules
if $MOUNT_ONLY; then exit 0; fi
install_packages
install_node
check_sudo_path
install_project
build_rootfs
allow_user_namespaces
smoke_test
say "Ready. Next: vagrant ssh, then: cd /vagrant && sudo npm run step:1 -- hostname"
