#!/usr/bin/env python3
"""VNC server tests of issue 4 against a real RFB client (rfb.py, beside this file).

1. hangar-run --vnc unix:PATH boots SeaBIOS and a boot sector (echo-boot.asm) from a
   floppy. The client sees a framebuffer of the display's size (the 720x400 of VGA text
   mode 3); the SeaBIOS banner rows are not all background; pointer events reach the
   guest's PS/2 mouse as relative motion and buttons (the guest prints the packets); keys
   typed as KeyEvents (letters, digits, shifted punctuation; a '/' sent with Shift held as
   a German client does; an adiaeresis no US key types, dropped as documented) reach the
   guest's BIOS and show on its text screen (read through the monitor), and so do raw
   keys sent as QEMU Extended Key Events (the guest's layout decides their symbol); after
   Enter, the guest's switch to VGA mode 13h reaches the client as a DesktopSize change
   with the new picture.
2. hangar-run --vnc 127.0.0.1:N --vnc-password (then --vnc-password-file): only VNC authentication is offered, a wrong
   password is refused, the right one is accepted.

usage: vnc-boot.py HANGAR_RUN
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import rfb  # noqa: E402

run = sys.argv[1]
TEXT = "Hello, World! 1+1=2 @#$%^&*()_{}|:\"<>?~`[]\\;',.-"
# A US client holds Shift for these; the test sends Shift around them as a client would.
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?') | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
failures = []
passed = []


def check(cond, what):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    (passed if cond else failures).append(what)


def wait_for(path, proc, timeout=30):
    start = time.time()
    while not os.path.exists(path):
        if proc.poll() is not None or time.time() - start > timeout:
            raise SystemExit("FAIL: hangar-run did not open %s (status %s)" % (path, proc.poll()))
        time.sleep(0.1)


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        self.f.readline()

    def screen(self):
        self.f.write("info screen\ninfo status\n")
        self.f.flush()
        lines = []
        while True:
            line = self.f.readline()
            if not line or line.startswith("VM status:"):
                return "".join(lines)
            lines.append(line)

    def wait_screen(self, text, timeout):
        start = time.time()
        while time.time() - start < timeout:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.5)
        return self.screen()

    def quit(self):
        self.f.write("quit\n")
        self.f.flush()


def stop(proc):
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def boot_test(work):
    floppy = os.path.join(work, "floppy.img")
    subprocess.run(["nasm", "-f", "bin", "-o", floppy, os.path.join(here, "echo-boot.asm")],
                   check=True)
    with open(floppy, "r+b") as f:
        f.truncate(1474560)
    vnc_path, mon_path = os.path.join(work, "vnc.sock"), os.path.join(work, "mon.sock")
    proc = subprocess.Popen([run, "-m", "32", "--serial", "none", "--fda", floppy, "--boot", "a",
                             "--vnc", "unix:" + vnc_path, "--monitor", "unix:" + mon_path])
    try:
        wait_for(vnc_path, proc)
        wait_for(mon_path, proc)
        mon = Monitor(mon_path)
        screen = mon.wait_screen("vnc>", 120)  # the dump trims trailing blanks
        check("SeaBIOS" in screen and "vnc>" in screen, "SeaBIOS banner and the prompt on "
              "the text screen")
        s = socket.socket(socket.AF_UNIX)
        s.connect(vnc_path)
        c = rfb.Client(s)
        c.set_encodings([rfb.ENC_RAW, rfb.ENC_DESKTOP_SIZE])
        c.update()
        check((c.width, c.height) == (720, 400),
              "framebuffer %dx%d is the display's 720x400 (80x25 text, 9x16 cells)"
              % (c.width, c.height))
        bg = c.fb[c.width * c.height - 1]
        banner = [c.fb[y * c.width + x] for y in range(0, 32) for x in range(0, 360)]
        lit = sum(1 for p in banner if p != bg)
        check(lit > 200, "banner rows: %d of %d pixels are not background" % (lit, len(banner)))

        # The pointer: no absolute device on the board, so the server sends the motion
        # between two positions to the PS/2 mouse; the guest prints each packet.
        c.pointer(100, 100)
        c.pointer(110, 105, 1)
        c.pointer(110, 105, 0)
        packets = "vnc>  290AFB 080000"
        screen = mon.wait_screen(packets, 30)
        # 29: left button, Y negative (PS/2 counts up); X +10, Y -5; then the release.
        check(packets in screen, "pointer motion and button reached the guest's PS/2 mouse "
              "as packets %r" % packets[6:])
        if packets not in screen:
            print(screen)

        for ch in TEXT:
            if ch in SHIFTED:
                c.key(rfb.XK_SHIFT_L, True)
            c.tap(ord(ch))
            if ch in SHIFTED:
                c.key(rfb.XK_SHIFT_L, False)
            time.sleep(0.03)
        # A German layout's "/" is Shift+7: the client holds Shift and sends the keysym
        # slash, which needs no Shift on a US keyboard (the server lifts Shift for it).
        c.key(rfb.XK_SHIFT_L, True)
        c.tap(ord("/"))
        c.key(rfb.XK_SHIFT_L, False)
        c.tap(0xE4)  # adiaeresis: no US key types it, dropped (vnc-keysym.c)
        c.tap(ord("x"))
        # QEMU Extended Key Event: raw keys, the guest's (US) layout decides. A German
        # client's Z key sits where the US Y is; its adiaeresis key is the US apostrophe.
        c.set_encodings([rfb.ENC_RAW, rfb.ENC_DESKTOP_SIZE, rfb.ENC_QEMU_EXT_KEY])
        c.update()
        check(c.ext_key, "the server acknowledged the QEMU Extended Key Event")
        for keysym, keycode in ((ord("z"), 0x15), (0xE4, 0x28)):
            c.ext_key_event(keysym, keycode, True)
            c.ext_key_event(keysym, keycode, False)
        c.ext_key_event(rfb.XK_SHIFT_L, 0x2A, True)
        c.ext_key_event(ord("!"), 0x02, True)
        c.ext_key_event(ord("!"), 0x02, False)
        c.ext_key_event(rfb.XK_SHIFT_L, 0x2A, False)
        want = packets + TEXT + "/xy'!"
        screen = mon.wait_screen(want, 60)
        check(want in screen, "the typed keys reached the guest: %r" % want)
        if want not in screen:
            print(screen)

        # Enter: the guest switches to mode 13h; the client follows the resize.
        c.tap(rfb.XK_RETURN)
        deadline = time.time() + 60
        while not c.resizes and time.time() < deadline:
            c.update(incremental=True)
        check(bool(c.resizes) and (c.width, c.height) == (320, 200),
              "desktop resize reached the client: %s" % c.resizes)
        deadline = time.time() + 30
        red = 0
        while time.time() < deadline:
            c.update()
            red = sum(1 for p in c.fb if p == 0xAA0000)
            if red == c.width * c.height:
                break
            time.sleep(0.5)
        check(red == c.width * c.height,
              "the new mode's picture: %d of %d pixels in colour 4 (0xAA0000)"
              % (red, c.width * c.height))
        s.close()
        mon.quit()
        stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def free_display():
    for n in range(40, 99):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", 5900 + n))
                return n
            except OSError:
                continue
    raise SystemExit("FAIL: no free TCP port from 5940 to 5998")


def password_test(work, from_file):
    n = free_display()
    mon_path = os.path.join(work, "mon2.sock")
    option = ["--vnc-password", "s3cret!"]
    if from_file:  # the password stays out of the process list
        option = ["--vnc-password-file", os.path.join(work, "password")]
        with open(option[1], "w") as f:
            f.write("s3cret!\n")
    print("password from %s" % option[0])
    proc = subprocess.Popen([run, "-m", "32", "--serial", "none", "--vnc", "127.0.0.1:%d" % n,
                             "--monitor", "unix:" + mon_path] + option)
    try:
        wait_for(mon_path, proc)

        def connect(password):
            # The server listens once the machine's thread runs, which may be a moment after
            # the monitor's socket appeared (on a loaded machine).
            end = time.monotonic() + 20
            while True:
                try:
                    sock = socket.create_connection(("127.0.0.1", 5900 + n))
                    break
                except ConnectionRefusedError:
                    if time.monotonic() > end or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            return rfb.Client(sock, password)

        try:
            connect(None)
            check(False, "a client without a password is refused")
        except rfb.AuthFailed as e:
            check(True, "a client without a password is refused (%s)" % e)
        try:
            connect("wrong")
            check(False, "a wrong password is refused")
        except rfb.AuthFailed as e:
            check(True, "a wrong password is refused (%s)" % e)
        try:
            c = connect("s3cret!")
            check(True, "the right password is accepted (desktop %r, %dx%d)"
                  % (c.name, c.width, c.height))
            c.s.close()
        except rfb.AuthFailed as e:
            check(False, "the right password is accepted (%s)" % e)
        # Only 127.0.0.1 by default: ":N" must not listen on other addresses.
        Monitor(mon_path).quit()
        stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


with tempfile.TemporaryDirectory() as work:
    boot_test(work)
    password_test(work, False)
    password_test(work, True)
print("%d passed, %d failed" % (len(passed), len(failures)))
sys.exit(1 if failures else 0)
