#!/usr/bin/env python3
"""Checks a recording of a test tone (docs: tests/audio/meson.build).

usage: wavcheck.py FILE.wav [--channels N] [--rate HZ] --tone CH:FREQ[:SECONDS] ...
       [--same]   (both channels carry the same signal)
       [--longest SECONDS]   (real-time outputs: judge the longest unbroken stretch of
                              the tone, which must last at least SECONDS)

A channel named by several --tone options holds that many tones one after the other,
separated by at least 50 ms of quiet; each is judged on its own, in order.

For each --tone, the channel's audible region (samples above 10 % of its peak) must last
SECONDS (within 1 % plus two periods), its pitch by rising zero crossings must be within
1 % of FREQ, and every crossing must fall where a steady tone puts it (no gap, no
repeated or skipped block: a quarter period at most off the fitted line). Prints what it
measured; exits 1 on the first failure.
"""
import argparse
import struct
import sys
import wave


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav")
    ap.add_argument("--channels", type=int, default=2)
    ap.add_argument("--rate", type=int, default=44100)
    ap.add_argument("--tone", action="append", default=[])
    ap.add_argument("--same", action="store_true")
    ap.add_argument("--longest", type=float)
    a = ap.parse_args()

    with wave.open(a.wav, "rb") as w:
        ch, rate, width, n = w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    print(f"{a.wav}: {ch} channels, {rate} Hz, {width * 8}-bit, {n} frames ({n / rate:.3f} s)")
    if ch != a.channels:
        fail(f"{ch} channels, expected {a.channels}")
    if rate != a.rate or width != 2:
        fail(f"format {rate} Hz {width * 8}-bit, expected {a.rate} Hz 16-bit")
    samples = struct.unpack("<%dh" % (len(raw) // 2), raw)
    chans = [samples[c::ch] for c in range(ch)]
    if a.same and ch == 2 and chans[0] != chans[1]:
        diff = sum(1 for x, y in zip(chans[0], chans[1]) if x != y)
        fail(f"the channels differ in {diff} frames; a mono source plays on both")

    per_chan = {}
    for spec in a.tone:
        per_chan.setdefault(int(spec.split(":")[0]), []).append(spec)
    segments = {}
    for c, specs in per_chan.items():
        x = chans[c]
        peak = max(abs(v) for v in x)
        if peak < 500:
            fail(f"channel {c}: silent (peak {peak})")
        thr = peak // 10
        loud = [i for i, v in enumerate(x) if abs(v) > thr]
        segs = [[loud[0], loud[0]]]
        for i in loud[1:]:
            if i - segs[-1][1] > rate // 20:
                segs.append([i, i])
            else:
                segs[-1][1] = i
        if len(specs) > 1 and len(segs) != len(specs):
            fail(f"channel {c}: {len(segs)} separate sounds, expected {len(specs)}")
        if len(specs) == 1:
            segs = [[loud[0], loud[-1]]]
        segments[c] = segs

    done = {}
    for spec in a.tone:
        parts = spec.split(":")
        c, freq = int(parts[0]), float(parts[1])
        secs = float(parts[2]) if len(parts) > 2 else None
        x = chans[c]
        peak = max(abs(v) for v in x)
        k = done.get(c, 0)
        done[c] = k + 1
        start, end = segments[c][k]
        dur = (end - start) / rate
        period = rate / freq
        cross = []
        for i in range(start + 1, end + 1):
            p, q = x[i - 1], x[i]
            if p < 0 <= q:
                cross.append(i - 1 + (-p) / (q - p))
        if a.longest is not None and len(cross) > 1:
            # A host that starved the output leaves gaps: keep the longest stretch.
            best, cur = [cross[0]], [cross[0]]
            for t in cross[1:]:
                if 0.9 * period < t - cur[-1] < 1.1 * period:
                    cur.append(t)
                else:
                    cur = [t]
                if len(cur) > len(best):
                    best = cur
            print(f"channel {c}: {len(cross)} crossings, longest unbroken stretch "
                  f"{len(best)} ({(best[-1] - best[0]) / rate:.3f} s)")
            cross = best
            if (cross[-1] - cross[0]) / rate < a.longest:
                fail(f"channel {c}: no unbroken stretch of {a.longest} s")
        if len(cross) < 10:
            fail(f"channel {c}: only {len(cross)} zero crossings")
        k = len(cross) - 1
        f = k / (cross[-1] - cross[0]) * rate
        # Least-squares line through the crossings: index -> time.
        mi = k / 2
        mt = sum(cross) / len(cross)
        slope = sum((i - mi) * (t - mt) for i, t in enumerate(cross)) / \
            sum((i - mi) ** 2 for i in range(len(cross)))
        worst = max(abs(t - (mt + (i - mi) * slope)) for i, t in enumerate(cross))
        gaps = [cross[i + 1] - cross[i] for i in range(k)]
        print(f"channel {c}: peak {peak}, tone {start / rate:.4f}-{end / rate:.4f} s "
              f"({dur:.4f} s), {f:.3f} Hz (expected {freq:.3f}), crossings every "
              f"{min(gaps):.2f}-{max(gaps):.2f} samples, worst phase error "
              f"{worst / period:.3f} period")
        if abs(f - freq) > freq * 0.01:
            fail(f"channel {c}: {f:.3f} Hz is not within 1 % of {freq:.3f} Hz")
        if worst > period / 4 or max(gaps) > period * 1.5:
            fail(f"channel {c}: the tone has a gap or a repeated block")
        if secs is not None and abs(dur - secs) > secs * 0.01 + 2 * period / rate:
            fail(f"channel {c}: the tone lasts {dur:.4f} s, expected {secs:.4f} s")
    print("OK")


main()
