#!/usr/bin/env bash
# Package test: builds the .deb and the .rpm with scripts/package.sh, checks that they
# hold exactly the files below with the modes and owners below, then installs the .deb
# on this machine and walks it through install, reinstall, upgrade, remove and purge.
#
#   tests/packaging.sh        # as root (CI runs it from scripts/test.sh)
#
# It leaves the machine as it found it: the package is purged and a `frontdesk` user it
# created is deleted on exit, failed or not. It refuses to run when a `frontdesk`
# package is already installed.
#
# systemd: when PID 1 is not systemd (CI, containers), the dpkg runs happen in a private
# mount namespace where /run/systemd/system exists and `systemctl` is a stub that logs
# its arguments (offline `--root=` calls still run the real one), so the maintainer
# scripts' start/restart/stop decisions are checked without touching the host.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)

passed=0
failed=0
skipped=0
pass() { echo "ok   - $*"; passed=$((passed + 1)); }
fail() { echo "FAIL - $*"; failed=$((failed + 1)); }
skip() { echo "skip - $*"; skipped=$((skipped + 1)); }
# check NAME COMMAND...: pass when COMMAND succeeds.
# Its output is shown only when it fails.
check() {
    local name=$1
    shift
    if "$@" >"$work/check.out" 2>&1; then
        pass "$name"
    else
        fail "$name"
        sed 's/^/     /' "$work/check.out"
    fi
}
summary() {
    local line="$passed passed, $failed failed"
    [ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
    echo "$line"
}
die() {
    echo "packaging: $*" >&2
    fail "$*"
    summary
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs the .deb)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------- tools
need_apt=()
command -v dpkg-shlibdeps >/dev/null 2>&1 || need_apt+=(dpkg-dev)
command -v rpm >/dev/null 2>&1 || need_apt+=(rpm)
command -v man >/dev/null 2>&1 || need_apt+=(man-db)
command -v groff >/dev/null 2>&1 || need_apt+=(groff-base)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v strip >/dev/null 2>&1 || need_apt+=(binutils)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing packaging test dependencies: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null || die "apt-get install ${need_apt[*]} failed"
fi

if dpkg-query -W -f='${db:Status-Status}' frontdesk 2>/dev/null | grep -qv '^not-installed$'; then
    die "a frontdesk package is installed here already; remove it first (dpkg -P frontdesk)"
fi

user_existed=no
getent passwd frontdesk >/dev/null && user_existed=yes
group_existed=no
getent group frontdesk >/dev/null && group_existed=yes

cleanup() {
    if dpkg-query -W -f='${db:Status-Status}' frontdesk 2>/dev/null | grep -qv '^not-installed$'; then
        dpkg -P frontdesk >/dev/null 2>&1 || echo "packaging: cleanup: dpkg -P frontdesk failed" >&2
    fi
    if [ "$user_existed" = no ] && getent passwd frontdesk >/dev/null; then
        userdel frontdesk >/dev/null 2>&1 || true
    fi
    if [ "$group_existed" = no ] && getent group frontdesk >/dev/null; then
        groupdel frontdesk >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build
echo "== scripts/package.sh all"
if ! scripts/package.sh all >"$work/built" 2>"$work/build.log"; then
    tail -n 40 "$work/build.log"
    die "scripts/package.sh all failed"
fi
deb=$(sed -n 's/^deb: //p' "$work/built")
rpm_file=$(sed -n 's/^rpm: //p' "$work/built")
case "$deb" in /*) ;; *) deb="$repo/$deb" ;; esac
case "$rpm_file" in /*) ;; *) rpm_file="$repo/$rpm_file" ;; esac
[ -f "$deb" ] || die "no .deb built (got '$deb')"
[ -f "$rpm_file" ] || die "no .rpm built (got '$rpm_file')"
echo "   $deb"
echo "   $rpm_file"

# diff_lists NAME EXPECTED ACTUAL: pass when equal (both sorted), else show the diff.
diff_lists() {
    if diff -u <(sort <<<"$2") <(sort <<<"$3") >"$work/diff"; then
        pass "$1"
    else
        fail "$1 (- expected, + actual):"
        sed -n '3,$p' "$work/diff"
    fi
}

# ---------------------------------------------------------------- .deb contents
expected_deb="drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/frontdesk/
-rw-r----- root/root ./etc/frontdesk/frontdesk.toml
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/frontdesk.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/frontdeskctl
-rwxr-xr-x root/root ./usr/bin/frontdeskd
drwxr-xr-x root/root ./usr/lib/
drwxr-xr-x root/root ./usr/lib/sysusers.d/
-rw-r--r-- root/root ./usr/lib/sysusers.d/frontdesk.conf
drwxr-xr-x root/root ./usr/lib/tmpfiles.d/
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/frontdesk.conf
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/bash-completion/
drwxr-xr-x root/root ./usr/share/bash-completion/completions/
-rw-r--r-- root/root ./usr/share/bash-completion/completions/frontdeskctl
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/frontdesk/
-rw-r--r-- root/root ./usr/share/doc/frontdesk/copyright
drwxr-xr-x root/root ./usr/share/fish/
drwxr-xr-x root/root ./usr/share/fish/vendor_completions.d/
-rw-r--r-- root/root ./usr/share/fish/vendor_completions.d/frontdeskctl.fish
drwxr-xr-x root/root ./usr/share/man/
drwxr-xr-x root/root ./usr/share/man/man1/
-rw-r--r-- root/root ./usr/share/man/man1/frontdeskctl.1.gz
drwxr-xr-x root/root ./usr/share/man/man5/
-rw-r--r-- root/root ./usr/share/man/man5/frontdesk.toml.5.gz
drwxr-xr-x root/root ./usr/share/man/man8/
-rw-r--r-- root/root ./usr/share/man/man8/frontdeskd.8.gz
drwxr-xr-x root/root ./usr/share/zsh/
drwxr-xr-x root/root ./usr/share/zsh/vendor-completions/
-rw-r--r-- root/root ./usr/share/zsh/vendor-completions/_frontdeskctl"
# dpkg-deb -c: MODE OWNER/GROUP SIZE DATE TIME PATH; --numeric-owner is not used, so
# the owner reads root/root (0/0 in some dpkg versions: normalised).
actual_deb=$(dpkg-deb -c "$deb" | awk '{o=$2; sub(/^0\/0$/, "root/root", o); print $1, o, $6}')
diff_lists ".deb holds exactly the expected files, modes and owners" "$expected_deb" "$actual_deb"
check ".deb marks /etc/frontdesk/frontdesk.toml as its only conffile" \
    test "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" = /etc/frontdesk/frontdesk.toml
ctrl=$(dpkg-deb -I "$deb")
check ".deb has postinst, prerm and postrm" \
    bash -c '[[ $0 == *postinst* && $0 == *prerm* && $0 == *postrm* ]]' "$ctrl"
check ".deb binaries are stripped" \
    bash -c 'dpkg-deb --fsys-tarfile "$0" | tar -xOf - ./usr/bin/frontdeskd >"$1/fd" &&
        ! readelf -S "$1/fd" | grep -q "\.debug_info"' "$deb" "$work"

# ---------------------------------------------------------------- .rpm contents
expected_rpm="-rw-r----- root:frontdesk cn /etc/frontdesk/frontdesk.toml
-rwxr-xr-x root:root - /usr/bin/frontdeskctl
-rwxr-xr-x root:root - /usr/bin/frontdeskd
-rw-r--r-- root:root - /usr/lib/systemd/system/frontdesk.service
-rw-r--r-- root:root - /usr/lib/sysusers.d/frontdesk.conf
-rw-r--r-- root:root - /usr/lib/tmpfiles.d/frontdesk.conf
-rw-r--r-- root:root - /usr/share/bash-completion/completions/frontdeskctl
-rw-r--r-- root:root - /usr/share/fish/vendor_completions.d/frontdeskctl.fish
-rw-r--r-- root:root d /usr/share/man/man1/frontdeskctl.1.gz
-rw-r--r-- root:root d /usr/share/man/man5/frontdesk.toml.5.gz
-rw-r--r-- root:root d /usr/share/man/man8/frontdeskd.8.gz
-rw-r--r-- root:root - /usr/share/zsh/site-functions/_frontdeskctl"
# FILEFLAGS: c = %config, n = noreplace, d = %doc, - = none.
actual_rpm=$(rpm -qp --queryformat \
    '[%{FILEMODES:perms}|%{FILEUSERNAME}:%{FILEGROUPNAME}|%{FILEFLAGS:fflags}|%{FILENAMES}\n]' \
    "$rpm_file" 2>/dev/null | awk -F'|' '{ print $1, $2, ($3 == "" ? "-" : $3), $4 }')
diff_lists ".rpm holds exactly the expected files, modes, owners and flags" "$expected_rpm" "$actual_rpm"
check "rpm -qlp lists the same paths" \
    test "$(rpm -qlp "$rpm_file" 2>/dev/null | sort)" = "$(awk '{print $4}' <<<"$expected_rpm" | sort)"
scripts_rpm=$(rpm -qp --scripts "$rpm_file" 2>/dev/null)
check ".rpm has %pre, %post, %preun and %postun scriptlets" \
    bash -c '[[ $0 == *"preinstall scriptlet"* && $0 == *"postinstall scriptlet"* &&
        $0 == *"preuninstall scriptlet"* && $0 == *"postuninstall scriptlet"* ]]' "$scripts_rpm"
for s in packaging/rpm/*.sh; do
    check "rpm scriptlet $s is valid sh" sh -n "$s"
done

# ---------------------------------------------------------------- the unit
score=$(systemd-analyze security --offline=yes systemd/frontdesk.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for frontdesk.service: \([0-9.]*\).*/\1/p')
echo "   systemd-analyze security exposure: ${score:-?}"
check "unit's systemd-analyze security exposure is at most 2.0 (${score:-none})" \
    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }'

# ---------------------------------------------------------------- install
# dpkg_sd ARGS...: dpkg with a logged, stubbed systemd (see the top of this file).
sdlog="$work/systemctl.log"
stub="$work/stub"
mkdir -p "$stub"
real_systemctl=$(command -v systemctl || echo /bin/systemctl)
cat >"$stub/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$sdlog"
case " \$* " in
    *" --root="*) exec "$real_systemctl" "\$@" ;;
    *" is-enabled "*) echo enabled; exit 0 ;;
    *" is-active "*) exit 3 ;;
