#!/usr/bin/env bash
# deploy/verify.sh: check the files in deploy/ without installing or starting anything.
#
#   1. systemd-analyze verify on every unit file, if systemd-analyze is installed and verify works
#      here (it needs no running systemd). Unit files name /usr/local/bin/forkblog, which verify
#      insists exists and is executable, so they are checked as copies in a temporary directory
#      whose ExecStart points at a stub there; nothing outside that directory is written, and line
#      numbers are unchanged. systemd ignores a bad setting with only a "file:line:" warning and
#      exit 0, so any such line about our files counts as an error here.
#   2. Invariants between the units and the server's flags (grace < stop timeout, and so on), and
#      the logrotate snippet's list of units to signal against the unit files here.
#   3. logrotate --debug on the logrotate snippet, if logrotate is installed.
#
# Exit 0 when everything checked is fine or a check had to be skipped (said on stdout);
# exit 1 on a real error in a file. Fast (about a second), non-interactive, for .ci/run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Plain, stable output to parse: no colours, no pager, English messages.
export SYSTEMD_COLORS=0 SYSTEMD_PAGER= SYSTEMD_LESS= LC_ALL=C

units=(forkblog.service forkblog-https.service forkblog.socket forkblog-activated.service
       forkblog-inetd.socket forkblog-inetd@.service forkblog-inetd.slice)

errors=0
error() { echo "  ERROR: $*"; errors=$((errors + 1)); }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/forkblog-verify.XXXXXX") || { echo "verify.sh: mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

for unit in "${units[@]}"; do
    [[ -f $here/$unit ]] || error "deploy/$unit is missing"
done

# --- 1. systemd-analyze verify -----------------------------------------------------------------
verify_units() {
    local sa
    sa=$(command -v systemd-analyze) || { echo "systemd-analyze: not installed, unit verification skipped"; return; }

    # Options this version knows: no man page lookups (man-db may be absent), no generators, and
    # errors only from our units, not from the host's units they pull in (sockets.target, ...).
    local help opts=()
    help=$("$sa" --help 2>&1)
    [[ $help == *--man* ]] && opts+=(--man=no)
    [[ $help == *--generators* ]] && opts+=(--generators=no)
    [[ $help == *--recursive-errors* ]] && opts+=(--recursive-errors=no)

    mkdir -p "$tmp/bin" "$tmp/units" "$tmp/canary"
    printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/forkblog"
    chmod 755 "$tmp/bin/forkblog"

    # Does verify work at all here? A known-good unit must pass silently...
    printf '[Unit]\nDescription=canary\n[Service]\nExecStart=%s\n' "$tmp/bin/forkblog" >"$tmp/canary/fbcanary.service"
    local out rc
    out=$("$sa" verify "${opts[@]}" "$tmp/canary/fbcanary.service" 2>&1); rc=$?
    if ((rc != 0)) || [[ -n $out ]]; then
        echo "systemd-analyze verify: does not work on this machine (exit $rc), unit verification skipped:"
        sed 's/^/    /' <<<"$out"
        return
    fi
    # ...and a unit with a bad key must draw a "file:line:" warning, or that check below is blind.
    printf 'NoSuchKeyForkblog=1\n' >>"$tmp/canary/fbcanary.service"
    out=$("$sa" verify "${opts[@]}" "$tmp/canary/fbcanary.service" 2>&1)
    local warnings_seen=yes
    [[ $out == *"$tmp/canary/fbcanary.service:"* ]] || warnings_seen=no

    local unit
    for unit in "${units[@]}"; do
        [[ -f $here/$unit ]] || continue
        sed "s#/usr/local/bin/forkblog#$tmp/bin/forkblog#g" "$here/$unit" >"$tmp/units/$unit"
    done

    echo "systemd-analyze verify ($("$sa" --version | head -n1), ${opts[*]}):"
    for unit in "${units[@]}"; do
        [[ -f $tmp/units/$unit ]] || continue
        out=$("$sa" verify "${opts[@]}" "$tmp/units/$unit" 2>&1); rc=$?
        # Report paths as in the repository.
        out=$(sed -e "s#$tmp/units/#deploy/#g" -e "s#$tmp/bin/forkblog#/usr/local/bin/forkblog#g" <<<"$out")
        local bad=0 line
        ((rc == 0)) || bad=1
        while IFS= read -r line; do
            [[ -z $line ]] && continue
            # "deploy/x.service:12: ..." (a setting systemd would ignore) or "x.service: ..."
            # about one of our units: errors. Anything else is about the host: shown only.
            local ours=0 u
            for u in "${units[@]}"; do
                [[ $line == "deploy/$u:"* || $line == "$u:"* ]] && ours=1
            done
            if ((ours)); then bad=1; fi
        done <<<"$out"
        if ((bad)); then
            error "$unit (systemd-analyze exit $rc)"
            [[ -n $out ]] && sed 's/^/      /' <<<"$out"
        else
            echo "  ok  $unit"
            [[ -n $out ]] && sed 's/^/      note: /' <<<"$out"
        fi
    done
    [[ $warnings_seen == yes ]] ||
        echo "  note: this systemd-analyze did not report a bad key in a test unit; only its exit code was checked"
}

