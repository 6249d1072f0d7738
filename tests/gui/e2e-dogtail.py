#!/usr/bin/python3
"""End-to-end test of the real hangar binary through the accessibility tree (dogtail).

Creates a machine in the new-machine assistant (guest type "Other", 64 MiB, the test CD, a
new raw disk), starts it and reads its screen from the list row's thumbnail description
(the text on the machine's screen) until isolinux's line shows that SeaBIOS booted the CD;
pauses (the state and thumbnail.png follow) and takes a screenshot with the window's
button (a PNG of the display's size in the profile and in Pictures, whose lit pixels are
the screen's lines of text), resumes, resets (isolinux's timeout message goes away and
comes back), types a word into the Serial Console (isolinux reads COM1: the word shows at
its prompt on the screen and in the terminal), changes the CD through the Media section's
file chooser (after a reset the second CD's line shows, and the profile names it) and
powers it off through the machine window's buttons; then creates a second machine that
starts when it is created, and runs both at once (each shows its own CD).
Then: a machine made in the assistant with a Sound Blaster 16, whose firmware (set in its
profile, then Reload) plays a tone: the Sound section's Record and Stop leave a WAV file in
the profile's recordings/ that wavcheck.py finds the tone in. Last, a busybox Linux guest
with the kernel's USB HID drivers (the USB tests' modules) waits for a tablet: Attach
Tablet in the USB section, then the host pointer moves over the display without a click,
and the positions the guest reads from the tablet (printed on COM1, read from the Serial
Console) are the display pixels under the pointer; the window never grabbed.
Usage: e2e-dogtail.py HANGAR_BINARY WORK_DIR TONE_PROGRAM BOOT_ASSETS (run by e2e.sh, which
puts test.iso and second.iso in WORK_DIR).
"""
import glob
import os
import re
import subprocess
import sys
import time
import traceback

from dogtail.config import config

config.checkForA11y = False
config.logDebugToFile = False
config.logDebugToStdOut = False
config.actionDelay = 0.2
config.defaultDelay = 0.2
config.searchBackoffDuration = 0.25
config.searchCutoffCount = 40

import gi  # noqa: E402
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf  # noqa: E402
from dogtail import rawinput, tree  # noqa: E402  (after the configuration above)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "usb"))
from usbguest import HID, PRELUDE, USB  # noqa: E402  (the USB tests' Linux guest)

HANGAR, WORK = sys.argv[1:3]
TONE, ASSETS = (os.path.abspath(p) for p in sys.argv[3:5])  # the profiles name them
ISO = os.path.join(WORK, "test.iso")
ISO2 = os.path.join(WORK, "second.iso")
MACHINES = os.path.join(os.environ["XDG_DATA_HOME"], "hangar", "machines")
PICTURES = os.path.join(WORK, "pictures")  # e2e.sh's user-dirs.dirs says so
WAVCHECK = os.path.join(HERE, "..", "audio", "wavcheck.py")
BOOTED = "HANGAR TEST CD BOOTED"
BOOTED2 = "HANGAR SECOND CD BOOTED"
FAILED = "Loading nosuchkernel... failed"
T0 = time.monotonic()


def log(*args):
    print("e2e: [%5.1f s]" % (time.monotonic() - T0), *args, flush=True)


