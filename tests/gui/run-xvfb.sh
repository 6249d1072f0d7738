#!/bin/sh
# Runs a GUI test under a private X server (Xvfb) and D-Bus session bus; exit 77 (skipped)
# when Xvfb is missing.
if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "xvfb-run not found (Debian package xvfb): skipped" >&2
    exit 77
fi
if command -v dbus-run-session >/dev/null 2>&1; then
    exec xvfb-run -a -s "-screen 0 1280x1024x24" dbus-run-session -- "$@"
fi
exec xvfb-run -a -s "-screen 0 1280x1024x24" "$@"
