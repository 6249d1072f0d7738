#!/usr/bin/env python3
"""Boot benchmark (issue 3; docs/testing.md, layer 6): figures, never a test verdict.

Boots Debian's i386 Linux 6.1 686 kernel with a busybox initramfs under hangar-run (host
clock) and under qemu-system-i386 -accel tcg in the same invocation, and prints side by
side: the wall time to the init script's first line, the time of a busybox `sh` loop of
200,000 `i=$((i+1))`, and the time of a 16 MiB dd, md5sum, gzip, gunzip, md5sum workload
(the two workloads of testing.md's reference table), then the ratios hangar/qemu. Goals:
within 3x of QEMU on the boot, within 5x on the workloads.

Times are taken on the host (time.monotonic()) when marker lines arrive on the serial pipe;
the guest also prints /proc/uptime around each workload, and both are shown (the guest's
clock follows the host's in both emulators, but serial latency does not enter it). The CPU
time the emulator process has used is read from /proc at each marker: other processes on a
shared machine inflate wall times, much less CPU times. The boot is also split at the
kernel's clock: what comes before it is start-up, firmware, kernel loading and the kernel's
decompressor.

usage: bench-boot.py HANGAR_RUN CACHE_DIR [--runs N] [--qemu PATH|none] [--timeout S]
CACHE_DIR receives the kernel and busybox (tests/boot/assets.sh) and the serial logs.
Exit status: 0 when every emulator ran the script and printed the right checksums; 1 when
one failed (its error and the end of its serial output are printed); 2 on a set-up error.
"""

import argparse
import hashlib
import os
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BOOT_DIR = os.path.join(HERE, '..', 'tests', 'boot')

LOOP_COUNT = 200000
IO_MIB = 16

# The init script (run by /init after "init: hangar boot test starting", the first line of
# the init script, whose arrival ends the boot measurement). Each workload sits between a
# start and an end marker; the guest reads /proc/uptime after printing the start marker and
# before printing the end one, so both clocks measure the same span.
GUEST_SCRIPT = f"""\
read up rest < /proc/uptime
echo "BENCH script uptime=$up"
echo "BENCH loop-start"
read t0 rest < /proc/uptime
i=0
while [ $i -lt {LOOP_COUNT} ]; do i=$((i+1)); done
read t1 rest < /proc/uptime
echo "BENCH loop-end i=$i guest=$t0,$t1"
echo "BENCH io-start"
read t0 rest < /proc/uptime
dd if=/dev/zero of=/tmp/z bs=1M count={IO_MIB} 2>/dev/null
m1=$(md5sum < /tmp/z)
gzip -c /tmp/z > /tmp/z.gz
m2=$(gunzip -c /tmp/z.gz | md5sum)
read t1 rest < /proc/uptime
echo "BENCH io-end guest=$t0,$t1"
echo "BENCH md5 ${{m1%% *}} ${{m2%% *}}"
rm -f /tmp/z /tmp/z.gz
echo "BENCH done"
"""

FIRST_LINE = 'init: hangar boot test starting'


class RunError(Exception):
    """An emulator failed: exited early, timed out or printed wrong results."""


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def fetch_assets(cache):
    os.makedirs(cache, exist_ok=True)
    r = subprocess.run(['sh', os.path.join(BOOT_DIR, 'assets.sh'), cache])
    if r.returncode != 0:
        die(f'bench-boot: fetching the boot assets into {cache} failed '
                 f'(tests/boot/assets.sh exited with {r.returncode})')
    return os.path.join(cache, 'vmlinuz-686'), os.path.join(cache, 'busybox')


def make_initrd(busybox, work):
    script = os.path.join(work, 'bench.sh')
    with open(script, 'w') as f:
        f.write(GUEST_SCRIPT)
    initrd = os.path.join(work, 'initrd.gz')
    r = subprocess.run(['sh', os.path.join(BOOT_DIR, 'mkinitramfs.sh'), busybox, script,
                        initrd])
    if r.returncode != 0:
        die('bench-boot: tests/boot/mkinitramfs.sh failed')
    return initrd


TICK = os.sysconf('SC_CLK_TCK')


