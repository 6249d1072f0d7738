#!/usr/bin/env python3
"""hangar-run --display sdl under Xvfb (issue 4): the SDL window shows the machine's
display and its keys reach the guest.

0. A firmware of a few instructions (written here) sets the Bochs VBE mode 800x600x32,
   waits for a key at the i8042, switches to 1024x768, enables the PS/2 mouse, waits for
   a mouse packet and switches to 640x480: the window follows each mode, a key pressed in
   it (xdotool) reaches the guest, and so does mouse motion once a click grabbed it.

1. SeaBIOS: once the banner is on the text screen (monitor's info screen), the window
   exists with the text mode's size (720x400, xwininfo), an X screenshot of it (xwd) has
   the banner's lit pixels, a click grabs the mouse (the title says how to release it),
   Ctrl+Alt releases it, a resized window shows the picture scaled with its aspect kept
   (black bands above and below), Ctrl+Alt+F goes fullscreen and back (needs a window
   manager: openbox runs inside Xvfb when installed, else that check is skipped), and
   closing the window (WM_DELETE_WINDOW, as a window manager sends it) ends hangar-run
   with status 0.
2. Linux (the boot tests' kernel and busybox initramfs, as linux-keys.py): a command
   typed with xdotool into the window (XTEST: real X key events, so the path is X11
   keycode -> SDL scancode -> PC key code -> i8042 -> the Linux VT) runs in the guest.

Runs itself under xvfb-run -a when not already inside it; exits 77 (skip) without Xvfb,
xdotool, xwininfo or xwd. usage: sdl-display.py HANGAR_RUN ASSETS_DIR
"""
import ctypes
import ctypes.util
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

run, assets = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))

if os.environ.get("HG_SDL_TEST_XVFB") != "1":
    missing = [t for t in ("xvfb-run", "Xvfb", "xdotool", "xwininfo", "xwd")
               if not shutil.which(t)]
    if missing:
        print("SKIP: not installed: %s (Debian: xvfb xdotool x11-utils x11-apps)"
              % " ".join(missing))
        sys.exit(77)
    env = dict(os.environ, HG_SDL_TEST_XVFB="1")
    env.pop("WAYLAND_DISPLAY", None)
    sys.exit(subprocess.call(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24",
                              sys.executable] + sys.argv, env=env))

failures = []


