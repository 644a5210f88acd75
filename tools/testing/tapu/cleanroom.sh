#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a command (default: the README's "make test") in a freshly
# bootstrapped Debian 12 root, so that a missing install step fails here and
# not on a user's new machine.
#
#  1. mmdebstrap makes a minimal bookworm root (Essential packages, apt and
#     make, nothing else) from the archives this machine's apt uses, read
#     from "apt-cache policy": bookworm, bookworm-updates and
#     bookworm-security, which has the 6.12 kernels. The Acquire:: options
#     of the host's apt configuration (proxy, validity checks) go along.
#  2. The project's files (tracked and untracked, not ignored: build/ stays
#     behind) are copied to /src in the root.
#  3. In a private mount namespace, with /proc, /sys and /dev, the command
#     runs chrooted in /src with an empty environment (PATH, HOME, LANG,
#     and CI, JOBS and TAPU_* when set), so nothing of the host's installed
#     packages or tools can be used: setup.sh installs everything.
#  4. The logs of build/ are copied to build/cleanroom/artifacts and the
#     root is removed (unless --keep).
#
# Exits with the command's status (2 when the root cannot be made).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
OUT=${TAPU_CLEANROOM:-$top/build/cleanroom}
KEEP=0

usage() {
	cat <<EOF
usage: $0 [--out DIR] [--keep] [--] [COMMAND...]
  --out DIR   where the root (DIR/root) and the artifacts go
              (default build/cleanroom)
  --keep      keep the root afterwards
  COMMAND     run in /src of the root (default: make test)
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || set -- make test

say() { echo "cleanroom: $*" >&2; }
die() { say "error: $*"; exit 2; }
now() { date +%s; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot and mounts)"
[ -n "$OUT" ] || die "empty --out"
OUT=$(realpath -m "$OUT")
[ "$OUT" != / ] || die "--out /"
ROOT=$OUT/root
MARK=$ROOT/.tapu-cleanroom

# Only a root made here, with nothing mounted below it, is ever removed.
remove_root() {
	[ -e "$ROOT" ] || return 0
	[ -f "$MARK" ] || die "$ROOT is not a root made by $0; not removing it"
	if findmnt -rn -o TARGET | grep -qF "$ROOT/"; then
		die "something is mounted below $ROOT; not removing it"
	fi
	rm -rf --one-file-system "$ROOT"
}

# The archive lines of this machine's apt: one "deb URI SUITE COMPONENTS"
# per Debian bookworm suite it uses, whatever name its sources give the
# suite (bookworm, oldstable, ...): the codename comes from the Release
# file ("n=" in apt-cache policy), the URI and component from the index.
sources() {
	apt-cache policy | awk '
		$1 ~ /^[0-9]+$/ && $NF == "Packages" && $2 ~ /:/ {
			uri = $2; split($3, sc, "/"); next_rel = 1; next }
		next_rel && /^ *release / {
			next_rel = 0
			o = n_ = c = ""
			split($2, kv, ",")
			for (i in kv) {
				if (kv[i] ~ /^o=/) o = substr(kv[i], 3)
				if (kv[i] ~ /^n=/) n_ = substr(kv[i], 3)
				if (kv[i] ~ /^c=/) c = substr(kv[i], 3)
			}
			if (o == "Debian" && n_ ~ /^bookworm(-updates|-security)?$/) {
				key = uri " " n_
				if (!(key in comps)) order[n++] = key
				if (index(" " comps[key] " ", " " c " ") == 0)
					comps[key] = comps[key] (comps[key] ? " " : "") c
			}
		}
		END { for (i = 0; i < n; i++) print "deb " order[i] " " comps[order[i]] }'
}

t0=$(now)
if ! command -v mmdebstrap > /dev/null; then
	say "installing mmdebstrap on this machine"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		mmdebstrap > /dev/null
fi
mapfile -t src < <(sources)
if ! printf '%s\n' "${src[@]}" | grep -q ' bookworm-security '; then
	apt-get update -qq
	mapfile -t src < <(sources)
fi
printf '%s\n' "${src[@]}" | grep -q ' bookworm ' ||
	die "this machine's apt has no Debian bookworm archive"
printf '%s\n' "${src[@]}" | grep -q ' bookworm-security ' ||
	die "this machine's apt has no bookworm-security archive (the 6.12 kernels)"
aptopts=()
while IFS= read -r opt; do
	aptopts+=(--aptopt="$opt")
done < <(apt-config dump |
	grep -E '^Acquire::(Check-Valid-Until|Check-Date|Retries|[a-z]+::Proxy)' || true)

remove_root
mkdir -p "$OUT/artifacts"
say "bootstrapping Debian bookworm in $ROOT from:"
printf 'cleanroom:   %s\n' "${src[@]}" >&2
mmdebstrap --mode=root --variant=apt --include=make --architectures=amd64 \
	--skip=cleanup/apt/lists "${aptopts[@]}" bookworm "$ROOT" "${src[@]}" \
	> "$OUT/artifacts/mmdebstrap.log" 2>&1 ||
	{ tail -n 20 "$OUT/artifacts/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
touch "$MARK"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
say "root ready after $(( $(now) - t0 ))s ($(du -sh "$ROOT" | cut -f1)), $(chroot "$ROOT" dpkg-query -W | wc -l) packages"

mkdir -p "$ROOT/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$ROOT/src" -xf - ||
	die "copying the tree to $ROOT/src failed"

envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
      HOME=/root LANG=C.UTF-8 TERM=dumb)
while IFS= read -r v; do
	envs+=("$v")
done < <(env | grep -E '^(CI|JOBS|TAPU_[A-Z0-9_]+|(http|https|ftp|no)_proxy|(HTTP|HTTPS|FTP|NO)_PROXY)=' || true)

say "running '$*' in the root"
t1=$(now)
rc=0
set -o pipefail
# The mounts live in this namespace only and go away with it.
unshare --mount --propagation private -- /bin/bash -c '
	set -e
	r=$1; shift
	mount -t proc proc "$r/proc"
	mount --rbind /sys "$r/sys"
	mount --rbind /dev "$r/dev"
	mount -t tmpfs tmpfs "$r/run"
	exec chroot "$r" /usr/bin/env -i "$@"' cleanroom "$ROOT" "${envs[@]}" \
	/bin/bash -c 'cd /src && exec "$@"' cleanroom "$@" < /dev/null |
	tee "$OUT/artifacts/output.log" || rc=$?
say "'$*' exited with $rc after $(( $(now) - t1 ))s"

# The logs a failure is read from.
for f in "$ROOT"/src/build/*.log "$ROOT"/src/build/test-results*; do
	[ -f "$f" ] && cp "$f" "$OUT/artifacts/"
done
if [ "$KEEP" = 0 ]; then
	(remove_root) || { [ "$rc" != 0 ] || rc=2; }
fi
say "done in $(( $(now) - t0 ))s, logs in $OUT/artifacts"
# The command's closing "N passed, N failed" line stays the last one.
grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$OUT/artifacts/output.log" |
	tail -n 1 || true
exit "$rc"
