"""The busybox Linux guest of the network tests and benchmark: Debian's i386 kernel with the
driver of one network card (modules from the same kernel package), an initramfs whose
script brings eth0 up with udhcpc and then runs a test's commands. Shared by
tests/net/linux-net.py and bench/bench-net.py.

Cards, as hangar-run's --nic names them, with the modules Linux needs and QEMU's name for
the same card (for the benchmark's comparison).
"""
import http.server
import os
import socket
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT = os.path.join(HERE, "..", "boot")

NET8390 = "drivers/net/ethernet/8390/"
REALTEK = "drivers/net/ethernet/realtek/"
CARDS = {
    # hangar --nic: (modules with their parameters, QEMU -nic model)
    "ne2k_isa": ([NET8390 + "8390p.ko", NET8390 + "ne.ko io=0x300 irq=7"], None),
    "ne2k_pci": ([NET8390 + "8390.ko", NET8390 + "ne2k-pci.ko"], "ne2k_pci"),
    "rtl8139,chip=classic": (["drivers/net/mii.ko", REALTEK + "8139too.ko"], None),
    "rtl8139": (["drivers/net/mii.ko", REALTEK + "8139cp.ko"], "rtl8139"),
}

# udhcpc hands the lease to a script in its environment; busybox ships none.
PROLOGUE = r"""
cat > /udhcpc.sh <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    [ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
    echo "dhcp: $interface $ip router $router dns $dns"
    ;;
esac
EOF
chmod +x /udhcpc.sh
for m in @MODULES@; do
    set -- $m
    f=$1; shift
    insmod /lib/modules/$f "$@" || echo "net: insmod $f failed"
done
ifconfig lo 127.0.0.1 up
ifconfig eth0 up || echo "net: no eth0"
echo "net: eth0 $(cat /sys/class/net/eth0/address) driver \
$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
udhcpc -i eth0 -s /udhcpc.sh -n -q -t 10 -T 2 || echo "net: dhcp failed"
"""


def card_modules(card):
    return CARDS[card][0]


class Guest:
    """Builds the initramfs for card with the script's commands after the network is up
    and starts hangar-run (host clock: user networking is real time)."""

    def __init__(self, run, assets, card, script, work, extra_args=(), memory=128, start=True):
        subprocess.run([os.path.join(BOOT, "assets.sh"), assets], check=True)
        mods = card_modules(card)
        words = " ".join("'%s'" % m for m in mods)
        path = os.path.join(work, "test.sh")
        with open(path, "w") as f:
            f.write(PROLOGUE.replace("@MODULES@", words) + script)
        self.initrd = os.path.join(work, "initrd-%s.gz" % card.replace(",", "_"))
        subprocess.run([os.path.join(BOOT, "mkinitramfs.sh"), os.path.join(assets, "busybox"),
                        path, self.initrd, os.path.join(assets, "modules")] +
                       [m.split()[0] for m in mods], check=True)
        self.kernel = os.path.join(assets, "vmlinuz-686")
        self.serial = os.path.join(work, "serial-%s.log" % card.replace(",", "_"))
        if os.path.exists(self.serial):
            os.unlink(self.serial)
        self.proc = None
        if start:
            self.proc = subprocess.Popen(
                [run, "-m", str(memory), "--kernel", self.kernel, "--initrd", self.initrd,
                 "--append", "console=ttyS0 quiet", "--serial", "file:" + self.serial,
                 "--nic", card] + list(extra_args))

    def log(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError("hangar-run ended (status %d) before %r"
                                     % (self.proc.returncode, text))
            if time.monotonic() > deadline:
                raise AssertionError("no %r within %d s" % (text, timeout))
            time.sleep(0.2)

    def stop(self, timeout=60):
        """Waits for the guest's power-off (or ends hangar-run) and returns its status."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FileServer:
    """An HTTP server on 127.0.0.1 (the guest reaches it as 10.0.2.2) serving blobs."""

    def __init__(self, files):
        files = dict(files)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