esac
exit 0
EOF
# deb-systemd-invoke is logged too, then runs for real: it asks policy-rc.d (which may
# veto, as in containers) before it calls systemctl.
real_invoke=$(command -v deb-systemd-invoke || echo /usr/bin/deb-systemd-invoke)
cat >"$stub/deb-systemd-invoke" <<EOF
#!/bin/sh
echo "deb-systemd-invoke \$*" >>"$sdlog"
exec "$real_invoke" "\$@"
EOF
chmod 755 "$stub/systemctl" "$stub/deb-systemd-invoke"
stubbed=no
if [ ! -d /run/systemd/system ] && [ -d /run/systemd ] &&
    unshare --mount --propagation private true 2>/dev/null; then
    stubbed=yes
fi
dpkg_sd() {
    : >"$sdlog"
    if [ "$stubbed" = yes ]; then
        unshare --mount --propagation private -- sh -c \
            'mount -t tmpfs -o mode=0755 tmpfs /run/systemd && mkdir /run/systemd/system && exec "$@"' \
            sh env PATH="$stub:$PATH" dpkg "$@" </dev/null
    else
        dpkg "$@" </dev/null
    fi
}
# sd_check NAME PATTERN [absent]: the stubbed systemctl saw (or did not see) PATTERN.
sd_check() {
    if [ "$stubbed" != yes ]; then
        skip "$1 (PID 1 is systemd or no mount namespace: not stubbed)"
    elif [ "${3:-}" = absent ]; then
        if grep -Eq "$2" "$sdlog"; then
            fail "$1"
            sed 's/^/     /' "$sdlog"
        else pass "$1"; fi
    elif grep -Eq "$2" "$sdlog"; then
        pass "$1"
    else
        fail "$1"
        sed 's/^/     /' "$sdlog"
    fi
}
no_daemon() {
    local p
    ! pgrep -u frontdesk >/dev/null 2>&1 || return 1
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" != /usr/bin/frontdeskd ] || return 1
    done
}
status_of() { dpkg-query -W -f='${db:Status-Abbrev}' frontdesk 2>/dev/null | tr -d ' '; }
stat_of() { stat -c '%U:%G %a' "$1" 2>/dev/null; }
wants=/etc/systemd/system/multi-user.target.wants/frontdesk.service
conf=/etc/frontdesk/frontdesk.toml