def wait(what, cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            value = cond()
        except AssertionError:
            raise
        except Exception:  # noqa: BLE001  (nodes come and go while the UI changes)
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out after %d s waiting for %s" % (seconds, what))


def find_app():
    for child in tree.root.children:
        if child.name in ("hangar", "Hangar"):
            return child
    return None


def click(node):
    node.doActionNamed("click")


def select(node, index):
    """Selects the index-th item of a combo box or list through AT-SPI's Selection."""
    assert node.querySelection().selectChild(index), node


def frame(app, title):
    return wait("window " + title,
                lambda: next((w for w in app.children if w.name == title and w.showing), None),
                20)


def assistant(app):
    """The assistant's window (titled "New Machine — PAGE")."""
    for w in app.children:
        if w.roleName == "frame" and w.name != "Hangar" and w.showing and \
                w.findChildren(lambda n: n.name == "Machine summary"):
            return w
    return None


def next_page(a, title):
    """Next, then check the assistant shows the page called title (it refuses to go on
    while the page has a problem, and its window title names the current page)."""
    click(a.child(name="Next", roleName="push button"))
    try:
        wait("page " + title, lambda: a.name == "New Machine — " + title, 10)
    except AssertionError:
        raise AssertionError("the assistant is at \"%s\", not at %s" % (a.name, title))


def screen_text(app, machine):
    return app.child(name="Screen of " + machine, retry=False).description


def row_name(app, machine):
    rows = app.findChildren(
        lambda n: n.roleName == "list item" and n.name.startswith(machine + ","))
    return rows[0].name if rows else ""


def power_off(app, win, name):
    """The window's Power Off, then the same button of the question that follows."""
    click(win.child(name="Power Off", roleName="push button"))
    ask = wait("the power-off question",
               lambda: app.child(roleName="alert", retry=False)
                          .child(name="Power Off", roleName="push button", retry=False), 20)
    click(ask)
    wait(name + " powered off", lambda: row_name(app, name).endswith("Powered off"), 20)


def create_machine(app, main, name, disk=False, memory=64, sound=None, start_now=False):
    """The assistant: guest type Other, memory, the test CD, a new raw disk of 512 MiB
    (or none), the sound card (the index in its list, or the preset's)."""
    click(main.child(name="New Machine", roleName="push button"))
    a = wait("the assistant", lambda: assistant(app), 20)
    a.child(name="Name", roleName="text").text = name
    select(a.child(name="Guest type", roleName="combo box"), 5)  # Other
    next_page(a, "Memory")
    mem = a.child(name="Memory in MiB", roleName="spin button")
    # The preset filled its memory; 64 MiB keeps two machines light.
    assert mem.queryValue().currentValue == 128, mem.queryValue().currentValue
    mem.queryValue().currentValue = memory
    next_page(a, "Install Medium")
    # The preset chose a CD; an empty path is refused, with the reason shown.
    problem = a.child(name="Install medium problem")
    assert "Choose the image file" in problem.text, problem.text
    medium = a.child(name="Install medium file", roleName="text")
    medium.text = ISO + ".missing"
    wait("the missing file named", lambda: "does not exist" in problem.text, 10)
    click(a.child(name="Next", roleName="push button"))
    assert a.name.endswith("Install Medium"), a.name
    medium.text = ISO
    next_page(a, "Disk")
    if disk:
        select(a.child(name="Disk format", roleName="combo box"), 1)  # raw
        a.child(name="Disk size", roleName="spin button").queryValue().currentValue = 0.5
    else:
        click(a.child(name="No hard disk", roleName="radio button"))
    next_page(a, "Sound and Network")
    if sound is not None:
        select(a.child(name="Sound card", roleName="combo box"), sound)
    next_page(a, "Summary")
    summary = a.child(name="Machine summary").text
    log("summary:", summary.replace("\n", "; "))
    assert "Name: " + name in summary and ISO in summary, summary
    if start_now:
        click(a.child(name="Start the machine when it is created", roleName="check box"))
    click(a.child(name="Apply", roleName="push button"))
    wait("the assistant to close", lambda: assistant(app) is None, 20)
    wait("the new machine in the list", lambda: row_name(app, name), 20)
    log("created:", row_name(app, name))


def start(app, main, name):
    machines = main.child(name="Machines")
    rows = [r for r in machines.children if r.roleName == "list item"]
    index = next(i for i, r in enumerate(rows) if r.name.startswith(name + ","))
    select(machines, index)
    click(main.child(name="Start", roleName="push button"))

    def opened():
        for w in app.children:
            if w.showing and w.name == name:
                return w
            if w.showing and w.roleName == "alert":  # "NAME cannot start", and why
                raise AssertionError(" ".join(n.name for n in w.findChildren(
                    lambda n: n.roleName == "label")))
        return None
    return wait("window " + name, opened, 20)


def wait_booted(app, name, line=BOOTED):
    text = wait(name + " booting the CD",
                lambda: (lambda t: t if t and line in t else None)(screen_text(app, name)), 90)
    log(name, "screen:", text.replace("\n", " | ")[:300])


def edit_profile(machine_id, **groups):
    """Sets keys of a profile's machine.ini (groups: {"Firmware": {"Bios": PATH}}), as a
    person editing the file would; the manager reads it again on Reload."""
    path = os.path.join(MACHINES, machine_id, "machine.ini")
    lines = open(path).read().splitlines()
    for group, keys in groups.items():
        keys = dict(keys)
        if "[%s]" % group not in lines:
            lines.append("[%s]" % group)
        at = lines.index("[%s]" % group) + 1
        end = next((i for i in range(at, len(lines)) if lines[i].startswith("[")), len(lines))
        for i in range(at, end):
            key = lines[i].split("=", 1)[0]
            if key in keys:
                lines[i] = "%s=%s" % (key, keys.pop(key))
        lines[end:end] = ["%s=%s" % kv for kv in keys.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return "\n".join(lines)


# --- The machine window's control panel ---

def section(win, title):
    """Shows the control panel's section called title (the panel opens first)."""
    toggle = win.child(name="Control Panel", roleName="toggle button")
    if not toggle.checked:
        click(toggle)
    sidebar = wait("the control panel's sections", lambda: win.findChild(
        lambda n: n.roleName == "list box" and any(
            c.children and c.children[0].name == "Serial Console" for c in n.children),
        retry=False), 10)
    items = [c for c in sidebar.children if c.roleName == "list item"]
    select(sidebar, next(i for i, c in enumerate(items) if c.children[0].name == title))


def serial_text(win):
    """What the Serial Console terminal shows (VTE's text through ATK)."""
    term = win.findChild(lambda n: n.roleName == "terminal" and n.name == "Serial Console",
                         retry=False)
    return term.queryText().getText(0, -1)


# --- Screenshots ---

def lit_cells(path):
    """Decodes a PNG of a text screen (720x400: 25 rows of 80 cells of 9x16 pixels) and
    returns, per row, the first and last cell holding a lit pixel (or None), and the
    number of distinct pixel values."""
    pb = GdkPixbuf.Pixbuf.new_from_file(path)
    w, h, n, stride = pb.get_width(), pb.get_height(), pb.get_n_channels(), pb.get_rowstride()
    assert (w, h) == (720, 400), "the screenshot is %dx%d, not the display's 720x400" % (w, h)
    px = pb.get_pixels()
    values = set()
    rows = []
    for r in range(h // 16):
        cells = set()
        for y in range(r * 16, r * 16 + 16):
            line = px[y * stride:y * stride + w * n]
            for x in range(w):
                p = line[x * n:x * n + 3]
                values.add(p)
                if p != b"\0\0\0":
                    cells.add(x // 9)
        rows.append((min(cells), max(cells)) if cells else None)
    return rows, len(values)


def check_screenshot(path, text):
    """The PNG shows the screen whose text is text (as the list row describes it: from
    the first row with text down): each row of text is lit from its first to its last
    character, each empty row is dark (the cursor, a cell or two after the text, may be
    lit as well)."""
    rows, values = lit_cells(path)
    assert values >= 2, "the screenshot is blank"
    top = next(r for r, cells in enumerate(rows) if cells)
    lines = text.split("\n")
    for r, cells in enumerate(rows[top:], top):
        line = lines[r - top].rstrip() if r - top < len(lines) else ""
        if not line:
            assert cells is None or cells[0] == cells[1], \
                "row %d of the screenshot is lit at cells %s, the screen's row is empty" % (
                    r, cells)
            continue
        first, last = len(line) - len(line.lstrip()), len(line) - 1
        assert cells and cells[0] == first and last <= cells[1] <= last + 2, \
            "row %d of the screenshot is lit at cells %s, its text \"%s\" spans %d-%d" % (
                r, cells, line, first, last)
    log("screenshot %s: 720x400, %d pixel values, %d rows of text like the screen's" % (
        os.path.basename(path), values, sum(1 for line in lines if line.strip())))


def take_screenshot(app, win, machine_id):
    """The window's Screenshot button: the new PNG in the profile and its copy in
    Pictures; returns the profile's."""
    shots = os.path.join(MACHINES, machine_id, "screenshots")
    before = set(glob.glob(os.path.join(shots, "*.png")))
    click(win.child(name="Screenshot", roleName="push button"))
    new = wait("a new screenshot in " + shots,
               lambda: set(glob.glob(os.path.join(shots, "*.png"))) - before, 20)
    assert len(new) == 1, new
    path = new.pop()
    copy = os.path.join(PICTURES, os.path.basename(path))
    wait("its copy in Pictures", lambda: os.path.exists(copy), 10)
    message = wait("the window's message",
                   lambda: win.child(name="Message", roleName="label", retry=False).text, 10)
    assert "Screenshot saved as “%s”" % os.path.basename(path) in message, message
    with open(path, "rb") as a, open(copy, "rb") as b:
        assert a.read() == b.read(), "the copy in Pictures differs"
    return path


# --- The parts of the test ---

def first_machine(app, main_window):
    """Dogtail PC: boot, pause, screenshot, resume, reset, serial console, change of CD."""
    create_machine(app, main_window, "Dogtail PC", disk=True)
    ini = os.path.join(MACHINES, "dogtail-pc", "machine.ini")
    text = open(ini).read()
    log("machine.ini:", text.replace("\n", " "))
    assert "GuestType=other" in text and "Memory=64" in text and "HDA=disk.img" in text
    assert os.path.getsize(os.path.join(MACHINES, "dogtail-pc", "disk.img")) == 512 << 20

    win = start(app, main_window, "Dogtail PC")
    wait("the list to say Running", lambda: row_name(app, "Dogtail PC").endswith("Running"), 20)
    wait_booted(app, "Dogtail PC")
    # The state is read from the list row ("Dogtail PC, Other, Paused"): the machine
    # window only lends its buttons (Pause, Resume, Reset, Power off).
    click(win.child(name="Pause", roleName="push button"))
    wait("Paused", lambda: row_name(app, "Dogtail PC").endswith("Paused"), 20)
    thumb = os.path.join(MACHINES, "dogtail-pc", "thumbnail.png")
    wait("the thumbnail", lambda: os.path.exists(thumb), 10)
    with open(thumb, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # Paused, the screen holds still: the screenshot must show its text.
    shot = take_screenshot(app, win, "dogtail-pc")
    check_screenshot(shot, screen_text(app, "Dogtail PC"))
    click(win.child(name="Resume", roleName="push button"))
    wait("Running", lambda: row_name(app, "Dogtail PC").endswith("Running"), 20)

    # isolinux's prompt times out into "Loading nosuchkernel... failed"; a reset clears
    # the screen, and the message comes back 3 s after the CD boots again.
    wait("isolinux's timeout", lambda: FAILED in screen_text(app, "Dogtail PC"), 60)
    click(win.child(name="Reset", roleName="push button"))
    wait("the reset to clear the screen",
         lambda: FAILED not in screen_text(app, "Dogtail PC"), 30)
    wait_booted(app, "Dogtail PC")
    wait("isolinux's timeout again",
         lambda: FAILED in screen_text(app, "Dogtail PC"), 60)
    log("reset seen")

    serial_console(app, win)
    change_cd(app, win)
    power_off(app, win, "Dogtail PC")


def serial_console(app, win):
    """Types a word into the Serial Console: isolinux reads COM1 and echoes it at its
    prompt, on the screen and back on COM1."""
    section(win, "Serial Console")
    wait("isolinux's prompt on COM1", lambda: "boot:" in serial_text(win), 20)
    # The prompt times out every 3 s; the first key typed stops that. Type right after a
    # new prompt so that no timeout cuts the word.
    failures = serial_text(win).count(FAILED)
    wait("a new prompt", lambda: serial_text(win).count(FAILED) > failures, 20)
    term = win.findChild(lambda n: n.roleName == "terminal" and n.name == "Serial Console")
    term.grabFocus()
    wait("the terminal to have the focus", lambda: term.focused, 10)
    word = "viaserial"
    rawinput.typeText(word)
    wait("the word at the prompt on the screen",
         lambda: "boot: " + word in screen_text(app, "Dogtail PC"), 20)
    wait("the word echoed in the terminal", lambda: "boot: " + word in serial_text(win), 20)
    log("typed into the serial console:", [l for l in serial_text(win).splitlines() if l][-2:])


def change_cd(app, win):
    """Media: CD-ROM: Choose Image, the file chooser (its location typed), Insert; a reset
    boots the second CD; the profile names it."""
    section(win, "Media")
    wait("the media row to name test.iso", lambda: win.child(
        name="CD-ROM: test.iso", roleName="label", retry=False).showing, 10)
    click(win.child(name="CD-ROM: Choose Image", roleName="push button"))
    chooser = wait("the file chooser", lambda: next(
        (w for w in app.children
         if w.name == "Choose an Image for the CD-ROM Drive" and w.showing), None), 20)
    # As a person does: Ctrl+L opens the location entry, then the path and Insert.
    chooser.child(name="Files", roleName="table").grabFocus()
    rawinput.keyCombo("<Control>l")
    location = wait("the location entry with the focus", lambda: chooser.child(
        name="Location Layer", retry=False).findChild(
            lambda n: n.roleName == "text" and n.focused, retry=False), 10)
    rawinput.typeText(ISO2)
    wait("the path typed", lambda: location.text == ISO2, 10)
    click(chooser.child(name="Insert", roleName="push button"))
    wait("the chooser to close", lambda: not chooser.showing or chooser.dead, 10)
    wait("the media row to name second.iso", lambda: win.child(
        name="CD-ROM: second.iso", roleName="label", retry=False).showing, 20)
    ini = open(os.path.join(MACHINES, "dogtail-pc", "machine.ini")).read()
    assert "CDROM=" + ISO2 in ini, ini
    click(win.child(name="Reset", roleName="push button"))
    wait_booted(app, "Dogtail PC", BOOTED2)
    assert BOOTED not in screen_text(app, "Dogtail PC")
    log("CD changed to", ISO2)


def two_machines(app, main_window):
    """A second machine that starts when created, and Dogtail PC (now with the second
    CD) at once: each window and list row shows its own machine's screen."""
    create_machine(app, main_window, "Second PC", start_now=True)
    win2 = frame(app, "Second PC")
    win1 = start(app, main_window, "Dogtail PC")
    wait_booted(app, "Dogtail PC", BOOTED2)
    wait_booted(app, "Second PC")
    assert BOOTED2 not in screen_text(app, "Second PC")
    assert row_name(app, "Dogtail PC").endswith("Running")
    assert row_name(app, "Second PC").endswith("Running")
    assert win1 is not win2 and win1.name == "Dogtail PC" and win2.name == "Second PC"
    log("two machines running")
    for win, name in ((win1, "Dogtail PC"), (win2, "Second PC")):
        power_off(app, win, name)


def record_sound(app, main_window):
    """Tone PC: made in the assistant with a Sound Blaster 16; its firmware (set in the
    profile) plays 1005.33 Hz left and 1505.31 Hz right. Record, Stop: the WAV file named
    in the Sound section is in recordings/ and holds the tones."""
    create_machine(app, main_window, "Tone PC", memory=16, sound=0)  # SB16
    # The program plays for 60 s from its start, long enough to reach Record; the output
    # is none so that a desktop running the test stays quiet (the recording comes from
    # the mixer, whatever the output).
    ini = edit_profile("tone-pc", Firmware={"Bios": TONE}, Audio={"Output": "none"})
    assert "Cards=sb16" in ini, ini
    click(main_window.child(name="Reload", roleName="push button"))
    win = start(app, main_window, "Tone PC")
    section(win, "Sound")
    status = win.findChild(lambda n: n.roleName == "label" and (
        n.name.startswith("Not recording") or n.name.startswith("Recording")))
    click(win.child(name="Record Sound", roleName="push button"))
    wait("Recording", lambda: status.name.startswith("Recording “Tone PC "), 10)
    wait("3 s of recording", lambda: status.name.endswith("0:03"), 10)
    click(win.child(name="Stop Recording", roleName="push button"))
    saved = wait("Saved", lambda: re.match(r"Saved “(.*\.wav)”$", status.name), 10).group(1)
    wav = os.path.join(MACHINES, "tone-pc", "recordings", saved)
    # The file is complete once the log says so (the engine closed it).
    section(win, "Log")
    machine_log = win.child(name="Machine Log", roleName="text")
    wait("the log to name the recording", lambda: "Recording saved as " + wav in machine_log.text,
         10)
    assert os.path.exists(wav), wav
    check = subprocess.run([sys.executable, WAVCHECK, wav, "--longest", "2",
                            "--tone", "0:1005.3314", "--tone", "1:1505.3055"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log("wavcheck:", check.stdout.strip().replace("\n", " | "))
    assert check.returncode == 0, "the recording does not hold the tones"
    power_off(app, win, "Tone PC")


# The Linux guest: the USB tests' modules and helpers (usbguest.PRELUDE), then wait for a
# tablet and print its events (od: 16-byte i386 struct input_event, 8 words per line).
TABLET_SCRIPT = r"""
echo "e2e: waiting for a USB tablet"
T=
while [ -z "$T" ]; do sleep 0.2; T=$(evnode "USB Tablet"); done
echo "e2e: tablet at $T"
od -An -v -tu2 -w16 /dev/input/$T
"""


def tablet_positions(text):
    """The absolute X and Y values the guest printed (EV_ABS ABS_X, ABS_Y) in order."""
    out = []
    after = text.split("e2e: tablet at", 1)[-1]
    for line in after.splitlines():
        words = line.split()
        if len(words) == 8 and all(w.isdigit() for w in words):
            kind, code, value = int(words[4]), int(words[5]), int(words[6])
            if kind == 3 and code in (0, 1):
                out.append(("xy"[code], value))
    return out


def usb_tablet(app, main_window):
    """Tablet PC: Linux with UHCI and USB HID drivers; Attach Tablet in the USB section,
    then the pointer moves over the display without a click."""
    initrd = os.path.join(WORK, "tablet-initrd.gz")
    script = os.path.join(WORK, "tablet.sh")
    with open(script, "w") as f:
        f.write(PRELUDE % {"mods": " ".join(USB + HID)} + TABLET_SCRIPT)
    subprocess.run([os.path.join(HERE, "..", "boot", "mkinitramfs.sh"),
                    os.path.join(ASSETS, "busybox"), script, initrd,
                    os.path.join(ASSETS, "modules")] + [m + ".ko" for m in USB + HID],
                   check=True)
    os.makedirs(os.path.join(MACHINES, "tablet-pc"))
    # The kernel's crypto self-tests would take most of the boot (8 s of 12 here).
    with open(os.path.join(MACHINES, "tablet-pc", "machine.ini"), "w") as f:
        f.write("[Machine]\nName=Tablet PC\nGuestType=other\nMemory=128\n"
                "[Firmware]\nKernel=%s\nInitrd=%s\n"
                "Append=console=ttyS0 loglevel=4 cryptomgr.notests\n"
                "[Audio]\nCards=none\n" % (os.path.join(ASSETS, "vmlinuz-686"), initrd))
    click(main_window.child(name="Reload", roleName="push button"))
    wait("Tablet PC in the list", lambda: row_name(app, "Tablet PC"), 10)
    win = start(app, main_window, "Tablet PC")
    section(win, "Serial Console")
    wait("Linux to wait for a tablet",
         lambda: "e2e: waiting for a USB tablet" in serial_text(win), 120)
    log("Linux is up")
    section(win, "USB")
    click(win.child(name="Attach Tablet", roleName="push button"))
    wait("the tablet in the list", lambda: win.child(name="Detach Tablet", retry=False), 20)
    section(win, "Serial Console")
    node = wait("the guest's tablet", lambda: re.search(r"e2e: tablet at (event\d+)",
                                                        serial_text(win)), 60).group(1)
    log("the guest opened the tablet:", node)

    shot = take_screenshot(app, win, "tablet-pc")
    pb = GdkPixbuf.Pixbuf.new_from_file(shot)
    sw, sh = pb.get_width(), pb.get_height()
    display = win.child(name="Machine display", roleName="drawing area")
    ext = display.queryComponent().getExtents(0)  # screen coordinates
    # Where the display draws the guest's screen: scaled to fit, centred.
    scale = min(ext.width / sw, ext.height / sh)
    ox, oy = (ext.width - sw * scale) / 2, (ext.height - sh * scale) / 2
    log("display at %d,%d %dx%d, guest %dx%d, scale %.3f" % (
        ext.x, ext.y, ext.width, ext.height, sw, sh, scale))

    def expected(h, at, off, size):
        """The tablet's value (0..32767) for host pixel h: the guest pixel under it, as
        the display maps it, scaled as the engine does."""
        g = int((h - at - off) / scale)
        return (g * 0x7fff + (size - 1) // 2) // (size - 1)

    seen = []
    # The first position is where the pointer jumps in from outside the display.
    for fx, fy in ((0.2, 0.25), (0.8, 0.7)):
        hx, hy = int(ext.x + ox + fx * sw * scale), int(ext.y + oy + fy * sh * scale)
        rawinput.absoluteMotion(hx, hy)
        want = (expected(hx, ext.x, ox, sw), expected(hy, ext.y, oy, sh))
        # One guest pixel either way for rounding.
        slack = (0x7fff // (sw - 1) + 1, 0x7fff // (sh - 1) + 1)

        def arrived():
            pos = tablet_positions(serial_text(win))
            x = [v for k, v in pos if k == "x"]
            y = [v for k, v in pos if k == "y"]
            if x and y and abs(x[-1] - want[0]) <= slack[0] and abs(y[-1] - want[1]) <= slack[1]:
                return x[-1], y[-1]
            return None
        try:
            got = wait("the guest to read (%d, %d) from the tablet" % want, arrived, 20)
        except AssertionError:
            log("the guest read", tablet_positions(serial_text(win)))
            raise
        log("pointer at %d,%d: the guest read %s from the tablet, expected %s" % (
            hx, hy, got, want))
        seen.append(((hx, hy), got))
    (h1, g1), (h2, g2) = seen
    for axis, size in ((0, sw), (1, sh)):
        moved = g2[axis] - g1[axis]
        expect = (h2[axis] - h1[axis]) / scale * 0x7fff / (size - 1)
        assert moved > 0 and abs(moved - expect) <= 0.05 * expect, \
            "the guest moved %d on axis %d for %.0f expected" % (moved, axis, expect)
    # A grab would say how to release it, in the status line and the header's subtitle.
    state = win.child(name="Machine state", roleName="label").text
    subtitle = [n.name for n in win.child(name="Tablet PC", roleName="label").parent.children]
    assert state == "Running" and subtitle == ["Tablet PC", "Running"], (state, subtitle)
    log("the pointer moved the tablet without a grab (state: %s)" % state)
    power_off(app, win, "Tablet PC")


def main():
    env = dict(os.environ)
    proc = subprocess.Popen([HANGAR], env=env)
    try:
        app = wait("hangar on the accessibility bus", find_app, 30)
        main_window = frame(app, "Hangar")
        first_machine(app, main_window)
        two_machines(app, main_window)
        record_sound(app, main_window)
        usb_tablet(app, main_window)
        log("passed")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        # dogtail takes over sys.stderr: the reason goes to the test log through stdout.
        traceback.print_exc(file=sys.__stdout__)
        sys.exit(1)
