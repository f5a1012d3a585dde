/**
 * What stderr shows: the progress line on a terminal (bytes, throughput, time left, at
 * most ten redraws a second), plain lines elsewhere, and the summary. A fake clock and a
 * fake terminal stream stand in for time and the TTY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from '../../src/cli/progress-line.js';
import { progressDisplay, REDRAW_INTERVAL_MS } from '../../src/cli/progress.js';
import { summaryLines } from '../../src/cli/summary.js';
import { ThroughputMeter } from '../../src/cli/throughput.js';
import { formatBytes, formatClock, formatDuration } from '../../src/cli/units.js';

const MiB = 1 << 20;

/** A stream that records what is written, looking like a terminal of `columns` or like a pipe. */
function fakeStream(tty: boolean, columns = 100): { stream: NodeJS.WriteStream; writes: string[] } {
  const writes: string[] = [];
  const stream = { isTTY: tty, columns, write: (text: string) => { writes.push(text); return true; } };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

test('the line shows the phase, a bar, percent, bytes done of total, throughput and time left', () => {
  const line = progressLine({ phase: 'write nixos.img (raw-efi)', done: 300 * MiB, total: 900 * MiB, bytesPerSecond: 100 * MiB }, 140);
  assert.equal(line, `nixos-generate: write nixos.img (raw-efi) [${'#'.repeat(10)}${'.'.repeat(20)}]  33% 300.0/900.0 MiB   100.0 MiB/s   0:06 left`);
  const unknown = progressLine({ phase: 'p', done: 0, total: 2 * 1024 * MiB, bytesPerSecond: undefined }, 120);
  assert.match(unknown, / {3}0% 0\.0\/2\.0 GiB {8}-- B\/s  --:-- left$/);
  const done = progressLine({ phase: 'p', done: 5 * MiB, total: 5 * MiB, bytesPerSecond: 1 }, 120);
  assert.match(done, /100% 5\.0\/5\.0 MiB {9}1 B\/s {3}0:00 left$/);
  // The numbers keep their width as they change, so the bar stays put.
  const widths = [[0, 1], [1, 9.5], [99, 10], [100, 99.9], [511, 1000], [512, 1000]].map(([done, rate]) =>
    progressLine({ phase: 'p', done: done! * MiB, total: 512 * MiB, bytesPerSecond: rate! * MiB }, 120).length);
  assert.deepEqual(new Set(widths).size, 1, String(widths));
});

test('the line always fits the terminal: the bar shrinks, then the phase is shortened', () => {
  const snapshot = { phase: 'write nixos-image-25.05pre-example-x86_64-linux.vhd (amazon)', done: 1, total: 3 * 1024 * MiB, bytesPerSecond: 50 * MiB };
  for (const columns of [200, 120, 100, 80, 60, 40, 20, 5]) {
    const line = progressLine(snapshot, columns);
    assert.ok(line.length <= Math.max(columns - 1, 20), `${columns}: ${line}`);
    assert.ok(!line.includes('\n'));
  }
  assert.equal(progressLine(snapshot, 100).length, 99);
  assert.match(progressLine(snapshot, 200), /^nixos-generate: write nixos-image-25\.05pre-example-x86_64-linux\.vhd \(amazon\) \[\.{30}\] /);
  assert.match(progressLine(snapshot, 100), /^nixos-generate: write nixos-image-25\.05pre… \[\.{10}\] {3}0% 0\.0\/3\.0 GiB +50\.0 MiB\/s +1:02 left$/);
  assert.match(progressLine(snapshot, 80), /^nixos-generate: write nixos-image-2… {3}0% 0\.0\/3\.0 GiB +50\.0 MiB\/s +1:02 left$/);
});

test('time left and throughput follow the bytes per second of the last seconds', () => {
  const meter = new ThroughputMeter(5000);
  meter.add(0, 0);
  assert.equal(meter.rate(), undefined);
  meter.add(1000, 10 * MiB);
  assert.equal(meter.rate(), 10 * MiB);
  // Ten seconds later at a slower pace: only the last five seconds count.
  for (let t = 2000; t <= 11_000; t += 1000) meter.add(t, 10 * MiB + ((t - 1000) / 1000) * MiB);
  assert.equal(meter.rate(), MiB);
  assert.equal(formatClock(6), '0:06');
  assert.equal(formatClock(3725.2), '1:02:06');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatDuration(1234), '1.2 s');
  assert.equal(formatDuration(125_000), '2 min 05 s');
});

