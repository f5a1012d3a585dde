/**
 * Vagrant box for the virtualbox provider (format-specs §6.3; nixpkgs
 * vagrant-virtualbox-image.nix): a gzip-compressed tar of `metadata.json`, `Vagrantfile`,
 * `box.ovf`, `box-disk001.vmdk` (streamOptimized) and `box.mf`, as `./`-prefixed members in
 * name order (nixpkgs packs with `tar --sort=name --owner=0 --group=0 --numeric-owner -czf`).
 *
 * A gzip stream cannot be patched, and the VMDK's size must be in its tar header before its
 * data, so the VMDK is first written to a temporary file next to the output (it is never
 * larger than the box), then everything is streamed through tar and gzip into the output.
 * The temporary file is removed on success and on failure.
 */
import { basename, dirname, join } from 'node:path';
import type { BlockImage } from '../core/block-image.js';
import { OutputFile } from '../core/output-file.js';
import { checkpoint, throttledCheckpoint, progressReporter, type PhasedControl } from '../core/progress.js';
import { outputFileSink } from '../core/sink.js';
import { copyFileInto, hashingSink, sha256Hex } from '../archive/sinks.js';
import { TarWriter } from '../archive/tar.js';
import { gzipSink } from '../compress/gzip.js';
import { ovaMachine, type OvaOptions } from './ova.js';
import { manifestLine, renderOvf } from './ova-ovf.js';
import { writeVmdkStream } from './vmdk.js';
import { geometry, SECTOR } from './vmdk-format.js';

export type VagrantBoxOptions = Omit<OvaOptions, 'fileStem' | 'macAddress'> & {
  /** gzip level; default 6 (GNU tar -z). */
  readonly compressionLevel?: number;
};

/** nixpkgs' Vagrantfile sets this base MAC; Vagrant gives it to NIC 1 after import. */
export const BASE_MAC = '0800275F0936';
export const VAGRANTFILE = `Vagrant.configure("2") do |config|\n  config.vm.base_mac = "${BASE_MAC}"\nend\n`;
export const METADATA_JSON = '{"provider":"virtualbox"}\n';
export const BOX_VMDK = 'box-disk001.vmdk';

/**
 * Writes `image` into `out` as a Vagrant `.box`. The caller owns `out`: it commits on
 * success and aborts on failure or cancellation.
 */
export async function writeVagrantBox(image: BlockImage, out: OutputFile, options: VagrantBoxOptions, control: PhasedControl = {}): Promise<void> {
  const machine = ovaMachine({ ...options, fileStem: 'box', vmName: options.vmName ?? 'NixOS' }, BASE_MAC);
  const temporary = OutputFile.create(join(dirname(out.finalPath), `${basename(out.finalPath)}.${BOX_VMDK}`));
  try {
    const vmdkFile = outputFileSink(temporary);
    const hashing = hashingSink(vmdkFile);
    await writeVmdkStream(image, hashing, { subformat: 'streamOptimized', seed: options.seed, fileName: BOX_VMDK, cache: options.cache },
      { ...control, phase: control.phase === undefined ? 'write vagrant box disk' : `${control.phase}: disk` });
    await hashing.close();
    const vmdkSize = hashing.position;
    const vmdkDigest = hashing.digest();

    const encoder = new TextEncoder();
    const ovf = encoder.encode(renderOvf(machine, { href: BOX_VMDK, fileSize: vmdkSize, capacity: geometry(image.size).capacity * SECTOR }));
    const manifest = encoder.encode(manifestLine('box.ovf', sha256Hex(ovf)) + manifestLine(BOX_VMDK, vmdkDigest));

    // Two steps, two names: progress restarting under one name would look like going back.
    const report = progressReporter({ ...control, phase: control.phase === undefined ? 'pack vagrant box' : `${control.phase}: pack` }, 'pack vagrant box', vmdkSize);
    const step = throttledCheckpoint(control, 1);
    report(0);
    await checkpoint(control);
    const file = outputFileSink(out);
    // Pieces cut by content, so that after a change the cache finds the others again.
    const gzip = gzipSink(file, { level: options.compressionLevel ?? 6, boundaries: 'content', cache: options.cache });
    try {
      const tar = new TarWriter(gzip, { mtime: options.epoch, format: 'gnu' });
      await tar.addDirectory('./');
      await tar.addFile('./Vagrantfile', encoder.encode(VAGRANTFILE));
      let copied = 0;
      await tar.addStream(`./${BOX_VMDK}`, vmdkSize, (member) => copyFileInto(temporary.temporaryPath, vmdkSize, member, () => {
        copied = member.position;
        const pause = step();
        if (pause !== undefined) report(copied);
        return pause;
      }));
      await tar.addFile('./box.mf', manifest);
      await tar.addFile('./box.ovf', ovf);
      await tar.addFile('./metadata.json', encoder.encode(METADATA_JSON));
      await tar.finish();
    } catch (error) {
      await gzip.abort();
      throw error;
    }
    out.truncate(file.position);
    report(vmdkSize);
  } finally {
    temporary.abort();
  }
}
