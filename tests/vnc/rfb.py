"""A small RFB 3.8 client (RFC 6143) for the VNC tests, python3 standard library only: the
handshake with the None and VNC security types (VNC authentication's DES is implemented
below), SetEncodings (Raw, DesktopSize), FramebufferUpdateRequest, KeyEvent, PointerEvent,
and a local copy of the framebuffer as 0xRRGGBB integers."""
import socket
import struct

# ---- DES (FIPS 46-3), only encryption, enough for VNC authentication ----
_IP = [58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
       62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
       57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
       61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7]
_FP = [_IP.index(i) + 1 for i in range(1, 65)]  # the inverse permutation
_E = [32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
      16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31,
      32, 1]
_P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
      2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25]
_PC1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27,
        19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
        14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4]
_PC2 = [14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20,
        13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46,
        42, 50, 36, 29, 32]
_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]
_S = [
    "14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 "
    "4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13",
    "15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 "
    "0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9",
    "10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 "
    "13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12",
    "7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 "
    "10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14",
    "2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 "
    "4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3",
    "12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 "
    "9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13",
    "4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 "
    "1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12",
    "13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 "
    "7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11",
]
_S = [[int(x) for x in s.split()] for s in _S]


def _perm(value, table, width):
    """Bit 1 of a DES table is the most significant bit of a width-bit value."""
    out = 0
    for pos in table:
        out = (out << 1) | ((value >> (width - pos)) & 1)
    return out


def des_encrypt(key, block):
    k = _perm(int.from_bytes(key, "big"), _PC1, 64)
    c, d = k >> 28, k & 0xFFFFFFF
    subkeys = []
    for s in _SHIFTS:
        c = ((c << s) | (c >> (28 - s))) & 0xFFFFFFF
        d = ((d << s) | (d >> (28 - s))) & 0xFFFFFFF
        subkeys.append(_perm((c << 28) | d, _PC2, 56))
    v = _perm(int.from_bytes(block, "big"), _IP, 64)
    left, right = v >> 32, v & 0xFFFFFFFF
    for sk in subkeys:
        x = _perm(right, _E, 32) ^ sk
        f = 0
        for i in range(8):
            six = (x >> (42 - 6 * i)) & 0x3F
            row = ((six >> 4) & 2) | (six & 1)
            f = (f << 4) | _S[i][row * 16 + ((six >> 1) & 0xF)]
        left, right = right, left ^ _perm(f, _P, 32)
    return _perm((right << 32) | left, _FP, 64).to_bytes(8, "big")


def vnc_auth_response(password, challenge):
    """VNC authentication: DES-encrypt the 16-byte challenge with the password (8 bytes,
    zero-padded) as key, each key byte's bits mirrored (a quirk of the original code)."""
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    return des_encrypt(key, challenge[:8]) + des_encrypt(key, challenge[8:])


assert des_encrypt(bytes.fromhex("133457799BBCDFF1"),
                   bytes.fromhex("0123456789ABCDEF")).hex() == "85e813540f0ab405"

# ---- keysyms ----
XK_SHIFT_L, XK_RETURN = 0xFFE1, 0xFF0D
ENC_RAW, ENC_DESKTOP_SIZE, ENC_QEMU_EXT_KEY = 0, -223, -258


class AuthFailed(Exception):
    pass