echo "== dpkg -i (fresh install, no channel configured)"
check "dpkg -i installs the .deb" dpkg_sd -i "$deb"
check "package is installed" test "$(status_of)" = ii
check "system user frontdesk exists" getent passwd frontdesk
check "system group frontdesk exists" getent group frontdesk
check "frontdesk's primary group is frontdesk" test "$(id -gn frontdesk 2>/dev/null)" = frontdesk
check "frontdesk is a system user with no login shell" \
    bash -c 'u=$(getent passwd frontdesk) && [ "$(cut -d: -f3 <<<"$u")" -lt 1000 ] &&
        [[ "$(cut -d: -f7 <<<"$u")" == */nologin ]]'
check "$conf is root:frontdesk 0640" test "$(stat_of $conf)" = "root:frontdesk 640"
check "/var/lib/frontdesk is frontdesk:frontdesk 0750" \
    test "$(stat_of /var/lib/frontdesk)" = "frontdesk:frontdesk 750"
check "dpkg records $conf as a conffile" \
    bash -c 'dpkg-query -W -f="\${Conffiles}" frontdesk | grep -q "^ /etc/frontdesk/frontdesk.toml "'
check "frontdesk.service is enabled (multi-user.target.wants)" \
    test "$(readlink $wants)" = /lib/systemd/system/frontdesk.service
