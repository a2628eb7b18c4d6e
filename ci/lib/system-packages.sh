# Shared by the ci/ scripts: makes sure the Debian packages Torsion links are
# installed. Source it and call require_system_packages.

TORSION_SYSTEM_PACKAGES=(libevent-dev liburing-dev libssl-dev pkg-config)

missing_system_packages() {
    local package
    for package in "${TORSION_SYSTEM_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            printf '%s\n' "$package"
        fi
    done
}

require_system_packages() {
    local missing
    missing=$(missing_system_packages | tr '\n' ' ')
    missing=${missing% }
    if [[ -z "$missing" ]]; then
        return 0
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "ci: installing missing system packages: $missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        # shellcheck disable=SC2086
        apt-get install -y --no-install-recommends $missing
    else
        echo "ci: missing system packages: $missing" >&2
        echo "ci: install them with:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y $missing" >&2
        exit 1
    fi
}
