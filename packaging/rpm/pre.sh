# frontdesk %pre (rpm): create the system user and group before the files are laid
# down, so /etc/frontdesk/frontdesk.toml can be root:frontdesk. $1: 1 install, 2 upgrade.
if ! getent passwd frontdesk >/dev/null && command -v systemd-sysusers >/dev/null 2>&1; then
    echo 'u frontdesk - "frontdesk help desk" /var/lib/frontdesk /usr/sbin/nologin' |
        systemd-sysusers --replace=/usr/lib/sysusers.d/frontdesk.conf - >/dev/null 2>&1 || :
fi
getent group frontdesk >/dev/null || groupadd -r frontdesk
getent passwd frontdesk >/dev/null ||
    useradd -r -g frontdesk -d /var/lib/frontdesk -M -s /usr/sbin/nologin \
        -c "frontdesk help desk" frontdesk
exit 0
