#!/bin/sh
# hangar-run refuses wrong VNC options with a message and status 1, before it starts
# anything. usage: bad-options.sh HANGAR_RUN
set -u
run=$1
failed=0 passed=0
expect() { # name, message part, args...
    name=$1 part=$2
    shift 2
    out=$("$run" --serial none "$@" 2>&1)
    status=$?
    if [ "$status" -eq 1 ] && printf '%s' "$out" | grep -q -- "$part"; then
        echo "ok: $name: $out"
        passed=$((passed + 1))
    else
        echo "FAIL: $name (status $status): $out"
        failed=$((failed + 1))
    fi
}
expect "spec without a colon" "expected :N, HOST:N or unix:PATH" --vnc 5
expect "display number too big" "expected :N, HOST:N or unix:PATH" --vnc :60000
expect "empty UNIX path" "bad UNIX socket path" --vnc unix:
expect "unknown host" "cannot resolve" --vnc no-such-host.invalid:1
expect "password without --vnc" "needs --vnc" --vnc-password abc
expect "password too long" "1 to 8 characters" --vnc :1 --vnc-password 123456789
expect "missing password file" "vnc-password-file" --vnc :1 --vnc-password-file /nonexistent/pw
expect "VNC in a --max-insns run" "own thread" --vnc :1 --clock icount --max-insns 1000
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
