/**
 * The NAR serialisation of a file tree, hashed as it is produced: Nix's content identity
 * of a store path (the narHash and narSize of its registration). Nothing is buffered but
 * one read of a file at a time. Names are byte strings; a file is executable in the NAR
 * when its owner may execute it, as Nix decides.
 */
import { createHash, type Hash } from 'node:crypto';
import { childrenOf, type TreeNode } from '../fs/tree.js';
import { streamHostFile } from '../archive/sinks.js';

const READ_SIZE = 1 << 20;

export interface NarDigest {
  /** "sha256:<hex>", as Nix's database stores it. */
  readonly narHash: string;
  readonly narSize: number;
}

class NarHasher {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  private readonly buffer = new Uint8Array(READ_SIZE);

  private raw(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.size += bytes.length;
  }

  private number(value: number): void {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(value));
    this.raw(bytes);
  }

  private padding(length: number): void {
    const pad = (8 - (length % 8)) % 8;
    if (pad > 0) this.raw(new Uint8Array(pad));
  }

  /** A NAR string: its length, its bytes, zeros to a multiple of 8. */
  string(text: string | Uint8Array): void {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    this.number(bytes.length);
    this.raw(bytes);
    this.padding(bytes.length);
  }

  async node(node: TreeNode): Promise<void> {
    this.string('(');
    this.string('type');
    switch (node.kind) {
      case 'symlink':
        this.string('symlink');
        this.string('target');
        this.string(node.target);
        break;
      case 'file': {
        this.string('regular');
        if ((node.permissions & 0o100) !== 0) {
          this.string('executable');
          this.string('');
        }
        this.string('contents');
        this.number(node.size);
        const content = node.content;
        if (content.kind === 'bytes') this.raw(content.bytes);
        else await streamHostFile(content.path, node.size, this.buffer, async (bytes) => this.raw(bytes));
        this.padding(node.size);
        break;
      }
      case 'dir':
        this.string('directory');
        for (const [name, child] of childrenOf(node)) {
          this.string('entry');
          this.string('(');
          this.string('name');
          this.string(name);
          this.string('node');
          await this.node(child);
          this.string(')');
        }
        break;
    }
    this.string(')');
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** The narHash and narSize of the store path whose contents are `node`. */
export async function narDigest(node: TreeNode): Promise<NarDigest> {
  const hasher = new NarHasher();
  hasher.string('nix-archive-1');
  await hasher.node(node);
  return { narHash: hasher.digest(), narSize: hasher.size };
}
