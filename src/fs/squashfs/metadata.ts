/**
 * Metadata blocks: the inode, directory, fragment, export and id tables are streams cut
 * into blocks of 8 KiB, each compressed on its own (stored raw when that does not shrink
 * it) behind a 2-byte header: the stored length, with bit 15 set for a raw block. A
 * position in a table is (start of its block in the table, offset in the uncompressed
 * block), which is known as soon as the bytes are written: earlier blocks are done and the
 * current block starts where they end.
 */
import { createHash } from 'node:crypto';
import { ImageError } from '../../core/errors.js';
import { UnitCache } from '../../core/unit-cache.js';
import { blockCacheSettings, compressBlockSync, type BlockCodec } from './codec.js';

export const METADATA_SIZE = 8192;
const UNCOMPRESSED = 0x8000;

export interface MetadataPosition {
  /** Byte offset of the block's header from the table's start. */
  readonly block: number;
  /** Offset inside the block's uncompressed bytes. */
  readonly offset: number;
}

export class MetadataWriter {
  private readonly stored: Uint8Array[] = [];
  private storedLength = 0;
  private readonly current = new Uint8Array(METADATA_SIZE);
  private fill = 0;
  private total = 0;

  /** `cache`: blocks looked up before compressing (the inode and directory tables, which are large at zstd 19). */
  constructor(private readonly codec: BlockCodec, private readonly cache?: UnitCache) {}

  /** Uncompressed bytes written so far. */
  get length(): number {
    return this.total;
  }

  /** Where the next byte written will be. */
  position(): MetadataPosition {
    return { block: this.storedLength, offset: this.fill };
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const take = Math.min(bytes.length - done, METADATA_SIZE - this.fill);
      this.current.set(bytes.subarray(done, done + take), this.fill);
      this.fill += take;
      done += take;
      this.total += take;
      if (this.fill === METADATA_SIZE) this.flush();
    }
  }

  /** Ends the table (a last partial block) and returns its stored bytes. */
  finish(): Uint8Array {
    if (this.fill > 0) this.flush();
    const out = new Uint8Array(this.storedLength);
    let at = 0;
    for (const piece of this.stored) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Start of every block, for the lookup tables that index their blocks. */
  blockStarts(): number[] {
    const starts: number[] = [];
    let at = 0;
    for (const piece of this.stored) {
      starts.push(at);
      at += piece.length;
    }
    return starts;
  }

  private flush(): void {
    const plain = this.current.subarray(0, this.fill);
    const packed = this.compress(plain);
    const useRaw = packed === undefined || packed.length >= plain.length;
    const body = useRaw ? plain : packed;
    if (body.length > METADATA_SIZE) throw new ImageError('squashfs.internal', 'Internal error: a metadata block grew past 8 KiB');
    const piece = new Uint8Array(2 + body.length);
    new DataView(piece.buffer).setUint16(0, body.length | (useRaw ? UNCOMPRESSED : 0), true);
    piece.set(body, 2);
    this.stored.push(piece);
    this.storedLength += piece.length;
    this.fill = 0;
  }

  private compress(plain: Uint8Array): Uint8Array | undefined {
    const cache = this.codec.name === 'none' ? undefined : this.cache;
    if (cache === undefined) return compressBlockSync(this.codec, plain);
    const key = UnitCache.key(blockCacheSettings(this.codec, plain.length, 'metadata'), createHash('sha256').update(plain).digest());
    const unit = cache.get(key, 'squashfs metadata');
    if (unit?.kind === 'stored') return undefined;
    if (unit?.kind === 'compressed' && unit.bytes.length < plain.length) return unit.bytes;
    const packed = compressBlockSync(this.codec, plain);
    cache.put(key, packed === undefined || packed.length >= plain.length ? { kind: 'stored' } : { kind: 'compressed', bytes: packed });
    return packed;
  }
}

/** An inode reference as directories and the superblock hold it: block << 16 | offset. */
export function inodeReference(position: MetadataPosition): number {
  return position.block * 0x10000 + position.offset;
}

/** One raw metadata block (header + bytes), as the compressor options are stored. */
export function rawMetadataBlock(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + bytes.length);
  new DataView(out.buffer).setUint16(0, bytes.length | UNCOMPRESSED, true);
  out.set(bytes, 2);
  return out;
}