def check(cond, msg):
    print(("ok: " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)
    return cond


def xdotool(*args):
    return subprocess.run(["xdotool"] + list(args), capture_output=True, text=True,
                          timeout=30).stdout.strip()


def find_window(proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = xdotool("search", "--name", "^Hangar")
        if out:
            return int(out.split()[0])
        if proc.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def window_size(wid):
    out = subprocess.run(["xwininfo", "-id", str(wid)], capture_output=True, text=True).stdout
    vals = dict(l.strip().split(":", 1) for l in out.splitlines() if ":" in l)
    return int(vals["Width"]), int(vals["Height"])


def wait_size(wid, want, timeout=10):
    deadline = time.time() + timeout
    size = None
    while time.time() < deadline:
        size = window_size(wid)
        if size == want:
            break
        time.sleep(0.2)
    return size


def wait_title(wid, want, timeout=5):
    deadline = time.time() + timeout
    title = None
    while time.time() < deadline:
        title = xdotool("getwindowname", str(wid))
        if title == want:
            break
        time.sleep(0.1)
    return title


def lit_pixels(wid, path, top_rows=0):
    """Counts the non-black pixels of an xwd dump of the window (ZPixmap, 24/32 bpp), and
    those of its first top_rows rows."""
    with open(path, "wb") as f:
        subprocess.run(["xwd", "-silent", "-id", str(wid)], stdout=f, check=True)
    data = open(path, "rb").read()
    h = struct.unpack(">25I", data[:100])
    hsize, fmt, width, height = h[0], h[2], h[4], h[5]
    byte_order, bpp, bpl, ncolors = h[7], h[11], h[12], h[19]
    masks = h[14] | h[15] | h[16]
    if fmt != 2 or bpp != 32:
        raise RuntimeError("unexpected xwd format %d, %d bpp" % (fmt, bpp))
    pix = data[hsize + 12 * ncolors:]
    order = "<" if byte_order == 0 else ">"
    lit = lit_top = 0
    for y in range(height):
        row = struct.unpack_from(order + "%dI" % width, pix, y * bpl)
        n = sum(1 for p in row if p & masks)
        lit += n
        if y < top_rows:
            lit_top += n
    return (width, height, lit, lit_top) if top_rows else (width, height, lit)


def close_window(wid):
    """Sends WM_DELETE_WINDOW, what a window manager's close button does."""
    x = ctypes.CDLL(ctypes.util.find_library("X11"))
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                             ctypes.c_void_p]
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):  # XClientMessageEvent, padded to an XEvent
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                    ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                    ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("l", ctypes.c_long * 5),
                    ("pad", ctypes.c_long * 12)]

    d = x.XOpenDisplay(None)
    ev = ClientMessage()
    ev.type = 33  # ClientMessage
    ev.window = wid
    ev.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.l[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
    x.XSendEvent(d, wid, 0, 0, ctypes.byref(ev))
    x.XFlush(d)
    x.XCloseDisplay(d)


def monitor(path):
    deadline = time.time() + 30
    while not os.path.exists(path):
        if time.time() > deadline:
            return None
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rw")
    f.readline()
    return f


def info_screen(f):
    f.write("info screen\ninfo status\n")
    f.flush()
    lines = []
    while True:
        line = f.readline()
        if not line or line.startswith("VM status:"):
            return "".join(lines)
        lines.append(line)


GRABBED = "Hangar - press Ctrl+Alt to release the mouse"


def mode_firmware(path):
    """A 64 KiB BIOS image (real mode from F000:FFF0): Bochs VBE 800x600x32, wait for a
    byte from the keyboard controller, then 1024x768x32; enable the mouse, wait for a byte
    from it after its acknowledgement, then 640x480x32; then spin."""
    code = bytearray()

    def dispi(index, value):
        code.extend(b"\xba\xce\x01" + b"\xb8" + struct.pack("<H", index) + b"\xef")
        code.extend(b"\xba\xcf\x01" + b"\xb8" + struct.pack("<H", value) + b"\xef")

    for i, v in ((4, 0), (1, 800), (2, 600), (3, 32), (4, 0x41)):
        dispi(i, v)
    code.extend(b"\xe4\x64\xa8\x01\x74\xfa")  # wait: in al,0x64; test al,1; jz wait
    code.extend(b"\xe4\x60")  # in al,0x60
    for i, v in ((4, 0), (1, 1024), (2, 768), (4, 0x41)):
        dispi(i, v)
    code.extend(b"\xb0\xa8\xe6\x64")  # enable the aux port
    code.extend(b"\xb0\xd4\xe6\x64\xb0\xf4\xe6\x60")  # to the mouse: enable reporting
    # Twice (the ACK, then the first packet byte): wait for a byte with the aux bit,
    # dropping the keyboard's (the key's break code):
    #   in al,0x64; test al,1; jz .; test al,0x20; in al,0x60; jz .
    for _ in range(2):
        code.extend(b"\xe4\x64\xa8\x01\x74\xfa\xa8\x20\xe4\x60\x74\xf4")
    for i, v in ((4, 0), (1, 640), (2, 480), (4, 0x41)):
        dispi(i, v)
    code.extend(b"\xeb\xfe")  # jmp $
    image = bytearray(65536)
    image[:len(code)] = code
    image[0xfff0:0xfff5] = b"\xea\x00\x00\x00\xf0"  # jmp far f000:0000
    with open(path, "wb") as f:
        f.write(image)

wm = None
if shutil.which("openbox"):
    wm = subprocess.Popen(["openbox"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)

with tempfile.TemporaryDirectory() as work:
    # ---- 0. Resolution changes and a key, with a firmware of our own ----
    fw = os.path.join(work, "modes.bin")
    mode_firmware(fw)
    # Its mode switches use the Bochs VBE ports of the standard VGA.
    proc = subprocess.Popen([run, "--display", "sdl", "--serial", "none", "--vga", "std",
                             "--bios", fw])
    wid = find_window(proc)
    if not check(wid is not None, "the SDL window exists"):
        proc.kill()
        sys.exit(1)
    size = wait_size(wid, (800, 600))
    check(size == (800, 600), "the window follows the guest's 800x600 mode (%s)" % (size,))
    time.sleep(1)
    size = window_size(wid)
    check(size == (800, 600), "no key yet: the guest stays in 800x600 (%s)" % (size,))
    if wm:
        xdotool("windowactivate", "--sync", str(wid))
    else:
        xdotool("mousemove", "--window", str(wid), "100", "100")
        xdotool("windowfocus", "--sync", str(wid))
    xdotool("key", "a")
    size = wait_size(wid, (1024, 768))
    check(size == (1024, 768),
          "a key reached the guest, which switched to 1024x768; the window followed (%s)"
          % (size,))
    xdotool("mousemove", "--window", str(wid), "300", "300")
    xdotool("click", "1")
    title = wait_title(wid, GRABBED)
    check(title == GRABBED, "a click grabs the mouse (%r)" % title)
    time.sleep(1)
    size = window_size(wid)
    check(size == (1024, 768), "the grabbing click is not passed on (%s)" % (size,))
    for _ in range(5):
        xdotool("mousemove_relative", "--", "7", "5")
        time.sleep(0.1)
    size = wait_size(wid, (640, 480))
    check(size == (640, 480),
          "relative mouse motion reached the guest, which switched to 640x480 (%s)" % (size,))
    xdotool("key", "ctrl+alt")
    check(wait_title(wid, "Hangar") == "Hangar", "Ctrl+Alt releases the mouse")
    close_window(wid)
    try:
        status = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = None
    check(status == 0, "closing the window ends hangar-run with status 0 (%s)" % status)

    # ---- 1. SeaBIOS: window, picture, grab, fullscreen, close ----
    mon = os.path.join(work, "monitor.sock")
    proc = subprocess.Popen([run, "--display", "sdl", "--serial", "none", "--monitor",
                             "unix:" + mon])
    f = monitor(mon)
    if not check(f is not None, "hangar-run opened its monitor"):
        proc.kill()
        sys.exit(1)
    deadline = time.time() + 120
    screen = ""
    while "SeaBIOS (version" not in screen and time.time() < deadline:
        screen = info_screen(f)
        time.sleep(0.3)
    check("SeaBIOS (version" in screen, "the SeaBIOS banner is on the text screen")
    wid = find_window(proc)
    if not check(wid is not None, "the SDL window exists"):
        proc.kill()
        sys.exit(1)
    size = wait_size(wid, (720, 400))
    check(size == (720, 400), "the window has the text mode's size 720x400 (%s)" % (size,))
    w, h, lit = lit_pixels(wid, os.path.join(work, "window.xwd"))
    # The banner row alone lights about a thousand dots (see test-screendump).
    check((w, h) == (720, 400) and lit > 500,
          "the X screenshot (%dx%d) shows the text: %d non-black pixels" % (w, h, lit))
    check(xdotool("getwindowname", str(wid)) == "Hangar", "title before the grab")
    xdotool("mousemove", "--window", str(wid), "200", "200")
    xdotool("click", "1")
    title = wait_title(wid, GRABBED)
    check(title == GRABBED, "a click grabs the mouse; the title says: %r" % title)
    xdotool("key", "ctrl+alt")
    title = wait_title(wid, "Hangar")
    check(title == "Hangar", "Ctrl+Alt releases the mouse (title %r)" % title)
    # Scaling: 1000x700 shows the 720x400 picture 1.39 times larger, centred with black
    # bands of about 72 rows above and below.
    xdotool("windowsize", str(wid), "1000", "700")
    size = wait_size(wid, (1000, 700))
    time.sleep(0.5)
    w2, h2, lit2, top = lit_pixels(wid, os.path.join(work, "scaled.xwd"), 60)
    check((w2, h2) == (1000, 700) and lit2 > 1.5 * lit and top == 0,
          "scaled to 1000x700: %d non-black pixels, %d in the top band" % (lit2, top))
    xdotool("windowsize", str(wid), "720", "400")
    wait_size(wid, (720, 400))
    if wm:
        xdotool("windowactivate", "--sync", str(wid))
        xdotool("key", "ctrl+alt+f")
        size = wait_size(wid, (1280, 1024))
        check(size == (1280, 1024),
              "Ctrl+Alt+F: fullscreen on the 1280x1024 screen (%s)" % (size,))
        xdotool("key", "ctrl+alt+f")
        size = wait_size(wid, (720, 400))
        check(size == (720, 400), "Ctrl+Alt+F again: back to 720x400 (%s)" % (size,))
    else:
        print("skip: fullscreen (no window manager: install openbox)")
    close_window(wid)
    try:
        status = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = None
    check(status == 0, "closing the window ends hangar-run with status 0 (%s)" % status)

    # ---- 2. Linux: keys typed into the window reach the guest's shell ----
    subprocess.run([os.path.join(here, "..", "boot", "assets.sh"), assets], check=True)
    script = os.path.join(work, "test.sh")
    with open(script, "w") as sf:
        sf.write('echo "keys: ready"\nread -r line < /dev/tty1\n'
                 'echo "keys: got [$line]"\neval "$line"\n')
    initrd = os.path.join(work, "initrd.gz")
    subprocess.run([os.path.join(here, "..", "boot", "mkinitramfs.sh"),
                    os.path.join(assets, "busybox"), script, initrd], check=True)
    serial = os.path.join(work, "serial.log")
    proc = subprocess.Popen([run, "--display", "sdl", "-m", "256", "--kernel",
                             os.path.join(assets, "vmlinuz-686"), "--initrd", initrd,
                             "--append", "console=ttyS0", "--serial", "file:" + serial,
                             "--clock", "icount"])

    def log():
        try:
            with open(serial, errors="replace") as lf:
                return lf.read()
        except FileNotFoundError:
            return ""

    deadline = time.time() + 600
    while "keys: ready" not in log() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    if not check("keys: ready" in log(), "Linux booted to the prompt"):
        proc.kill()
        print(log()[-3000:])
        sys.exit(1)
    time.sleep(1)
    wid = find_window(proc)
    command = "echo sum=$((6*7))"
    xdotool("mousemove", "--window", str(wid), "100", "100")
    if wm:
        xdotool("windowactivate", "--sync", str(wid))
    else:
        xdotool("windowfocus", "--sync", str(wid))
    xdotool("type", "--delay", "60", command)
    xdotool("key", "Return")
    deadline = time.time() + 300
    while "reboot: Power down" not in log() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.5)
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = None
    out = log()
    check("keys: got [%s]" % command in out, "the shell received the line typed in the window")
    check("sum=42" in out, "the typed command ran (sum=42)")
    check(status == 0, "hangar-run ended with status 0 after the guest powered off (%s)" % status)
    if failures:
        print(out[-2000:])

if wm:
    wm.terminate()
    wm.wait()
sys.exit(1 if failures else 0)
