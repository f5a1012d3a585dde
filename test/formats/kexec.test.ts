/**
 * The kexec formats end to end: kexec and kexec-bundle from a configuration evaluated with
 * the stand-in's nixpkgs modules (netboot-minimal.nix), written natively, checked by xz,
 * GNU tar, zstd, GNU cpio, unsquashfs and Nix's own NAR hashing, and booted: the image's
 * kernel, initrd and cmdline directly by QEMU, and end to end from a running system that
 * unpacks the tarball (or runs the bundle) and kexecs into the new one. Tests whose subject
 * is not the squashfs compressor use a quick level (QUICK_NETBOOT_SQUASHFS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryClosure } from '../../src/nix/closure.js';
import { parseRegistration } from '../../src/nix/registration.js';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS, QUICK_NETBOOT_SQUASHFS } from '../helpers/example.js';
import { boot, bootKernel, MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { snapshotTree } from '../helpers/tree.js';

const GUEST = 'kexec-guest';
const HOST = 'kexec-host';
const work = tempDir('kexec');
after(() => work.remove());

function configuration(name: string, body: string): string {
  const path = join(work.path, `${name}.nix`);
  writeFileSync(path, `{ lib, pkgs, ... }: {
  imports = [ ${join(EXAMPLE_DIR, 'configuration.nix')} ];
  ${body}
}
`);
  return path;
}

/** The guest system; `name` and `extra` for a variant. */
const guestConfiguration = (name = '', extra = ''): string => configuration(`guest${name === '' ? '' : `-${name}`}`, `networking.hostName = "${GUEST}";\n  ${extra}`);

function build(formats: string, config: string, out: string, extra: readonly string[] = []): ReturnType<typeof run> {
  return run('node', [CLI, '-f', formats, '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out), ...extra]);
}

let tarball = '';
let bundle = '';
let hostImage = '';
/** The extracted tarball. */
const root = join(work.path, 'root');

before(() => {
  const result = build('kexec,kexec-bundle', guestConfiguration(), 'out');
  assert.equal(result.status, 0, result.stderr);
  [tarball, bundle] = result.stdout.trim().split('\n') as [string, string];
  mkdirSync(root);
  runOk('tar', ['-xpJf', tarball, '-C', root]);
  // A system that carries kexec-tools and, at boot, runs what a payload disk brings:
  // the tarball unpacked to / and /kexec_nixos, or the bundle. /bin/sh for the bundle's
  // stub is what NixOS's activation would create (the example system has none).
  const host = build('raw', configuration('host', `networking.hostName = "${HOST}";
  environment.systemPackages = [ pkgs.kexec-tools ];
  boot.postBootCommands = ''
    if payload=$(findfs LABEL=kexec-payload 2>/dev/null); then
      mkdir -p /payload /bin
      ln -sfn \${pkgs.busybox}/bin/sh /bin/sh
      mount -t ext4 -o ro "$payload" /payload
      if [ -e /payload/kexec.tar.xz ]; then
        tar -xJf /payload/kexec.tar.xz -C /
        /kexec_nixos
      else
        /payload/kexec-bundle
      fi
    fi
  '';`), 'host');
  assert.equal(host.status, 0, host.stderr);
  hostImage = host.stdout.trim();
});

const storeEntries = (): string[] => readdirSync(join(root, 'nix/store')).sort();
const storePath = (suffix: string): string => {
  const name = storeEntries().find((n) => n.endsWith(suffix));
  assert.ok(name !== undefined, `no store path ending in ${suffix}`);
  return join(root, 'nix/store', name);
};
/** What the image's cmdline names: the kexec'd system. */
const toplevel = (): string => /init=(\/nix\/store\/[^/]+)\/init/.exec(readFileSync(join(storePath('-image'), 'cmdline'), 'utf8'))![1]!;

test('file names as nixos-generators makes them; xz -t; the bundle is its stub, then the same tarball, executable', () => {
  assert.match(tarball, /\/out\/kexec\/tarball\/nixos-system-x86_64-linux\.tar\.xz$/);
  assert.match(bundle, /\/out\/kexec-bundle\/nixos-system-x86_64-linux-kexec_bundle$/);
  for (const dir of ['kexec', 'kexec-bundle']) runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work.path, 'out', dir) });
  runOk('xz', ['-t', tarball]);
  assert.match(runOk('xz', ['-lv', tarball]).stdout, /Streams:\s+1\n[\s\S]*Check:\s+CRC32\n/);
  const stub = '#!/bin/sh\nset -eu\nARCHIVE=`awk \'/^__ARCHIVE_BELOW__/ { print NR + 1; exit 0; }\' $0`\n\ntail -n+$ARCHIVE $0 | tar xJ -C /\n/kexec_nixos\n\nexit 1\n\n__ARCHIVE_BELOW__\n';
  const bytes = readFileSync(bundle);
  assert.equal(bytes.subarray(0, stub.length).toString('latin1'), stub);
  assert.ok(bytes.subarray(stub.length).equals(readFileSync(tarball)), 'the bundle carries the kexec tarball byte for byte');
  assert.equal(statSync(bundle).mode & 0o777, 0o755);
});