# --- 2. invariants -----------------------------------------------------------------------------
# The value of KEY=VALUE in a unit file (the last one wins, as in systemd).
setting() { sed -n "s/^$2=//p" "$1" | tail -n1; }
# The numeric argument of a forkblog flag in ExecStart (continuation lines joined).
flag() {
    awk '/^[#;]/ { next }
         { line = line $0 }
         /\\$/ { sub(/\\$/, "", line); next }
         { if (line ~ /^ExecStart=/) print line; line = "" }' "$1" |
        grep -oE -- "$2[ =][0-9]+" | tail -n1 | grep -oE '[0-9]+$'
}
# systemd time span ("20s", "20", "1min") in seconds; empty if not understood.
seconds() {
    case $1 in
        *min) echo $((${1%min} * 60)) ;;
        *s) echo "${1%s}" ;;
        *[!0-9]* | '') echo '' ;;
        *) echo "$1" ;;
    esac
}

check_invariants() {
    echo "invariants:"
    local unit f memory_first= memory_errors=$errors
    for unit in forkblog.service forkblog-https.service forkblog-activated.service; do
        f=$here/$unit
        [[ -f $f ]] || continue
        local grace stop children tasks prevent kill reload
        grace=$(flag "$f" --grace)
        stop=$(seconds "$(setting "$f" TimeoutStopSec)")
        children=$(flag "$f" --max-children)
        tasks=$(setting "$f" TasksMax)
        prevent=" $(setting "$f" RestartPreventExitStatus) "
        kill=$(setting "$f" KillMode)
        reload=$(setting "$f" ExecReload)
        local n0=$errors
        [[ -n $grace && -n $stop ]] && ((stop > grace)) ||
            error "$unit: TimeoutStopSec (${stop:-unset}) must exceed --grace (${grace:-unset}), or systemd kills a clean drain"
        [[ -n $children && $tasks =~ ^[0-9]+$ ]] && ((tasks > children + 1)) ||
            error "$unit: TasksMax (${tasks:-unset}) must exceed --max-children (${children:-unset}) + the parent"
        [[ $prevent == *" 3 "* ]] ||
            error "$unit: RestartPreventExitStatus must include 3 (already running), or it restarts in a loop"
        [[ $kill == mixed ]] ||
            error "$unit: KillMode=$kill: TERM must reach only the parent (mixed) so children can finish"
        [[ $reload == *-HUP*'$MAINPID'* || $reload == *'forkblog reload --lock '* ]] ||
            error "$unit: ExecReload must be 'forkblog reload --lock LOCK' (HUP to the lock's holder only)"
        ((errors == n0)) && echo "  ok  $unit: grace ${grace}s < stop ${stop}s, tasks $tasks > children $children, no restart on 3, KillMode=mixed, reload signals the main process only"
        # One memory budget, measured for a full re-render (deploy/README.md): the same in every
        # long-running unit, MemoryHigh below it.
        local memory="MemoryMax=$(setting "$f" MemoryMax) MemoryHigh=$(setting "$f" MemoryHigh)"
        : "${memory_first:=$memory}"
        [[ $memory == "$memory_first" ]] ||
            error "$unit: $memory differs from the other units' $memory_first"
        local max high
        max=$(setting "$f" MemoryMax) high=$(setting "$f" MemoryHigh)
        [[ $max =~ ^[0-9]+M$ && $high =~ ^[0-9]+M$ ]] && ((${high%M} < ${max%M})) ||
            error "$unit: MemoryHigh ($high) must be below MemoryMax ($max), both in M"
    done
    ((errors == memory_errors)) && echo "  ok  memory budget of the long-running units: $memory_first"
    f=$here/logrotate.conf
    if [[ -f $f ]]; then
        if grep -q -- '--kill-whom=main' "$f" && grep -q 'USR1' "$f" && grep -q '^ *delaycompress' "$f"; then
            echo "  ok  logrotate.conf: USR1 to the main process only, delaycompress"
        else
            error "logrotate.conf: must send USR1 with --kill-whom=main (children die of USR1) and use delaycompress"
        fi
        check_rotated_units "$f"
    else
        error "deploy/logrotate.conf is missing"
    fi
}

