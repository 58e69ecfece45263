#!/bin/sh
# Runs a command inside a fresh network namespace where only loopback (127.0.0.1, ::1) and a
# private veth pair exist, so WebRTC can never gather or use this machine's real network
# addresses. Servers the command needs (the test Relay, Vite, Janus) must start inside it too;
# vitest does that.
#
# The veth pair (va 10.77.0.1/24 <-> vb 10.77.0.2/24) is there for Janus, which ignores loopback
# interfaces when gathering ICE candidates. Both ends are created inside the namespace and stay
# there, so nothing it carries can leave it. If the kernel cannot create it, a warning is printed
# and the command still runs (only the Janus tests need it).
#   usage: scripts/loopback.sh <command> [args...]
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: scripts/loopback.sh <command> [args...]" >&2
  exit 64
fi
if ! command -v unshare >/dev/null 2>&1; then
  echo "loopback.sh: 'unshare' not found: install util-linux (apt-get install util-linux)." >&2
  exit 1
fi
if ! command -v ip >/dev/null 2>&1 && [ ! -x /usr/sbin/ip ] && [ ! -x /sbin/ip ]; then
  echo "loopback.sh: 'ip' not found: install iproute2 (apt-get install iproute2)." >&2
  exit 1
fi

# Root can create a network namespace directly; other users need a user namespace around it.
if [ "$(id -u)" -eq 0 ]; then
  ns='--net'
else
  ns='--net --map-root-user'
fi

# Probe first, so a namespace failure is not mistaken for the command's own failure.
# shellcheck disable=SC2086
if ! unshare $ns true 2>/dev/null; then
  echo "loopback.sh: 'unshare $ns' failed: no private network namespace allowed here." >&2
  echo "  Non-root users need unprivileged user namespaces (kernel.unprivileged_userns_clone=1;" >&2
  echo "  on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0); containers" >&2
  echo "  need CAP_SYS_ADMIN. Do not run the WebRTC tests outside the namespace instead." >&2
  exit 1
fi

# Inside: loopback up, then the veth pair (never moved out of the namespace), then the command.
inside='PATH="$PATH:/usr/sbin:/sbin"
ip link set lo up || exit 1
if ! { ip link add va type veth peer name vb &&
  ip addr add 10.77.0.1/24 dev va && ip addr add 10.77.0.2/24 dev vb &&
  ip link set va up && ip link set vb up; } 2>/dev/null; then
  echo "loopback.sh: warning: could not create the veth pair va/vb; the Janus tests need it (Janus gathers no ICE candidates on loopback)." >&2
fi
exec "$@"'
# shellcheck disable=SC2086
exec unshare $ns sh -c "$inside" sh "$@"