class Client:
    def __init__(self, sock, password=None):
        self.s = sock
        version = self.recv(12)
        if not version.startswith(b"RFB 003."):
            raise RuntimeError("not an RFB server: %r" % version)
        self.s.sendall(b"RFB 003.008\n")
        n = self.recv(1)[0]
        if n == 0:
            raise RuntimeError("server refused: %r" % self.reason())
        self.security_types = list(self.recv(n))
        if password is None:
            if 1 not in self.security_types:
                raise AuthFailed("no None security type offered: %r" % self.security_types)
            self.s.sendall(b"\x01")
        else:
            if 2 not in self.security_types:
                raise AuthFailed("no VNC authentication offered: %r" % self.security_types)
            self.s.sendall(b"\x02")
            self.s.sendall(vnc_auth_response(password, self.recv(16)))
        if struct.unpack(">I", self.recv(4))[0] != 0:
            raise AuthFailed("authentication failed: %r" % self.reason())
        self.s.sendall(b"\x01")  # ClientInit: shared
        w, h = struct.unpack(">HH", self.recv(4))
        pf = self.recv(16)
        (self.bpp, self.depth, self.big_endian, self.true_colour, self.rmax, self.gmax,
         self.bmax, self.rshift, self.gshift, self.bshift) = struct.unpack(">BBBBHHHBBB", pf[:13])
        self.name = self.recv(struct.unpack(">I", self.recv(4))[0]).decode(errors="replace")
        self.resize(w, h)
        self.resizes = []
        self.ext_key = False  # the server acknowledged the QEMU Extended Key Event

    def recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise EOFError("the server closed the connection")
            data += chunk
        return data

    def reason(self):
        return self.recv(struct.unpack(">I", self.recv(4))[0]).decode(errors="replace")

    def resize(self, w, h):
        self.width, self.height = w, h
        self.fb = [0] * (w * h)

    def set_encodings(self, encodings):
        self.s.sendall(struct.pack(">BxH", 2, len(encodings)) +
                       b"".join(struct.pack(">i", e) for e in encodings))

    def request(self, incremental=False):
        self.s.sendall(struct.pack(">BBHHHH", 3, int(incremental), 0, 0, self.width,
                                   self.height))

    def key(self, keysym, down):
        self.s.sendall(struct.pack(">BBxxI", 4, int(down), keysym))

    def ext_key_event(self, keysym, keycode, down):
        """QEMU Extended Key Event: the XT scancode (0xE0 prefix as the high bit)."""
        self.s.sendall(struct.pack(">BBHII", 255, 0, int(down), keysym, keycode))

    def tap(self, keysym):
        self.key(keysym, True)
        self.key(keysym, False)

    def pointer(self, x, y, buttons=0):
        self.s.sendall(struct.pack(">BBHH", 5, buttons, x, y))

    def read_message(self):
        """Reads one server message; returns its type (0 = a framebuffer update with
        pixels or a new size, -1 = one with only the Extended Key Event acknowledgement)."""
        t = self.recv(1)[0]
        if t == 0:
            n = struct.unpack(">xH", self.recv(3))[0]
            acks = 0
            bpp = self.bpp // 8
            for _ in range(n):
                x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
                if enc == ENC_QEMU_EXT_KEY:
                    self.ext_key = True
                    acks += 1
                elif enc == ENC_DESKTOP_SIZE:
                    self.resize(w, h)
                    self.resizes.append((w, h))
                elif enc == ENC_RAW:
                    data = self.recv(w * h * bpp)
                    order = "big" if self.big_endian else "little"
                    for row in range(h):
                        base = (y + row) * self.width + x
                        for col in range(w):
                            o = (row * w + col) * bpp
                            v = int.from_bytes(data[o:o + bpp], order)
                            r = (v >> self.rshift) & self.rmax
                            g = (v >> self.gshift) & self.gmax
                            b = (v >> self.bshift) & self.bmax
                            self.fb[base + col] = (r << 16) | (g << 8) | b
                else:
                    raise RuntimeError("unexpected encoding %d" % enc)
            if n and acks == n:
                return -1
        elif t == 1:
            n = struct.unpack(">xHH", self.recv(5))[1]
            self.recv(6 * n)
        elif t == 2:
            pass
        elif t == 3:
            self.recv(3)
            self.recv(struct.unpack(">I", self.recv(4))[0])
        else:
            raise RuntimeError("unknown server message %d" % t)
        return t

    def update(self, incremental=False, timeout=10):
        """Requests an update and reads messages until a framebuffer update arrived (the
        server must not be left writing to a client that does not read)."""
        self.request(incremental)
        self.s.settimeout(timeout)
        try:
            while self.read_message() != 0:
                pass
        finally:
            self.s.settimeout(None)