def proc_cpu(pid):
    """CPU seconds (user + system, all threads) process pid has used so far, or None."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def reader(pipe, pid, q):
    """Queues (host time, emulator CPU time, line) for each serial line as soon as it
    arrives, then None. The CPU time (read for marker lines only) is what other processes
    on a loaded machine disturb least."""
    for raw in iter(pipe.readline, b''):
        t = time.monotonic()
        line = raw.decode('utf-8', 'replace').rstrip('\r\n')
        cpu = proc_cpu(pid) if 'BENCH' in line or FIRST_LINE in line else None
        q.put((t, cpu, line))
    q.put(None)


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(name, argv, log_path, boot_timeout, total_timeout):
    """Runs one emulator to the end of the script; returns a dict of figures."""
    tail = []
    marks = {}
    cpus = {}
    guest = {}
    cpu0 = children_cpu()
    t_start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        raise RunError(f'cannot start {argv[0]}: {e}') from e
    q = queue.Queue()
    th = threading.Thread(target=reader, args=(proc.stdout, proc.pid, q), daemon=True)
    th.start()
    status = None
    try:
        with open(log_path, 'w') as log:
            while 'done' not in marks:
                limit = boot_timeout if 'boot' not in marks else total_timeout
                left = t_start + limit - time.monotonic()
                if left <= 0:
                    what = 'the init script' if 'boot' not in marks else 'the end of the script'
                    raise RunError(f'timed out after {limit:.0f} s waiting for {what}')
                try:
                    item = q.get(timeout=left)
                except queue.Empty:
                    continue
                if item is None:
                    status = proc.wait()
                    raise RunError(f'exited with status {status} before the script ended')
                t, cpu_t, line = item
                log.write(line + '\n')
                tail = (tail + [line])[-25:]
                if FIRST_LINE in line and 'boot' not in marks:
                    marks['boot'] = t
                    cpus['boot'] = cpu_t
                # The kernel's console starts late, with its early messages: the wall time
                # at this line less its timestamp is the time before the kernel's clock
                # started (emulator start-up, firmware, kernel loading, decompressor).
                m = re.search(r'^\[\s*([\d.]+)\] printk: console \[ttyS0\] enabled', line)
                if m:
                    marks['prekernel'] = t - float(m.group(1))
                m = re.search(r'BENCH (\S+)(.*)', line)
                if not m:
                    continue
                key, rest = m.group(1), m.group(2)
                marks[key] = t
                cpus[key] = cpu_t
                for k, v in re.findall(r'(\w+)=(\S+)', rest):
                    guest[(key, k)] = v
                if key == 'md5':
                    guest['md5'] = rest.split()
            # The script ends with poweroff -f: both emulators exit. Wait briefly for it,
            # only to report an unclean exit; the figures are already taken.
            try:
                status = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                status = None
    except RunError as e:
        raise RunError(f'{name}: {e}\n  command: {" ".join(argv)}\n  last serial lines '
                       f'(full log in {log_path}):\n    ' + '\n    '.join(tail)) from None
    finally:
        # The emulator leads its own process group: kill the group, so that nothing it
        # started keeps the serial pipe open.
        try:
            os.killpg(proc.pid, 9)
        except OSError:
            pass
        proc.wait()
        proc.stdin.close()
        th.join(timeout=10)
        if not th.is_alive():
            proc.stdout.close()
    cpu = children_cpu() - cpu0

    def need(k):
        if k not in marks:
            raise RunError(f'{name}: no "{k}" marker on the serial line (log: {log_path})')
        return marks[k]

    def span(key):
        v = guest.get((key, 'guest'), '')
        try:
            a, b = (float(x) for x in v.split(','))
            return b - a
        except ValueError:
            return None

    def cpu_span(a, b):
        if cpus.get(a) is None or cpus.get(b) is None:
            return None
        return cpus[b] - cpus[a]

    want = hashlib.md5(bytes(IO_MIB << 20)).hexdigest()
    if guest.get(('loop-end', 'i')) != str(LOOP_COUNT):
        raise RunError(f'{name}: the sh loop ended with i={guest.get(("loop-end", "i"))}, '
                       f'not {LOOP_COUNT}')
    if guest.get('md5') != [want, want]:
        raise RunError(f'{name}: md5 of the 16 MiB data: {guest.get("md5")}, want {want} '
                       'twice')
    res = {
        'boot': need('boot') - t_start,
        'loop': need('loop-end') - need('loop-start'),
        'io': need('io-end') - need('io-start'),
        'loop_guest': span('loop-end'),
        'io_guest': span('io-end'),
        'prekernel': marks['prekernel'] - t_start if 'prekernel' in marks else None,
        'uptime': None,
        'boot_cpu': cpus.get('boot'),
        'loop_cpu': cpu_span('loop-start', 'loop-end'),
        'io_cpu': cpu_span('io-start', 'io-end'),
        'total': need('done') - t_start,
        'cpu': cpu,
        'status': status,
    }
    try:
        res['uptime'] = float(guest.get(('script', 'uptime'), ''))
    except ValueError:
        pass
    return res


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, unit=' s'):
    return f'{v:8.2f}{unit}' if v is not None else '       —  '


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('hangar_run')
    ap.add_argument('cache')
    ap.add_argument('--runs', type=int, default=1, help='runs per emulator (median)')
    ap.add_argument('--qemu', default='qemu-system-i386',
                    help='QEMU executable, or "none" to skip it')
    ap.add_argument('--boot-timeout', type=float, default=300,
                    help='seconds to the init script before giving up')
    ap.add_argument('--timeout', type=float, default=1200,
                    help='seconds for a whole run before giving up')
    args = ap.parse_args()
    # meson's timeout sends SIGTERM: leave through the finally clauses, which kill the
    # emulator.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if not os.access(args.hangar_run, os.X_OK):
        die(f'bench-boot: {args.hangar_run} is not an executable')
    cache = os.path.abspath(args.cache)
    kernel, busybox = fetch_assets(cache)
    qemu = shutil.which(args.qemu) if args.qemu != 'none' else None
    work = tempfile.mkdtemp(prefix='bench-boot-')
    try:
        initrd = make_initrd(busybox, work)
        emus = [('hangar', [args.hangar_run, '-m', '256', '--kernel', kernel,
                            '--initrd', initrd, '--append', 'console=ttyS0',
                            '--serial', 'stdio'])]
        if qemu:
            emus.append(('qemu', [qemu, '-accel', 'tcg', '-m', '256', '-kernel', kernel,
                                  '-initrd', initrd, '-append', 'console=ttyS0',
                                  '-display', 'none', '-serial', 'stdio', '-no-reboot',
                                  '-monitor', 'none']))
        elif args.qemu != 'none':
            print(f'bench-boot: {args.qemu} not found: hangar figures only, no ratios')

        print(f'boot benchmark: Linux 6.1 686 + busybox initramfs, 256 MiB, '
              f'{args.runs} run(s) per emulator, median; host {os.cpu_count()} CPUs')
        results = {name: [] for name, _ in emus}
        failed = []
        for run in range(args.runs):
            for name, argv in emus:
                if name in failed:
                    continue
                load = os.getloadavg()[0]
                log = os.path.join(cache, f'serial-{name}.log')
                try:
                    r = run_once(name, argv, log, args.boot_timeout, args.timeout)
                except RunError as e:
                    print(f'bench-boot: ERROR: {e}', flush=True)
                    failed.append(name)
                    continue
                results[name].append(r)
                print(f'  run {run + 1} {name:6}: boot {r["boot"]:.2f} s, loop {r["loop"]:.2f} s,'
                      f' 16 MiB {r["io"]:.2f} s, total {r["total"]:.2f} s, CPU {r["cpu"]:.2f} s,'
                      f' exit status {r["status"]}, load average before {load:.2f}',
                      flush=True)

        if not any(results.values()):
            print(f'bench-boot: failed: {", ".join(failed)}')
            return 1
        med = {name: {k: median([r[k] for r in rs]) for k in rs[0] if k != 'status'}
               for name, rs in results.items() if rs}
        rows = [
            ('boot to init script (wall)', 'boot', 3),
            ('  before the kernel clock', 'prekernel', None),
            ('  guest uptime at script', 'uptime', None),
            ('  emulator CPU time', 'boot_cpu', 3),
            (f'sh loop {LOOP_COUNT} (host)', 'loop', 5),
            ('  guest /proc/uptime', 'loop_guest', 5),
            ('  emulator CPU time', 'loop_cpu', 5),
            (f'{IO_MIB} MiB dd/md5/gzip (host)', 'io', 5),
            ('  guest /proc/uptime', 'io_guest', 5),
            ('  emulator CPU time', 'io_cpu', 5),
            ('whole run to script end', 'total', None),
            ('emulator CPU time, whole run', 'cpu', None),
        ]
        h, qm = med.get('hangar'), med.get('qemu')
        print(f'\n{"":30} {"hangar":>10} {"qemu-tcg":>10}  {"hangar/qemu":>11}  goal')
        for label, key, goal in rows:
            hv = h[key] if h else None
            qv = qm[key] if qm else None
            ratio = hv / qv if hv is not None and qv else None
            rs = f'{ratio:10.2f}x' if ratio is not None else f'{"—":>11}'
            gs = f'<= {goal}x' if goal else ''
            if ratio is not None and goal:
                gs += ' met' if ratio <= goal else ' MISSED'
            print(f'{label:30} {fmt(hv)} {fmt(qv)}  {rs}  {gs}')
        print(f'load average at the end: {" ".join(f"{x:.2f}" for x in os.getloadavg())}'
              ' (other processes on the machine inflate the wall times)')
        if failed:
            print(f'bench-boot: failed: {", ".join(failed)}')
            return 1
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
