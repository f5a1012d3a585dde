/**
 * What a file of the closure is, without reading it: its store path's NAR hash and its
 * name below that path. The store is immutable, so these decide its bytes (a path changed
 * in place would also fail `nix-store --verify`); described spans (core/described-spans.ts)
 * rest on this.
 */
import type { FileIdentity } from '../core/described-spans.js';
import { STORE_DIR, type SystemClosure } from './root-tree.js';

export function storeFileIdentity(closure: SystemClosure): FileIdentity {
  const prefix = `${STORE_DIR}/`;
  const narHashes = new Map(closure.registrations.map((r) => [r.path.slice(prefix.length), r.narHash]));
  return (path) => {
    if (!path.startsWith(prefix)) return undefined;
    const slash = path.indexOf('/', prefix.length);
    const name = path.slice(prefix.length, slash < 0 ? undefined : slash);
    const narHash = narHashes.get(name);
    return narHash === undefined ? undefined : `${narHash} ${path.slice(prefix.length)}`;
  };
}
