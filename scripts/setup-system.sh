#!/usr/bin/env bash
# System set-up for the local sandbox (idempotent; the Makefile runs it on first use).
#
# Why: the sandbox needs bubblewrap (namespaces + bind mounts), util-linux's setpriv/prlimit (uid switch and
# rlimits in the exec chain), libseccomp (loaded by the pyseccomp package) and a dedicated unprivileged user
# that owns nothing on the host. The tests also start a throw-away PostgreSQL cluster (Debian's `postgresql`).
# Everything here is Debian packaging plus one `useradd`; nothing is started.
# When not run as root it explains what is missing and carries on, because the service itself still works
# (smoke runs are then refused, see sandbox/README.md).
set -u

SANDBOX_USER="${MLAGENT_SANDBOX_USER:-mlagent-sbx}"
status=0

say() { printf 'setup-system: %s\n' "$*"; }

missing_packages() {
    local pkgs=()
    command -v bwrap >/dev/null 2>&1 || pkgs+=(bubblewrap)
    command -v setpriv >/dev/null 2>&1 || pkgs+=(util-linux)
    command -v prlimit >/dev/null 2>&1 || pkgs+=(util-linux)
    command -v unshare >/dev/null 2>&1 || pkgs+=(util-linux)
    command -v mount >/dev/null 2>&1 || pkgs+=(mount)
    if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then pkgs+=(libseccomp2); fi
    # PostgreSQL server binaries: the tests start a throw-away cluster to test the scale-out storage.
    if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
        pkgs+=(postgresql)
    fi
    # Headless Chromium and its WebDriver: the web page's browser tests and `make screenshots`.
    if ! command -v chromium >/dev/null 2>&1; then pkgs+=(chromium); fi
    if ! command -v chromedriver >/dev/null 2>&1; then pkgs+=(chromium-driver); fi
    # De-duplicate (util-linux may be listed twice).
    printf '%s\n' "${pkgs[@]}" | sort -u | grep -v '^$' || true
}

mapfile -t need < <(missing_packages)

if [ "$(id -u)" -ne 0 ]; then
    if [ "${#need[@]}" -gt 0 ]; then
        say "not root: cannot install ${need[*]}; run 'sudo apt-get install -y ${need[*]}'."
    fi
    if ! getent passwd "$SANDBOX_USER" >/dev/null 2>&1; then
        say "not root: cannot create the sandbox user '$SANDBOX_USER' (sudo useradd --system --no-create-home" \
            "--shell /usr/sbin/nologin $SANDBOX_USER)."
    fi
    say "not root: smoke runs will be refused unless MLAGENT_SANDBOX_UNSAFE=1 (no isolation); continuing."
    exit 0
fi

if [ "${#need[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        say "installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update >/dev/null 2>&1 || say "apt-get update failed; trying the cached package lists"
        if ! apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; then
            say "could not install ${need[*]}; smoke runs (and the PostgreSQL tests) need them."
            status=1
        fi
    else
        say "no apt-get: install ${need[*]} with this system's package manager."
        status=1
    fi
fi

if ! getent passwd "$SANDBOX_USER" >/dev/null 2>&1; then
    if useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        --user-group "$SANDBOX_USER" 2>/dev/null; then
        say "created sandbox user $SANDBOX_USER ($(id -u "$SANDBOX_USER"))"
    else
        say "could not create user $SANDBOX_USER; the sandbox falls back to nobody (65534)."
    fi
fi

if command -v bwrap >/dev/null 2>&1; then
    say "ok: $(bwrap --version), sandbox user $(id -u "$SANDBOX_USER" 2>/dev/null || echo 65534)"
fi
exit "$status"
