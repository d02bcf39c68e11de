#!/bin/sh
# heartbeat-ts install step (docs/install.md).
#
#   scripts/install.sh [--prefix DIR] [--destdir DIR] [--sysconfdir DIR] [--link] [--force]
#
# Installs the built package (npm ci / npm run build first) as
# PREFIX/lib/heartbeat-ts, links the commands into PREFIX/sbin and PREFIX/bin,
# the resource.d scripts and shellfuncs into /etc/ha.d, the classic helper
# paths (/usr/share/heartbeat, /usr/lib/heartbeat, /usr/libexec/heartbeat),
# man pages into PREFIX/share/man, init scripts into /etc/init.d, systemd
# units into PREFIX/lib/systemd/system, /etc/default files and sample
# configurations only where absent.
#
# A file in place that is not ours (Debian's heartbeat package, an admin's
# script) is kept; --force replaces it and keeps the old one as
# FILE.hbts-orig.  Everything goes under DESTDIR when given (packaging,
# tests): links are relative, so the tree works where it is unpacked.
set -eu

PREFIX=/usr/local
DESTDIR=
SYSCONFDIR=/etc
FORCE=no
LINK=no

usage() {
  cat <<USAGE
usage: $0 [--prefix DIR] [--destdir DIR] [--sysconfdir DIR] [--link] [--force]
  --prefix DIR      install under DIR (default /usr/local): DIR/lib/heartbeat-ts,
                    DIR/sbin, DIR/bin, DIR/share/man, DIR/lib/systemd/system
  --destdir DIR     put every file under DIR (staging, packaging, tests)
  --sysconfdir DIR  instead of /etc (ha.d, init.d, default, drbd.conf)
  --link            PREFIX/lib/heartbeat-ts is a link to this checkout instead of a copy
  --force           replace files that are not ours (Debian's resource.d scripts,
                    shellfuncs, init scripts, classic paths); the old ones are kept
                    as FILE.hbts-orig
USAGE
}

while [ $# -gt 0 ]; do
  case $1 in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --destdir) DESTDIR=${2:?--destdir needs a folder}; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    --sysconfdir) SYSCONFDIR=${2:?--sysconfdir needs a folder}; shift 2 ;;
    --sysconfdir=*) SYSCONFDIR=${1#*=}; shift ;;
    --force) FORCE=yes; shift ;;
    --link) LINK=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$0: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

case $PREFIX in /*) ;; *) echo "$0: --prefix must be absolute: $PREFIX" >&2; exit 2 ;; esac
case $SYSCONFDIR in /*) ;; *) echo "$0: --sysconfdir must be absolute: $SYSCONFDIR" >&2; exit 2 ;; esac
PREFIX=${PREFIX%/}
SYSCONFDIR=${SYSCONFDIR%/}
if [ -n "$DESTDIR" ]; then
  mkdir -p "$DESTDIR"
  DESTDIR=$(cd "$DESTDIR" && pwd -P)
fi

SRC=$(cd "$(dirname "$0")/.." && pwd -P)
if [ ! -f "$SRC/dist/bin/heartbeat.js" ]; then
  echo "$0: $SRC is not built: run 'npm ci' (or 'npm run build') first" >&2
  exit 1
fi

PKG=$PREFIX/lib/heartbeat-ts   # as seen on the target system
D=$DESTDIR                     # where files are written
HA_D=$SYSCONFDIR/ha.d
SBINDIR=$PREFIX/sbin
BINDIR=$PREFIX/bin
MANDIR=$PREFIX/share/man
UNITDIR=$PREFIX/lib/systemd/system

# Commands: daemons and admin tools into sbin; the helpers heartbeat runs
# (hb_standby, hb_takeover, ipfail) only at their classic paths (step 3);
# any other command into bin.
SBIN_CMDS="heartbeat ldirectord drbdadm drbdd drbd-overview stonith meatclient"
CLASSIC_ONLY="hb_standby hb_takeover ipfail"
# Marker of files we install (scripts carry it in their header).
MARK=heartbeat-ts

say() { printf '%s\n' "$*"; }
kept=0

# relative TARGET LINKDIR: TARGET as seen from LINKDIR (both target paths).
relative() {
  realpath -s -m --relative-to="$2" "$1"
}

# ours PATH: a file or link we installed (a link into the package, or a file
# whose first lines name heartbeat-ts).
ours() {
  if [ -L "$1" ]; then
    case $(readlink "$1") in *lib/heartbeat-ts/*|*lib/heartbeat-ts) return 0 ;; esac
    return 1
  fi
  [ -f "$1" ] && head -n 5 "$1" | grep -q "$MARK"
}

# may_replace PATH: true when PATH (with DESTDIR) may be written; keeps a
# foreign file unless --force (then moved to PATH.hbts-orig).
may_replace() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then return 0; fi
  if ours "$1"; then rm -f "$1"; return 0; fi
  if [ "$FORCE" = yes ]; then
    [ -e "$1.hbts-orig" ] || [ -L "$1.hbts-orig" ] || mv "$1" "$1.hbts-orig"
    rm -f "$1"
    say "replaced ${1#"$D"} (the old one is ${1#"$D"}.hbts-orig)"
    return 0
  fi
  say "kept ${1#"$D"} (not ours; --force replaces it)"
  kept=$((kept + 1))
  return 1
}

# link TARGET LINK: a relative symlink LINK -> TARGET (target-system paths).
link() {
  mkdir -p "$D$(dirname "$2")"
  if may_replace "$D$2"; then
    ln -s "$(relative "$1" "$(dirname "$2")")" "$D$2"
  fi
}

# subst SRC DEST MODE: copy with @HBTS_LIBDIR@ and @SBINDIR@ filled in.
subst() {
  mkdir -p "$D$(dirname "$2")"
  if may_replace "$D$2"; then
    sed -e "s|@HBTS_LIBDIR@|$PKG|g" -e "s|@SBINDIR@|$SBINDIR|g" "$1" >"$D$2"
    chmod "$3" "$D$2"
  fi
}

# sample SRC DEST MODE: only when DEST is absent.
sample() {
  mkdir -p "$D$(dirname "$2")"
  if [ -e "$D$2" ] || [ -L "$D$2" ]; then return 0; fi
  cp "$1" "$D$2"
  chmod "$3" "$D$2"
  say "installed sample ${2}"
}

# 1. The package.
mkdir -p "$D$PREFIX/lib"
if [ "$LINK" = yes ]; then
  rm -rf "$D$PKG"
  ln -s "$SRC" "$D$PKG"
else
  tmp=$D$PKG.new.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for f in bin dist etc resource.d share man demo package.json README.md; do
    [ -e "$SRC/$f" ] && cp -a "$SRC/$f" "$tmp/"
  done
  rm -rf "$tmp/dist/test" "$tmp/dist/bench"
  # The run-time dependencies (not the dev ones), from package-lock.json;
  # without one (an unpacked npm tarball) the whole node_modules.
  if [ ! -f "$SRC/package-lock.json" ]; then
    [ -d "$SRC/node_modules" ] && cp -a "$SRC/node_modules" "$tmp/"
  else
  (cd "$SRC" && node -e '
    const lock = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
    for (const [p, m] of Object.entries(lock.packages || {}))
      if (p.startsWith("node_modules/") && !m.dev && !m.link) console.log(p);
  ') | while read -r dep; do
    if [ -d "$SRC/$dep" ]; then
      mkdir -p "$tmp/$(dirname "$dep")"
      cp -a "$SRC/$dep" "$tmp/$(dirname "$dep")/"
    fi
  done
  fi
  rm -rf "$D$PKG"
  mv "$tmp" "$D$PKG"
fi
say "installed $PKG"

# 2. Commands.
for f in "$SRC"/bin/*; do
  c=${f##*/}
  case " $CLASSIC_ONLY " in *" $c "*) continue ;; esac
  case " $SBIN_CMDS " in
    *" $c "*) link "$PKG/bin/$c" "$SBINDIR/$c" ;;
    *) link "$PKG/bin/$c" "$BINDIR/$c" ;;
  esac