test('the tar root is make-system-tarball\'s of the kexec script: /kexec_nixos, its closure, a registration Nix agrees with', async () => {
  assert.deepEqual(readdirSync(root).sort(), ['kexec_nixos', 'nix', 'nix-path-registration']);
  const script = storePath('-kexec-nixos');
  assert.equal(readlinkSync(join(root, 'kexec_nixos')), script.slice(root.length));
  assert.equal(statSync(script).mode & 0o777, 0o555);
  const text = readFileSync(script, 'utf8');
  assert.match(text, /^#!\/nix\/store\/[0-9a-z]{32}-bash-[^/]+\/bin\/bash\n/);
  assert.match(text, /kexec -l \/nix\/store\/[0-9a-z]{32}-image\/kernel --initrd=final\.gz --append="init=\/nix\/store\/[^/]+\/init [^"]*console=ttyS0,115200 panic=30 boot\.panic_on_fail/);
  // Every path's NAR hash and size are what Nix computes for the extracted tree, the
  // written image and script included; every tool's record is the store's own.
  const registrations = parseRegistration(readFileSync(join(root, 'nix-path-registration'), 'utf8'), 'the tarball');
  assert.deepEqual(registrations.map((r) => r.path.slice('/nix/store/'.length)).sort(), storeEntries());
  for (const r of registrations) {
    const local = join(root, r.path);
    const hash = runOk('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', '--type', 'sha256', '--base16', local]).stdout.trim();
    assert.equal(r.narHash, `sha256:${hash}`, r.path);
    assert.equal(r.narSize, Number(runOk('bash', ['-c', 'nix-store --dump "$1" | wc -c', '-', local]).stdout.trim()), r.path);
  }
  const scriptRecord = registrations.find((r) => r.path.endsWith('-kexec-nixos'))!;
  assert.deepEqual(scriptRecord.references.map((p) => p.replace(/^\/nix\/store\/[0-9a-z]{32}-/, '')).sort().map((n) => n.replace(/-[0-9].*$/, '')), ['bash', 'cpio', 'image', 'kexec-tools']);
  assert.deepEqual(registrations.find((r) => r.path.endsWith('-image'))!.references, []);
  // The tools are copied from the store unchanged.
  for (const r of registrations.filter((r) => !/-(image|kexec-nixos)$/.test(r.path))) {
    assert.deepEqual(snapshotTree(join(root, r.path)), snapshotTree(r.path), r.path);
  }
  // The toplevel is not in the tarball (kexec.nix discards its context), only in the initrd.
  assert.ok(!storeEntries().some((n) => n.includes('nixos-system-')));
  assert.ok(toplevel().includes(`nixos-system-${GUEST}-kexec-25.05pre-example`), 'netboot.nix tags the label "kexec"');
});

test('the uncompressed tarball is byte for byte what GNU tar writes for its extracted tree with make-system-tarball\'s flags', () => {
  const dir = join(work.path, 'gnu');
  mkdirSync(join(dir, 'root'), { recursive: true });
  const ours = join(dir, 'ours.tar');
  writeFileSync(ours, runOk('xz', ['-dc', tarball]).stdout, 'latin1');
  runOk('tar', ['-xpf', ours, '-C', join(dir, 'root')]);
  runOk('bash', ['-c', 'cd root && tar --sort=name --format=gnu --mtime=@1 --owner=0 --group=0 --numeric-owner -cf ../theirs.tar *'], { cwd: dir });
  assert.ok(readFileSync(ours).equals(readFileSync(join(dir, 'theirs.tar'))), 'differs from GNU tar\'s archive of the same tree');
  for (const name of runOk('tar', ['-tf', ours]).stdout.split('\n').filter((n) => n !== '')) {
    assert.ok(!name.startsWith('/') && !name.split('/').includes('..'), `member "${name}"`);
  }
});

