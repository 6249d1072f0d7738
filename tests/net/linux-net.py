#!/usr/bin/python3
"""Linux networking through each card (issue 8): the busybox guest loads the card's driver
(ne with io=0x300 irq=7, ne2k-pci, 8139too on the classic RTL8139C, 8139cp on the
RTL8139C+), gets its address from user networking's DHCP, fetches a 4 MiB file with wget
from an HTTP server this test runs on the host's loopback (10.0.2.2 to the guest) and
prints its md5, then serves a page with busybox httpd that the test fetches from the host
through a host forward. The pcap dump of the run is read back with tshark (when
installed): DHCP's four messages and the TCP exchange with the host server are in it.
usage: linux-net.py HANGAR_RUN ASSETS_DIR [CARD...]
"""
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguest  # noqa: E402

run, assets = sys.argv[1:3]
cards = sys.argv[3:] or list(netguest.CARDS)
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


SCRIPT = r"""
wget -q -O /tmp/blob http://10.0.2.2:@PORT@/blob && echo "net: fetched $(md5sum < /tmp/blob)"
mkdir -p /www
echo "guest page from @CARD@" > /www/index.html
httpd -p 80 -h /www && echo "net: httpd up"
sleep 300
"""


def tshark(dump, display_filter):
    out = subprocess.run(["tshark", "-r", dump, "-Y", display_filter], capture_output=True,
                         text=True, timeout=120)
    return out.stdout


def one_card(card, work, server, digest):
    hostport = netguest.free_port()
    dump = os.path.join(work, "dump-%s.pcap" % card.replace(",", "_"))
    script = SCRIPT.replace("@PORT@", str(server.port)).replace("@CARD@", card)
    mon = os.path.join(work, "mon.sock")
    guest = netguest.Guest(run, assets, card, script, work,
                           ["--net", "user,hostfwd=tcp:127.0.0.1:%d-:80" % hostport,
                            "--net-dump", dump, "--monitor", "unix:" + mon])
    try:
        guest.wait_for("net: httpd up", 240)
        log = guest.log()
        driver = {"ne2k_isa": "ne", "ne2k_pci": "ne2k-pci", "rtl8139,chip=classic": "8139too",
                  "rtl8139": "8139cp"}[card]
        check("driver " + driver in log, "%s: Linux binds %s to eth0" % (card, driver))
        check("dhcp: eth0 10.0.2.15 router 10.0.2.2" in log,
              "%s: udhcpc leases 10.0.2.15 with router 10.0.2.2" % card)
        check("net: fetched %s" % digest in log,
              "%s: wget from the host's server, md5 %s" % (card, digest))
        with urllib.request.urlopen("http://127.0.0.1:%d/" % hostport, timeout=30) as r:
            page = r.read().decode()
        check(page.strip() == "guest page from " + card,
              "%s: the guest's httpd reached through hostfwd (%r)" % (card, page.strip()))
    except AssertionError as e:
        check(False, "%s: %s" % (card, e))
    finally:
        # The monitor's quit ends hangar-run cleanly: the dump is flushed and closed.
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(30)
                s.connect(mon)
                s.sendall(b"quit\n")
                s.recv(100)
        except OSError as e:
            print("monitor:", e)
        guest.stop(30)
        log = guest.log()
        if failures:
            print(log[-3000:])
    if shutil.which("tshark"):
        dhcp = tshark(dump, "dhcp")
        for msg in ("Discover", "Offer", "Request", "ACK"):
            check("DHCP " + msg in dhcp, "%s: the pcap dump holds DHCP %s" % (card, msg))
        syn = tshark(dump, "tcp.port == %d && tcp.flags.syn == 1" % server.port)
        check(len(syn.splitlines()) >= 2, "%s: the dump holds the TCP handshake with the "
              "host server (%d SYN packets)" % (card, len(syn.splitlines())))
        http = tshark(dump, "http.request.method == \"GET\"")
        check("GET /blob" in http and "GET / " in http,
              "%s: the dump holds both HTTP requests" % card)


def main():
    blob = os.urandom(4 << 20)
    digest = hashlib.md5(blob).hexdigest()
    server = netguest.FileServer({"/blob": blob})
    with tempfile.TemporaryDirectory() as work:
        try:
            for card in cards:
                one_card(card, work, server, digest)
        finally:
            server.close()
    print("%d failed" % len(failures))
    return 1 if failures else 0


sys.exit(main())
