# frontdesk %post (rpm): state directory, enable the unit; start it only once
# /etc/frontdesk/frontdesk.toml names a [[channel]]. $1: 1 install, 2 upgrade (the
# restart on upgrade happens in %postun). Safe when PID 1 is not systemd.
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/frontdesk.conf >/dev/null 2>&1 || :
fi
[ -d /var/lib/frontdesk ] || install -d -m 0750 -o frontdesk -g frontdesk /var/lib/frontdesk
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    # Enabling only writes symlinks: it needs no running systemd.
    systemctl --no-reload enable frontdesk.service >/dev/null 2>&1 || :
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        if grep -Eq '^[[:space:]]*\[\[[[:space:]]*channel[[:space:]]*\]\]' /etc/frontdesk/frontdesk.toml 2>/dev/null; then
            systemctl start frontdesk.service >/dev/null 2>&1 || :
        else
            echo "frontdesk: enabled, not started: name a [[channel]] in /etc/frontdesk/frontdesk.toml, then run 'systemctl start frontdesk'." >&2
        fi
    fi
fi
exit 0