# The units the logrotate snippet signals must be exactly the units in deploy/ that keep the
# access log open: every *.service whose ExecStart runs "serve --access-log" without --inetd
# (an inetd instance opens the log per connection). One left out writes access.log.1 for ever
# after a rotation; one that does not exist is a typo.
check_rotated_units() {
    local snippet=$1 f unit
    local -A want=() have=()
    for f in "$here"/*.service; do
        [[ -f $f ]] || continue
        local exec
        exec=$(awk '/^[#;]/ { next }
                    { line = line $0 }
                    /\\$/ { sub(/\\$/, "", line); next }
                    { if (line ~ /^ExecStart=/) print line; line = "" }' "$f")
        [[ $exec == *" serve"* && $exec == *--access-log* && $exec != *--inetd* ]] &&
            want[$(basename "$f")]=1
    done
    for unit in $(sed -n 's/^[[:space:]]*for unit in \(.*\); do$/\1/p' "$snippet"); do
        have[$unit]=1
    done
    local n0=$errors
    ((${#have[@]})) || error "logrotate.conf: no 'for unit in ...; do' list of units to signal found"
    for unit in "${!want[@]}"; do
        [[ -n ${have[$unit]:-} ]] ||
            error "logrotate.conf: does not signal $unit, which holds the access log open (it would write access.log.1 for ever)"
    done
    for unit in "${!have[@]}"; do
        [[ -n ${want[$unit]:-} ]] ||
            error "logrotate.conf: signals $unit, which is not a unit in deploy/ holding the access log"
    done
    ((errors == n0)) &&
        echo "  ok  logrotate.conf: signals every unit that holds the log: $(printf '%s\n' "${!want[@]}" | sort | paste -sd' ')"
}

# --- 3. logrotate --------------------------------------------------------------------------------
check_logrotate() {
    local lr out
    lr=$(command -v logrotate || true)
    [[ -z $lr && -x /usr/sbin/logrotate ]] && lr=/usr/sbin/logrotate
    [[ -n $lr ]] || { echo "logrotate: not installed, snippet check skipped"; return; }
    [[ -f $here/logrotate.conf ]] || return
    # Same file, pointed at a log in the temp directory that does not exist: parse only, rotate nothing.
    sed "s#/var/log/forkblog/#$tmp/log/#g" "$here/logrotate.conf" >"$tmp/logrotate.conf"
    chmod 644 "$tmp/logrotate.conf"
    out=$("$lr" --debug --state "$tmp/logrotate.state" "$tmp/logrotate.conf" 2>&1)
    out=$(sed "s#$tmp/logrotate.conf#deploy/logrotate.conf#g" <<<"$out")
    if grep -q '^error:' <<<"$out"; then
        error "logrotate.conf:"
        grep '^error:' <<<"$out" | sed 's/^/      /'
    else
        echo "logrotate --debug:"
        echo "  ok  logrotate.conf"
    fi
}

verify_units
check_invariants
check_logrotate

if ((errors)); then
    echo "verify.sh: $errors error(s)"
    exit 1
fi
echo "verify.sh: all checks passed"
