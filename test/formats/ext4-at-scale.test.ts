/**
 * ext4 at scale, end to end: a closure holding a directory of 70,000 entries (a hashed
 * index with an interior level) and a sparse file over 4 GiB, built into raw-efi by the
 * CLI and booted under OVMF, where the system looks names up in the directory, counts
 * it and reads the file past 4 GiB before it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS } from '../helpers/example.js';
import { partitions } from '../helpers/disk.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { runOk, tempDir } from '../helpers/run.js';

const ENTRIES = 70_000;
const SPARSE_BYTES = 4.5 * 2 ** 30;
/** Where the sparse file holds its only data: past 4 GiB, so 32-bit offsets would miss it. */
const DATA_AT = 2 ** 32 + 123;
const DATA = 'past-four-GiB';
/** Names the booted system looks up (the last one must be absent). */
const LOOKUPS = [0, 1, 34_567, 69_999];

/** 40-byte names: more leaves than the index root points at, so one interior level. */
const entryName = (i: number): string => `entry-${String(i).padStart(6, '0')}-${'x'.repeat(27)}`;

function configuration(dir: string): string {
  const path = join(dir, 'at-scale.nix');
  writeFileSync(path, `{ lib, pkgs, ... }:
let
  scale = pkgs.runCommand "ext4-at-scale" { } ''
    set -eu
    mkdir -p "$out/big-directory"
    cd "$out/big-directory"
    awk 'BEGIN { for (i = 0; i < ${ENTRIES}; i++) printf "entry-%06d-%s\\n", i, "${'x'.repeat(27)}" }' | xargs touch
    cd /
    truncate -s ${SPARSE_BYTES} "$out/sparse"
    printf '${DATA}' | dd of="$out/sparse" bs=1 seek=${DATA_AT} conv=notrunc 2>/dev/null
  '';
in {
  imports = [ ${join(EXAMPLE_DIR, 'configuration.nix')} ];
  networking.hostName = "ext4-at-scale";
  environment.systemPackages = [ scale ];
  # Lookups first, while nothing of the directory is cached: each goes through the index.
  boot.postBootCommands = ''
    found=0
    for name in ${LOOKUPS.map(entryName).join(' ')}; do
      [ -e "\${scale}/big-directory/$name" ] && found=$((found + 1))
    done
    absent=no
    [ -e "\${scale}/big-directory/${entryName(ENTRIES)}" ] || absent=yes
    entries=$(ls "\${scale}/big-directory" | wc -l)
    size=$(stat -c %s "\${scale}/sparse")
    data=$(dd if="\${scale}/sparse" bs=1 skip=${DATA_AT} count=${DATA.length} 2>/dev/null)
    echo "EXT4-AT-SCALE found=$found absent=$absent entries=$entries size=$size data=$data"
  '';
}
`);
  return path;
}

test('a 70,000-entry hashed directory and a 4.5 GiB sparse file in the closure: the booted system looks names up and reads past 4 GiB', async () => {
  const tmp = tempDir('ext4-at-scale');
  try {
    const config = configuration(tmp.path);
    const image = runOk('node', [CLI, '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-f', 'raw-efi', '-o', join(tmp.path, 'out')]).stdout.trim();
    assert.ok(statSync(image).blocks * 512 < 2 * 2 ** 30, 'the image stays sparse');

    const root = partitions(image).find((p) => p.name === 'primary')!;
    const rootFs = `${image}?offset=${root.start}`;
    const fsck = runOk('e2fsck', ['-fn', rootFs]);
    assert.match(fsck.stdout, /Pass 5/);
    const store = runOk('debugfs', ['-R', 'ls -p /nix/store', rootFs]).stdout;
    const scale = /\/([0-9a-z]{32}-ext4-at-scale)\/\d*\/$/m.exec(store)?.[1];
    assert.ok(scale !== undefined, 'the package is in the store');
    const index = runOk('debugfs', ['-R', `htree /nix/store/${scale}/big-directory`, rootFs]).stdout;
    assert.match(index, /Indirect levels: 1\n/, 'the directory is hashed, with an interior level');

    const result = await boot(image, 'raw', 'uefi');
    assert.ok(!result.timedOut, `boot timed out:\n${result.console.slice(-3000)}`);
    assert.match(result.console, MARKER, result.console.slice(-3000));
    assert.doesNotMatch(result.console, /EXT4-fs (error|warning)/, 'the kernel found nothing wrong with the index');
    const line = /EXT4-AT-SCALE (.*)/.exec(result.console)?.[1];
    assert.equal(line, `found=${LOOKUPS.length} absent=yes entries=${ENTRIES} size=${SPARSE_BYTES} data=${DATA}`, result.console.slice(-3000));
  } finally {
    tmp.remove();
  }
});
