# shellcheck shell=bash
# Waits on state, never on time. Every test script sources this (test/harness/sandbox.ts's
# prelude), and so does the VM's limits script. A wait polls a condition until it holds,
# for at most its seconds (15 unless told) times CFS_TEST_TIME_SCALE, a slow machine's
# allowance (12 under QEMU's emulation); then it says on stderr what never came, and
# fails. It polls often at first, then every 0.1 s: twenty waits at once must not
# starve an emulated machine with forks.
#   wait_until [-t S] <what> <command...>  until the command succeeds
#   has <regex> <file...>                   a line of the files matches (grep -E)
#   listening <port> [pid]                  a TCP socket listens on it, in this network namespace
#                                           (or in the process's: a container's, seen from its host)
#   ended <pid>                             the process is gone, or a zombie
#   running <regex>                         a process whose whole command line matches
wait_until() {
  local seconds=15
  if [ "$1" = -t ]; then seconds=$2 && shift 2; fi
  local what=$1 pause=0.01 now deadline
  shift
  now=${EPOCHREALTIME/[.,]/}
  deadline=$((now + seconds * ${CFS_TEST_TIME_SCALE:-1} * 1000000))
  until "$@"; do
    now=${EPOCHREALTIME/[.,]/}
    if ((now >= deadline)); then
      echo "waited $((seconds * ${CFS_TEST_TIME_SCALE:-1})) s for $what: it never came" >&2
      return 1
    fi
    sleep $pause
    case $pause in 0.01) pause=0.02 ;; 0.02) pause=0.05 ;; *) pause=0.1 ;; esac
  done
}

has() { grep -qsE -- "$1" "${@:2}"; }

# /proc/net/tcp{,6}: the local port in hex after the address, state 0A is LISTEN.
listening() {
  local hex net=/proc/net
  printf -v hex %04X "$1"
  [ -z "${2:-}" ] || net=/proc/$2/net
  grep -qs ":$hex [0-9A-F]*:0000 0A" "$net/tcp" "$net/tcp6"
}

ended() { ! grep -qs '^State:[[:space:]]*[^Z]' "/proc/$1/status"; }

running() { pgrep -f -- "$1" >/dev/null; }
