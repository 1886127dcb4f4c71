# frontdesk %preun (rpm): on erase ($1 = 0) stop and disable the unit; on upgrade
# ($1 >= 1) leave it running. Safe when PID 1 is not systemd.
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl stop frontdesk.service >/dev/null 2>&1 || :
    fi
    if command -v systemctl >/dev/null 2>&1; then
        systemctl --no-reload disable frontdesk.service >/dev/null 2>&1 || :
    fi
fi
exit 0