sd_check "postinst reloads systemd" 'daemon-reload'
sd_check "postinst does not start the service without a [[channel]]" \
    '(^| )(start|restart|try-restart) frontdesk' absent
check "no frontdeskd process runs" no_daemon
for b in frontdeskd frontdeskctl; do
    check "/usr/bin/$b --version runs" bash -c "/usr/bin/$b --version >/dev/null"
done
# The installed config passes the config check from the installed files: the admin's
# `frontdeskctl check-config PATH` and the daemon's `frontdeskd --check-config` run the
# same check (either works); the daemon's also as the service user, who must read it.
check "frontdeskctl check-config accepts the packaged config" \
    /usr/bin/frontdeskctl check-config $conf
check "frontdeskd --check-config accepts the packaged config" \
    /usr/bin/frontdeskd --check-config --config $conf
check "the frontdesk user can read and check the config" \
    runuser -u frontdesk -- /usr/bin/frontdeskd --check-config --config $conf
check "systemd-analyze verify is clean for the installed unit" \
    bash -c 'out=$(systemd-analyze verify /lib/systemd/system/frontdesk.service 2>&1) &&
        [ -z "$out" ] || { echo "$out" | sed "s/^/     /"; false; }'
# man_ok PAGE: `man -l` renders it at 80 columns with nothing on stderr, and groff -ww
# finds nothing to warn about.
man_ok() {
    local page warnings
    page=$(MANWIDTH=80 man -l "$1" 2>"$work/man.err") || { cat "$work/man.err"; return 1; }
    [ -n "$page" ] || { echo "     empty page"; return 1; }
    [ ! -s "$work/man.err" ] || { sed 's/^/     /' "$work/man.err"; return 1; }
    warnings=$(zcat "$1" | groff -ww -man -Tutf8 -z 2>&1)
    [ -z "$warnings" ] || { echo "$warnings" | sed 's/^/     /'; return 1; }
}
for m in /usr/share/man/man8/frontdeskd.8.gz /usr/share/man/man1/frontdeskctl.1.gz \
    /usr/share/man/man5/frontdesk.toml.5.gz; do
    check "man -l $(basename "$m") renders without warnings (groff -ww)" man_ok "$m"
done
check "bash completion loads and completes frontdeskctl" \
    bash -c 'source /usr/share/bash-completion/completions/frontdeskctl &&
        complete -p frontdeskctl >/dev/null'
if command -v zsh >/dev/null 2>&1; then
    check "zsh completion parses" zsh -n /usr/share/zsh/vendor-completions/_frontdeskctl
