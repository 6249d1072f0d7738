"""A Linux guest whose busybox shell waits for one line typed on its first virtual terminal
(the keyboard's), runs it with its output on the serial line, and powers off. Shared by the
tests that type into a guest through the monitor (linux-keys.py) and through VNC
(tests/vnc/linux-vnc-keys.py): they differ only in how the keys arrive.
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SCRIPT = """
echo "keys: ready"
read -r line < /dev/tty1
echo "keys: got [$line]"
eval "$line"
"""


class ShellGuest:
    """Boots the guest with hangar-run (extra_args add the input channel, e.g. a monitor or
    VNC socket in self.work) and waits until its shell reads from the keyboard."""

    def __init__(self, run, assets, extra_args):
        subprocess.run([os.path.join(HERE, "assets.sh"), assets], check=True)
        self._tmp = tempfile.TemporaryDirectory()
        self.work = self._tmp.name
        script = os.path.join(self.work, "test.sh")
        with open(script, "w") as f:
            f.write(SCRIPT)
        initrd = os.path.join(self.work, "initrd.gz")
        subprocess.run([os.path.join(HERE, "mkinitramfs.sh"), os.path.join(assets, "busybox"),
                        script, initrd], check=True)
        self.serial = os.path.join(self.work, "serial.log")
        args = [a.replace("@WORK@", self.work) for a in extra_args]
        self.proc = subprocess.Popen(
            [run, "-m", "256", "--kernel", os.path.join(assets, "vmlinuz-686"), "--initrd",
             initrd, "--append", "console=ttyS0", "--serial", "file:" + self.serial,
             "--clock", "icount"] + args)

    def log(self):
        try:
            with open(self.serial, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def fail(self, msg):
        self.proc.kill()
        print("FAIL:", msg)
        print(self.log()[-3000:])
        sys.exit(1)

    def wait_prompt(self, timeout=600):
        deadline = time.time() + timeout
        while "keys: ready" not in self.log():
            if self.proc.poll() is not None:
                self.fail("hangar-run ended with status %d before the prompt" %
                          self.proc.returncode)
            if time.time() > deadline:
                self.fail("no prompt within %d s" % timeout)
            time.sleep(0.5)
        time.sleep(1)

    def finish(self, typed, output, timeout=300):
        """Waits for the power-off; the shell must have got `typed` and printed `output`,
        and hangar-run must exit with status 0."""
        deadline = time.time() + timeout
        while "reboot: Power down" not in self.log():
            if self.proc.poll() is not None:
                break
            if time.time() > deadline:
                self.fail("the command did not finish within %d s" % timeout)
            time.sleep(0.5)
        status = self.proc.wait(timeout=60)
        out = self.log()
        if "keys: got [%s]" % typed not in out:
            self.fail("the shell did not receive %r" % typed)
        if output not in out:
            self.fail("the typed command did not run (no %r)" % output)
        if status != 0:
            self.fail("hangar-run exited with %d after the power-off" % status)
        self._tmp.cleanup()
