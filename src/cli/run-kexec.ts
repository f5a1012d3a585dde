/**
 * --run for the kexec formats: takes the image (kernel, initrd, cmdline) out of the built
 * tarball (after the bundle's stub) with the host's tar and xz, into a temporary
 * directory, and boots it with QEMU's -kernel, as a kexec would. The built file is only
 * read; the directory is removed afterwards.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageError } from '../core/errors.js';
import type { KexecPlan } from '../plan/types.js';
import { toplevelSystem } from '../formats/toplevel-plan.js';
import { kernelQemuArguments, spawnQemu } from './run-qemu.js';

/** Extracts one member tree of a .tar.xz that starts at `offset` of `file` into `dir`. */
function extract(file: string, offset: number, member: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-xJf', '-', '-C', dir, member], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    tar.on('error', (error: NodeJS.ErrnoException) => reject(new ImageError('run.no-tar', `Cannot unpack "${file}" to boot it: tar ${error.code === 'ENOENT' ? 'was not found' : `failed (${error.code ?? error.message})`}`, {
      hint: 'install tar and xz (Debian: apt-get install tar xz-utils)',
    })));
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new ImageError('run.unpack', `Cannot unpack ${member} from "${file}" to boot it: tar exited with ${code}: ${stderr.trim().split('\n')[0] ?? ''}`))));
    // tar may stop reading once it has the member; the stream's error then does not matter.
    createReadStream(file, { start: offset }).on('error', () => undefined).pipe(tar.stdin).on('error', () => undefined);
  });
}

/** Boots the kexec image of `file`; `extra` goes after QEMU's own arguments. */
export async function runKexec(plan: KexecPlan, file: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nixos-generate-run-'));
  try {
    const offset = plan.output.stub === undefined ? 0 : Buffer.byteLength(plan.output.stub);
    const member = plan.kexec.imagePath.slice(1);
    await extract(file, offset, member, dir);
    const image = join(dir, member);
    const commandLine = readFileSync(join(image, 'cmdline'), 'utf8').trim();
    const system = toplevelSystem(plan.toplevel);
    return await spawnQemu([...kernelQemuArguments(join(image, 'kernel'), join(image, 'initrd'), commandLine, env, system), ...extra], system);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