done

# 3. The classic paths admins' scripts and Debian's units call.
link "$PKG/bin/hb_standby" /usr/share/heartbeat/hb_standby
link "$PKG/bin/hb_takeover" /usr/share/heartbeat/hb_takeover
link "$PKG/bin/heartbeat" /usr/lib/heartbeat/heartbeat
link "$PKG/bin/ipfail" /usr/lib/heartbeat/ipfail
link "$PKG/bin/hb_standby" /usr/lib/heartbeat/hb_standby
link "$PKG/bin/hb_takeover" /usr/lib/heartbeat/hb_takeover
link "$PKG/bin/heartbeat" /usr/libexec/heartbeat/heartbeat
link "$PKG/bin/ipfail" /usr/libexec/heartbeat/ipfail

# 4. resource.d scripts (links: each finds hbts-funcs and shellfuncs in the
# package through its real path) and shellfuncs.
for f in "$SRC"/resource.d/*; do
  n=${f##*/}
  case $n in hbts-funcs) continue ;; esac
  link "$PKG/resource.d/$n" "$HA_D/resource.d/$n"
done
link "$PKG/etc/ha.d/shellfuncs" "$HA_D/shellfuncs"

# 5. Man pages.
for m in "$SRC"/man/*.[1-8]; do
  n=${m##*/}
  sec=${n##*.}
  mkdir -p "$D$MANDIR/man$sec"
  cp "$m" "$D$MANDIR/man$sec/$n"
done

# 6. Init scripts, systemd units, /etc/default files.
for s in heartbeat ldirectord drbd; do
  subst "$SRC/etc/init.d/$s" "$SYSCONFDIR/init.d/$s" 755
  subst "$SRC/etc/systemd/$s.service" "$UNITDIR/$s.service" 644
  sample "$SRC/etc/default/$s" "$SYSCONFDIR/default/$s" 644
done

# 7. Sample configurations, only where none is (never authkeys: it holds the
# cluster's secret, see docs/install.md).
sample "$SRC/etc/ha.d/ha.cf" "$HA_D/ha.cf" 644
sample "$SRC/etc/ha.d/haresources" "$HA_D/haresources" 644
sample "$SRC/etc/ha.d/ldirectord.cf" "$HA_D/ldirectord.cf" 644
if [ ! -e "$D$SYSCONFDIR/drbd.conf" ]; then
  sample "$SRC/etc/drbd.conf" "$SYSCONFDIR/drbd.conf" 644
  for f in "$SRC"/etc/drbd.d/*; do sample "$f" "$SYSCONFDIR/drbd.d/${f##*/}" 644; done
fi

if [ "$kept" -gt 0 ]; then
  say "$kept file(s) kept; run again with --force to replace them"
fi
say "done"
