#!/usr/bin/env python3
"""Issue 4, proof 2: the Debian installer's graphical (gtk) variant reaches its first screen
on the Cirrus adapter (Linux's cirrus DRM driver, 1024x768), and a screenshot taken with
the monitor's screendump shows it: the right size, the installer's dark teal banner across
the top and its light grey page below — properties a wrong mode, pitch or bit depth breaks.

usage: installer-gtk.py HANGAR_RUN
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

run = sys.argv[1]
DI = "/usr/lib/debian-installer/images/12/i386/gtk/debian-installer/i386/"


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what screendump writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 2 and interlace == 0, "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride, rows, prev = w * 3, [], bytearray(w * 3)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, rows


def mean(rows, y0, y1, x0, x1):
    r = g = b = n = 0
    for y in range(y0, y1, 4):
        row = rows[y]
        for x in range(x0, x1, 4):
            r, g, b, n = r + row[3 * x], g + row[3 * x + 1], b + row[3 * x + 2], n + 1
    return r / n, g / n, b / n


def looks_right(path):
    w, h, rows = read_png(path)
    if (w, h) != (1024, 768):
        return False, "size %dx%d" % (w, h)
    top = mean(rows, 4, 64, 0, 1024)      # the banner
    page = mean(rows, 200, 700, 0, 1024)  # the page under it
    teal = top[1] > top[0] + 20 and top[2] > top[0] + 10 and max(top) < 140
    grey = min(page) > 200
    return teal and grey, "banner mean %s, page mean %s" % (
        tuple(round(v) for v in top), tuple(round(v) for v in page))


with tempfile.TemporaryDirectory() as work:
    mon = os.path.join(work, "monitor.sock")
    proc = subprocess.Popen([run, "-m", "1024", "--kernel", DI + "linux", "--initrd",
                             DI + "initrd.gz", "--append", "video=1024x768",
                             "--serial", "none", "--monitor", "unix:" + mon,
                             "--clock", "icount"])
    start = time.time()
    while not os.path.exists(mon) and time.time() - start < 30:
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX)
    s.connect(mon)
    f = s.makefile("rw")
    f.readline()
    shot, status, why = os.path.join(work, "shot.png"), 1, "no screenshot"
    while time.time() - start < 800:
        time.sleep(10)
        if proc.poll() is not None:
            why = "hangar-run ended with status %d" % proc.returncode
            break
        f.write("screendump %s\ninfo status\n" % shot)
        f.flush()
        while not f.readline().startswith("VM status"):
            pass
        if os.path.exists(shot):
            ok, why = looks_right(shot)
            if ok:
                status = 0
                break
    f.write("quit\n")
    f.flush()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if status:
        print("FAIL: the installer's first graphical screen did not appear (%s)" % why)
    else:
        print("the graphical installer's first screen after %.0f s: %s" % (time.time() - start, why))
    sys.exit(status)