fi
if command -v fish >/dev/null 2>&1; then
    check "fish completion parses" fish -n /usr/share/fish/vendor_completions.d/frontdeskctl.fish
fi

echo "== dpkg -i the same version again, with a locally changed conffile"
echo "# local change kept by the package test" >>$conf
check "reinstalling the same version succeeds" dpkg_sd -i "$deb"
check "the changed conffile is kept on reinstall" grep -q "^# local change kept" $conf
sd_check "reinstall without a [[channel]] only try-restarts" 'try-restart frontdesk'
sd_check "reinstall without a [[channel]] does not start it" '(^| )(start|restart) frontdesk' absent

echo "== upgrade to a newer version with a [[channel]] configured"
cat >>$conf <<'EOF'

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
EOF
new_version="$(dpkg-deb -f "$deb" Version)+pkgtest1"
mkdir "$work/repack"
dpkg-deb -R "$deb" "$work/repack/root"
sed -i "s/^Version: .*/Version: $new_version/" "$work/repack/root/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z1 -b "$work/repack/root" "$work/repack/new.deb" >/dev/null
check "upgrading to $new_version succeeds" dpkg_sd -i "$work/repack/new.deb"
check "installed version is $new_version" \
    test "$(dpkg-query -W -f='${Version}' frontdesk)" = "$new_version"
check "the changed conffile is kept on upgrade" \
    bash -c "grep -q '^# local change kept' $conf && grep -q '^\[\[channel\]\]' $conf"
check "$conf stays root:frontdesk 0640 on upgrade" test "$(stat_of $conf)" = "root:frontdesk 640"
sd_check "upgrade with a [[channel]] restarts the service" '(^| )restart frontdesk'

echo "== dpkg -r keeps the data and the config"
echo "tickets live here" >/var/lib/frontdesk/pkgtest-marker
check "dpkg -r succeeds" dpkg_sd -r frontdesk
sd_check "prerm stops the service" '(^| )stop frontdesk'
check "binaries are gone" test ! -e /usr/bin/frontdeskd -a ! -e /usr/bin/frontdeskctl
check "unit file is gone" test ! -e /lib/systemd/system/frontdesk.service
check "/var/lib/frontdesk is kept (marker file)" test -f /var/lib/frontdesk/pkgtest-marker
check "$conf is kept, with its changes" grep -q "^# local change kept" $conf
check "package is in config-files state" test "$(status_of)" = rc

echo "== dpkg -P removes everything"
check "dpkg -P succeeds" dpkg_sd -P frontdesk
check "package is gone" bash -c '! dpkg-query -W frontdesk >/dev/null 2>&1 ||
    [ "$(dpkg-query -W -f="\${db:Status-Status}" frontdesk)" = not-installed ]'
check "/var/lib/frontdesk is gone" test ! -e /var/lib/frontdesk
check "/etc/frontdesk is gone" test ! -e /etc/frontdesk
check "/run/frontdesk is gone" test ! -e /run/frontdesk
check "the enablement link is gone" test ! -e $wants -a ! -L $wants
check "no mask is left" test ! -e /etc/systemd/system/frontdesk.service -a ! -L /etc/systemd/system/frontdesk.service
check "deb-systemd-helper keeps no state" \
    bash -c '[ -z "$(find /var/lib/systemd/deb-systemd-helper-enabled \
        /var/lib/systemd/deb-systemd-helper-masked -name "*frontdesk*" 2>/dev/null)" ]'

echo "== fresh install onto a config that already names a channel"
mkdir -p /etc/frontdesk
printf '%s\n' '[daemon]' 'data_dir = "/var/lib/frontdesk"' '' '[[channel]]' 'kind = "email"' \
    'name = "support"' 'address = "support@example.com"' >$conf
check "dpkg --force-confold -i keeps the seeded config" dpkg_sd --force-confold -i "$deb"
check "seeded config kept" grep -q '^\[\[channel\]\]' $conf
sd_check "fresh install with a [[channel]] starts the service" '(^| )start frontdesk'
check "final dpkg -P succeeds" dpkg_sd -P frontdesk
check "nothing left in /etc/frontdesk or /var/lib/frontdesk" \
    test ! -e /etc/frontdesk -a ! -e /var/lib/frontdesk

summary
[ "$failed" -eq 0 ]
