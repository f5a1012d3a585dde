/**
 * Builds an ext4 image of a host directory, listed lazily as the CLI lists the store, in
 * a process of its own so a test can measure its peak memory:
 *   node dist/test/fs/ext4/build-image.js SOURCE IMAGE UUID
 */
import { buildExt4 } from '../../../src/fs/ext4/index.js';
import { lazyHostTree, type DirNode } from '../../../src/fs/tree.js';
import { writeRaw } from '../../../src/container/raw.js';
import { writeTo } from '../../helpers/output.js';

const [source, image, uuid] = process.argv.slice(2) as [string, string, string];
const fs = buildExt4(lazyHostTree(source, { maxTime: 1, uid: 0, gid: 0 }) as DirNode, { label: 'nixos', uuid, epoch: 1 });
await writeTo(image, (out) => writeRaw(fs.image, out));