test('on a terminal the line is redrawn in place at most ten times a second', () => {
  let clock = 0;
  const { stream, writes } = fakeStream(true, 120);
  const display = progressDisplay(stream, {}, { now: () => clock });
  const total = 1000 * MiB;
  const drawTimes: number[] = [];
  // An event every 10 ms for 3 seconds, 100 MiB/s.
  for (let t = 0; t <= 3000; t += 10) {
    clock = t;
    const before = writes.length;
    display.onProgress({ phase: 'write nixos.img (raw-efi)', done: (t / 1000) * 100 * MiB, total });
    if (writes.length > before) drawTimes.push(t);
  }
  assert.ok(drawTimes.length >= 25 && drawTimes.length <= 31, `${drawTimes.length} draws`);
  for (let i = 1; i < drawTimes.length; i++) assert.ok(drawTimes[i]! - drawTimes[i - 1]! >= REDRAW_INTERVAL_MS, `draws at ${drawTimes[i - 1]} and ${drawTimes[i]}`);
  for (const w of writes) {
    assert.ok(w.startsWith('\r\x1b[Knixos-generate: write nixos.img (raw-efi) ['), JSON.stringify(w));
    assert.ok(!w.includes('\n'));
  }
  assert.match(writes.at(-1)!, / {2}30% +300\.0\/1000\.0 MiB +100\.0 MiB\/s +0:07 left$/);
  // A step line first clears the bar; then the next phase starts afresh.
  display.step('building raw from /nix/store/x');
  assert.equal(writes.at(-1), 'nixos-generate: building raw from /nix/store/x\n');
  assert.equal(writes.at(-2), '\r\x1b[K');
  display.finish();
  assert.equal(writes.at(-1), 'nixos-generate: building raw from /nix/store/x\n', 'nothing to clear');
});

test('elsewhere (a pipe, CI, TERM=dumb) each phase is one plain line and bytes draw nothing', () => {
  for (const [tty, env] of [[false, {}], [true, { CI: 'true' }], [true, { TERM: 'dumb' }]] as const) {
    let clock = 0;
    const { stream, writes } = fakeStream(tty);
    const display = progressDisplay(stream, env, { now: () => clock });
    for (let t = 0; t <= 2000; t += 10) {
      clock = t;
      display.onProgress({ phase: 'write nixos.qcow2 (qcow-efi)', done: t * MiB, total: 2000 * MiB });
    }
    display.onProgress({ phase: 'sha256 nixos.qcow2', done: 0, total: 90 * MiB });
    display.onProgress({ phase: 'sha256 nixos.qcow2', done: 90 * MiB, total: 90 * MiB });
    display.finish();
    assert.deepEqual(writes, ['nixos-generate: write nixos.qcow2 (qcow-efi) (2.0 GiB)\n', 'nixos-generate: sha256 nixos.qcow2 (90.0 MiB)\n'], JSON.stringify(env));
  }
});

test('the summary has one line per image: format, time taken, path and size', () => {
  const text = summaryLines([
    { label: 'raw-efi', image: { path: '/out/raw-efi/nixos.img', name: 'nixos.img', size: 905 * MiB, sha256: '0'.repeat(64) }, milliseconds: 3140 },
    { label: 'amazon', image: { path: '/out/amazon/x.vhd', name: 'x.vhd', size: 94 * MiB, sha256: '1'.repeat(64) }, milliseconds: 600 },
  ]);
  assert.equal(text, [
    'nixos-generate: built raw-efi in 3.1 s: /out/raw-efi/nixos.img (905.0 MiB)\n',
    'nixos-generate: built amazon in 0.6 s: /out/amazon/x.vhd (94.0 MiB)\n',
  ].join(''));
});