test('the image: the system\'s kernel, its initrd followed by one zstd frame of makeInitrdNG\'s cpio (the closure in its squashfs, byte for byte), and the command line', async () => {
  const image = storePath('-image');
  assert.deepEqual(readdirSync(image).sort(), ['cmdline', 'initrd', 'kernel']);
  const bootspec = JSON.parse(readFileSync(join(toplevel(), 'boot.json'), 'utf8'))['org.nixos.bootspec.v1'] as { kernel: string; initrd: string; kernelParams: string[] };
  assert.equal(readFileSync(join(image, 'cmdline'), 'utf8'), `init=${toplevel()}/init ${bootspec.kernelParams.join(' ')}\n`);
  assert.ok(readFileSync(join(image, 'kernel')).equals(readFileSync(bootspec.kernel)), 'the kernel, with no store references to nuke');
  const initrd = readFileSync(join(image, 'initrd'));
  const stage1 = readFileSync(bootspec.initrd.replace(/\/[^/]+$/, '/initrd'));
  assert.ok(initrd.subarray(0, stage1.length).equals(stage1), 'the stage-1 initrd comes first, as it is');
  const ramdisk = join(work.path, 'ramdisk.zst');
  writeFileSync(ramdisk, initrd.subarray(stage1.length));
  assert.match(runOk('zstd', ['-lv', ramdisk]).stdout, /Frames: 1\n/);
  runOk('zstd', ['-t', ramdisk]);
  const cpio = join(work.path, 'ramdisk.cpio');
  runOk('zstd', ['-dq', ramdisk, '-o', cpio]);
  const listing = runOk('bash', ['-c', 'cpio -itv --quiet < "$1"', '-', cpio]).stdout.trim().split('\n');
  const names = listing.map((line) => line.split(/\s+/).slice(8).join(' '));
  const squashfsName = names.find((n) => /^nix\/store\/[0-9a-z]{32}-squashfs\.img$/.test(n));
  assert.ok(squashfsName !== undefined, names.join('\n'));
  // netboot (25.05): the copied squashfs, an absolute link to it, and var/empty; find | sort order; owner 0, mtime 1.
  assert.deepEqual(names, ['.', 'nix', `nix-store.squashfs -> /${squashfsName}`, 'nix/store', squashfsName, 'var', 'var/empty']);
  for (const line of listing) assert.match(line, /^\S+\s+\d+ root\s+root\s+\d+ Jan  1  1970 /, line);
  assert.match(listing[4]!, /^-r--r--r-- /);
  // The squashfs holds the system's closure and its registration.
  const extracted = join(work.path, 'ramdisk');
  mkdirSync(extracted);
  runOk('bash', ['-c', 'cpio -idm --quiet < "$1"', '-', cpio], { cwd: extracted });
  const store = join(work.path, 'squashfs-root');
  runOk('unsquashfs', ['-no-xattrs', '-d', store, join(extracted, squashfsName)]);
  const closure = await queryClosure(toplevel());
  assert.deepEqual(readdirSync(store).sort(), [...closure.registrations.map((r) => r.path.slice('/nix/store/'.length)), 'nix-path-registration'].sort());
  for (const { path } of closure.registrations) assert.deepEqual(snapshotTree(join(store, path.slice('/nix/store/'.length))), snapshotTree(path), path);
});

test('QEMU boots the image\'s kernel, initrd and cmdline: the store is the overlay over the initrd\'s squashfs', async () => {
  const image = storePath('-image');
  const result = await bootKernel(join(image, 'kernel'), join(image, 'initrd'), readFileSync(join(image, 'cmdline'), 'utf8').trim());
  const marker = MARKER.exec(result.console);
  assert.ok(marker !== null, `no marker:\n${result.console.slice(-3000)}`);
  assert.deepEqual(marker.slice(1), [GUEST, 'none', 'missing', 'registration', 'overlay+squashfs']);
});

test('a running system kexecs into the new one: with the unpacked tarball\'s /kexec_nixos, and with the bundle', async () => {
  const payloads = (['kexec.tar.xz', 'kexec-bundle'] as const).map((file) => {
    const dir = join(work.path, `payload-${file}`);
    mkdirSync(dir);
    copyFileSync(file === 'kexec-bundle' ? bundle : tarball, join(dir, file));
    if (file === 'kexec-bundle') runOk('chmod', ['0755', join(dir, file)]);
    const disk = `${dir}.img`;
    runOk('mkfs.ext4', ['-q', '-L', 'kexec-payload', '-d', dir, disk, '128M']);
    return disk;
  });
  const results = await Promise.all(payloads.map((disk) => boot(hostImage, 'raw', 'bios', 300_000, ['-m', '2048', '-drive', `file=${disk},format=raw,if=virtio,snapshot=on`])));
  for (const [i, result] of results.entries()) {
    const marker = MARKER.exec(result.console);
    assert.ok(marker !== null, `payload ${i}: no marker:\n${result.console.slice(-3000)}`);
    assert.match(result.console, /kexec -e/, 'the host ran the kexec script');
    assert.deepEqual(marker.slice(1), [GUEST, 'none', 'missing', 'registration', 'overlay+squashfs'], `payload ${i}: the kexec'd system, not the host`);
  }
});

