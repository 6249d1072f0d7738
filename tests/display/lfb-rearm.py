#!/usr/bin/env python3
"""The CPU's direct writes to the Cirrus frame buffer reach the display surface also after
the first frame (engine/bus.h hg_bus_set_direct: the CPU maps video memory pages for
writing like RAM; every refresh takes the dirty pages and makes it map them again).

lfb-rearm.asm fills the 1024x768x16 screen with blue, waits about a third of a second (the
display refreshes about 20 times), then stores one red pixel at (100, 100) and says "B"
on the debug console. The monitor's screendump must show that pixel red and its
neighbours blue. On the Cirrus it also runs a system-to-screen blit fed by CPU writes to
the frame buffer's first page right after mapping that page for writing: the blit's
pixels appear and the page keeps the fill. Run once for each adapter: the Cirrus (BAR0) and, with "--vga std", the
standard VGA's Bochs VBE frame buffer.
usage: lfb-rearm.py HANGAR_RUN LFB_REARM_SECTOR [HANGAR_RUN_OPTION...]
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

run, sector, extra = sys.argv[1], sys.argv[2], sys.argv[3:]


def read_png(path):
    """Decodes an 8-bit RGB, non-interlaced PNG (what screendump writes) to RGB bytes."""
    with open(path, "rb") as f:
        data = f.read()
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
    stride, out, prev = w * 3, bytearray(), bytearray(w * 3)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
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
        out += line
        prev = line
    return w, h, bytes(out)


failures = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as work:
    floppy, log = os.path.join(work, "fd.img"), os.path.join(work, "debugcon.log")
    mon_path, shot = os.path.join(work, "mon.sock"), os.path.join(work, "shot.png")
    with open(sector, "rb") as f, open(floppy, "wb") as out:
        out.write(f.read().ljust(1474560, b"\0"))
    proc = subprocess.Popen([run, "-m", "32", "--serial", "none", "--fda", floppy, "--boot", "a",
                             "--debugcon", "file:" + log, "--monitor", "unix:" + mon_path] + extra)
    try:
        deadline = time.time() + 60
        text = ""
        while time.time() < deadline and not text.endswith(("B\n", "\nE\n")):
            time.sleep(0.2)
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    text = f.read()
        tail = text[text.rfind("set VGA mode"):] if "set VGA mode" in text else text[-80:]
        cirrus = "--vga" not in extra
        want = "\nA\nC\nB\n" if cirrus else "\nA\nB\n"
        check(text.endswith(want), "the guest filled the screen, stored the late pixel%s "
              "(debug console ends %r)" % (" and ran the blit" if cirrus else "", tail[-20:]))
        time.sleep(0.3)  # a few refreshes
        s = socket.socket(socket.AF_UNIX)
        s.connect(mon_path)
        f = s.makefile("rw")
        f.readline()
        f.write("screendump %s\ninfo status\n" % shot)
        f.flush()
        while not f.readline().startswith("VM status"):
            pass
        w, h, px = read_png(shot)
        check((w, h) == (1024, 768), "the display is 1024x768 (%dx%d)" % (w, h))

        def at(x, y):
            i = (y * w + x) * 3
            return tuple(px[i:i + 3])
        blue = at(0, 0)
        check(blue[2] > 200 and blue[0] < 50 and blue[1] < 50, "the fill is blue: %r" % (blue,))
        same = sum(1 for i in range(0, len(px), 3) if tuple(px[i:i + 3]) == blue)
        others = 1 + (8 if cirrus else 0)
        check(same == w * h - others, "all but %d pixels are the fill's blue (%d of %d)"
              % (others, same, w * h))
        red = at(100, 100)
        check(red[0] > 200 and red[1] < 50 and red[2] < 50,
              "the pixel stored a third of a second later is red: %r" % (red,))
        if cirrus:
            green = [at(x, y) for y in (200, 201) for x in range(200, 204)]
            check(all(p[1] > 200 and p[0] < 50 and p[2] < 50 for p in green),
                  "the blit drew its 4x2 green pixels at (200, 200): %r" % (green[:2],))
            first = [at(x, 0) for x in range(8)]
            check(all(p == blue for p in first), "the blit's data written to the frame "
                  "buffer's first page went to the blitter: (0, 0)-(7, 0) stay blue")
        f.write("quit\n")
        f.flush()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
