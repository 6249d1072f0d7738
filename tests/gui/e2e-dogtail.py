#!/usr/bin/python3
"""End-to-end test of the real hangar binary through the accessibility tree (dogtail).

Creates a machine in the new-machine assistant (guest type "Other", 64 MiB, the test CD, a
new raw disk), starts it and reads its screen from the list row's thumbnail description
(the text on the machine's screen) until isolinux's line shows that SeaBIOS booted the CD;
pauses (the state and thumbnail.png follow), resumes, resets (isolinux's timeout message
goes away and comes back) and powers it off through the machine window's buttons; then
creates a second machine that starts when it is created, and runs both at once.
Usage: e2e-dogtail.py HANGAR_BINARY CD_IMAGE WORK_DIR (run by e2e.sh).
"""
import os
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

from dogtail import tree  # noqa: E402  (after the configuration above)

HANGAR, ISO, WORK = sys.argv[1:4]
MACHINES = os.path.join(os.environ["XDG_DATA_HOME"], "hangar", "machines")


def log(*args):
    print("e2e:", *args, flush=True)


def wait(what, cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            value = cond()
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


def power_off(app, win):
    """The window's Power Off, then the same button of the question that follows."""
    click(win.child(name="Power Off", roleName="push button"))
    ask = wait("the power-off question",
               lambda: app.child(roleName="alert", retry=False)
                          .child(name="Power Off", roleName="push button", retry=False), 20)
    click(ask)


def create_machine(app, main, name, disk, start_now=False):
    click(main.child(name="New Machine", roleName="push button"))
    a = wait("the assistant", lambda: assistant(app), 20)
    a.child(name="Name", roleName="text").text = name
    select(a.child(name="Guest type", roleName="combo box"), 5)  # Other
    next_page(a, "Memory")
    mem = a.child(name="Memory in MiB", roleName="spin button")
    # The preset filled its memory; 64 MiB keeps two machines light.
    assert mem.queryValue().currentValue == 128, mem.queryValue().currentValue
    mem.queryValue().currentValue = 64
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
    return frame(app, name)


def wait_booted(app, name):
    text = wait(name + " booting the CD",
                lambda: (lambda t: t if t and "HANGAR TEST CD BOOTED" in t else None)(
                    screen_text(app, name)), 90)
    log(name, "screen:", text.replace("\n", " | ")[:300])


def main():
    env = dict(os.environ)
    proc = subprocess.Popen([HANGAR], env=env)
    try:
        app = wait("hangar on the accessibility bus", find_app, 30)
        main_window = frame(app, "Hangar")

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
        click(win.child(name="Resume", roleName="push button"))
        wait("Running", lambda: row_name(app, "Dogtail PC").endswith("Running"), 20)

        # isolinux's prompt times out into "Loading nosuchkernel... failed"; a reset clears
        # the screen, and the message comes back 3 s after the CD boots again.
        failed = "Loading nosuchkernel... failed"
        wait("isolinux's timeout", lambda: failed in screen_text(app, "Dogtail PC"), 60)
        click(win.child(name="Reset", roleName="push button"))
        wait("the reset to clear the screen",
             lambda: failed not in screen_text(app, "Dogtail PC"), 30)
        wait_booted(app, "Dogtail PC")
        wait("isolinux's timeout again",
             lambda: failed in screen_text(app, "Dogtail PC"), 60)
        log("reset seen")

        power_off(app, win)
        wait("Powered off", lambda: row_name(app, "Dogtail PC").endswith("Powered off"), 20)

        # Two machines at once.
        create_machine(app, main_window, "Second PC", disk=False, start_now=True)
        win2 = frame(app, "Second PC")
        win1 = start(app, main_window, "Dogtail PC")
        wait_booted(app, "Dogtail PC")
        wait_booted(app, "Second PC")
        assert row_name(app, "Dogtail PC").endswith("Running")
        assert row_name(app, "Second PC").endswith("Running")
        assert win1 is not win2 and win1.name == "Dogtail PC" and win2.name == "Second PC"
        log("two machines running")
        for win, name in ((win1, "Dogtail PC"), (win2, "Second PC")):
            power_off(app, win)
            wait(name + " powered off", lambda: row_name(app, name).endswith("Powered off"), 20)
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