test('with boot.initrd.compressor = "gzip" the ramdisk is one gzip member after the stage-1 initrd, and it boots', async () => {
  const result = build('kexec', guestConfiguration('gzip', `boot.initrd.compressor = "gzip";\n  ${QUICK_NETBOOT_SQUASHFS}`), 'gzip');
  assert.equal(result.status, 0, result.stderr);
  const extracted = join(work.path, 'gzip-root');
  mkdirSync(extracted);
  runOk('tar', ['-xpJf', result.stdout.trim(), '-C', extracted]);
  const image = join(extracted, 'nix/store', readdirSync(join(extracted, 'nix/store')).find((n) => n.endsWith('-image'))!);
  const system = /init=(\/nix\/store\/[^/]+)\/init/.exec(readFileSync(join(image, 'cmdline'), 'utf8'))![1]!;
  const stage1 = readFileSync(join(system, 'initrd')).length;
  const ramdisk = join(work.path, 'ramdisk.gz');
  writeFileSync(ramdisk, readFileSync(join(image, 'initrd')).subarray(stage1));
  runOk('gzip', ['-t', ramdisk]);
  assert.match(runOk('bash', ['-c', 'gzip -dc "$1" | cpio -it --quiet', '-', ramdisk]).stdout, /^nix\/store\/[0-9a-z]{32}-squashfs\.img$/m);
  const booted = await bootKernel(join(image, 'kernel'), join(image, 'initrd'), readFileSync(join(image, 'cmdline'), 'utf8').trim());
  assert.deepEqual(MARKER.exec(booted.console)?.slice(1), [GUEST, 'none', 'missing', 'registration', 'overlay+squashfs'], booted.console.slice(-2000));
});

test('--run boots the kexec bundle from its kernel, initrd and command line', () => {
  const result = run('node', [CLI, '-f', 'kexec-bundle', '-c', guestConfiguration('quick', QUICK_NETBOOT_SQUASHFS), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, 'run'), '--run']);
  assert.equal(result.status, 0, result.stderr.slice(-2000));
  assert.equal(result.stdout.replace(/\r/g, '').split('\n')[0], join(work.path, 'run', 'nixos-system-x86_64-linux-kexec_bundle'));
  assert.deepEqual(MARKER.exec(result.stdout)?.slice(1), [GUEST, 'none', 'missing', 'registration', 'overlay+squashfs'], result.stdout.slice(-2000));
});

test('building again gives the same bytes', () => {
  const again = build('kexec', guestConfiguration(), 'again');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(runOk('sha256sum', [again.stdout.trim()]).stdout.split(' ')[0], runOk('sha256sum', [tarball]).stdout.split(' ')[0]);
});

test('settings the writers cannot honour, and --toplevel, are refused with one line and no output', () => {
  const cases: [string, string, RegExp][] = [
    ['compressor', 'boot.initrd.compressor = "xz";', /error: .*boot\.initrd\.compressor = "xz --check=crc32 --lzma2=dict=512KiB" is not supported by the kexec format; nixos-generate compresses the netboot ramdisk with zstd -N or gzip -N/],
    ['squashfs', 'netboot.squashfsCompression = "xz -Xbcj x86";', /error: .*netboot\.squashfsCompression = "xz -Xbcj x86" is not supported by the kexec format/],
  ];
  for (const [name, setting, message] of cases) {
    const result = build('kexec', configuration(`refuse-${name}`, `networking.hostName = "${GUEST}";\n  ${setting}`), `refuse-${name}`);
    assert.notEqual(result.status, 0, name);
    assert.match(result.stderr, message, name);
    assert.equal(result.stdout, '', name);
    assert.ok(!existsSync(join(work.path, `refuse-${name}`)) || readdirSync(join(work.path, `refuse-${name}`)).length === 0, `${name}: nothing written`);
  }
  const toplevelRun = run('node', [CLI, '--toplevel', toplevel(), '-f', 'kexec', '-o', join(work.path, 'toplevel')]);
  assert.equal(toplevelRun.status, 2);
  assert.match(toplevelRun.stderr, /^nixos-generate: error: Cannot build kexec from --toplevel: its kexec script needs kexec-tools and cpio/);
});
