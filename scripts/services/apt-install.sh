# Shared by install-postgres.sh and install-redis.sh (sourced, after they set POLICY_TEXT):
# installing a Debian server package as root without starting its service, one installer
# at a time, surviving a run killed midway.

remove_leftover_policy() {
    # Policy file $1, if a killed run left it: it would keep every service on the machine from starting.
    if [[ -f "$1" && "$(cat "$1")" == "$POLICY_TEXT" ]]; then
        rm -f "$1"
    fi
}

hold_install_lock() {
    # One installer of $1 at a time (two pytest sessions may start cold together).
    exec 9>"/var/lock/pitfalls-install-$1.lock"
    flock --timeout 900 9
}

prepare_apt() {
    # Start no service while installing (the tests run servers of their own, and a package
    # would otherwise start the distribution's on its usual port), and finish what a killed
    # apt-get left half-configured.
    policy=/usr/sbin/policy-rc.d
    remove_leftover_policy "$policy"
    if [[ ! -e "$policy" ]]; then
        echo "$POLICY_TEXT" >"$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    dpkg --configure -a >&2
}
