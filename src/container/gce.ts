/**
 * Google Compute Engine image: a gzip-compressed tar whose only member is `disk.raw`, stored
 * as a GNU sparse member (what nixpkgs' `tar -Sc disk.raw | gzip -6` gives and what
 * `gcloud compute images create --source-uri` imports; format-specs §14.4). One pass over the
 * image: the data map comes from the segment list, the data through tar, then a gzip that
 * compresses on every core into one gzip member, into the output file.
 */
import type { BlockImage } from '../core/block-image.js';
import type { OutputFile } from '../core/output-file.js';
import { outputFileSink } from '../core/sink.js';
import { TarWriter } from '../archive/tar.js';
import { gzipSink } from '../compress/gzip.js';
import type { PhasedControl } from '../core/progress.js';
import type { UnitCache } from '../core/unit-cache.js';

export interface GceOptions {
  /** Member mtime, seconds since 1970 (SOURCE_DATE_EPOCH). */
  readonly epoch: number;
  /** gzip level; default 6, nixpkgs' `googleComputeImage.compressionLevel` default. */
  readonly compressionLevel?: number;
  /** --cache: gzip pieces reused across builds; never changes the bytes. */
  readonly cache?: UnitCache | undefined;
}

/** The member name GCE requires. */
export const GCE_MEMBER = 'disk.raw';

/**
 * Writes `image` into `out` as `<name>.raw.tar.gz`. The caller owns `out`: it commits on
 * success and aborts on failure or cancellation.
 */
export async function writeGceTarball(image: BlockImage, out: OutputFile, options: GceOptions, control: PhasedControl = {}): Promise<void> {
  const file = outputFileSink(out);
  // Pieces cut by content: after a change the others are the same, and the cache finds them.
  const gzip = gzipSink(file, { level: options.compressionLevel ?? 6, boundaries: 'content', cache: options.cache });
  try {
    const tar = new TarWriter(gzip, { mtime: options.epoch, format: 'gnu' });
    await tar.addSparseImage(GCE_MEMBER, image, { mode: 0o644 }, { ...control, phase: control.phase ?? 'write gce tarball' });
    await tar.finish();
  } catch (error) {
    await gzip.abort();
    throw error;
  }
  out.truncate(file.position);
}
