# frontdesk %postun (rpm): on upgrade ($1 >= 1) restart the service (start it if it is
# enabled and a [[channel]] is configured, else only if it was running). Erase ($1 = 0) keeps
# /var/lib/frontdesk; rpm has no purge: see packaging/README.md. Safe when PID 1 is
# not systemd.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        if systemctl -q is-enabled frontdesk.service 2>/dev/null &&
            grep -Eq '^[[:space:]]*\[\[[[:space:]]*channel[[:space:]]*\]\]' /etc/frontdesk/frontdesk.toml 2>/dev/null; then
            systemctl restart frontdesk.service >/dev/null 2>&1 || :
        else
            systemctl try-restart frontdesk.service >/dev/null 2>&1 || :
        fi
    fi
fi
exit 0
