/**
 * The iso format end to end: the example configuration evaluated with nixpkgs'
 * iso-image.nix (the stand-in's), written natively, checked by xorriso, isoinfo, fdisk,
 * sgdisk and unsquashfs (the squashfs extracted and compared with the closure byte for
 * byte), booted under SeaBIOS and OVMF as a CD and as a USB stick, and built twice; extra
 * storeContents; and install-iso and install-iso-hyperv, nixos-generators' installation ISOs.
 * Tests whose subject is not the squashfs compressor use a quick level (QUICK_ISO_SQUASHFS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { queryClosure } from '../../src/nix/closure.js';
import { formatRegistration } from '../../src/nix/registration.js';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS, QUICK_ISO_SQUASHFS, REPO, exampleConfiguration } from '../helpers/example.js';
import { boot, MARKER } from '../helpers/qemu.js';
import { run, runInterrupted, runOk, tempDir } from '../helpers/run.js';

const HOST = 'live-test';
const VOLUME_ID = 'nixos-25.05-x86_64';
const work = tempDir('iso');
after(() => work.remove());

function configuration(name: string, extra: string): string {
  // The menus wait 10 s by default (iso-image.nix); the boot tests need not.
  return exampleConfiguration(work.path, name, HOST, `boot.loader.timeout = lib.mkForce 1;\n  ${extra}`);
}

function buildIso(config: string, out: string): ReturnType<typeof run> {
  return run('node', [CLI, '-f', 'iso', '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out)]);
}

let iso = '';
before(() => {
  const result = buildIso(configuration('live', ''), 'out');
  assert.equal(result.status, 0, result.stderr);
  iso = result.stdout.trim();
});

test('the ISO is iso/<image.baseName>.iso, beside its SHA256SUMS', () => {
  assert.match(iso, /\/out\/iso\/nixos-25\.05pre-example-x86_64-linux\.iso$/);
  runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work.path, 'out') });
});

test('xorriso sees the El Torito entries of nixpkgs\' layout and the isohybrid MBR and GPT', () => {
  const torito = runOk('xorriso', ['-indev', iso, '-report_el_torito', 'plain']).stdout;
  assert.match(torito, /El Torito cat path : \/\.boot\.cat/);
  assert.match(torito, /El Torito boot img :\s+1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s/);
  assert.match(torito, /El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin/);
  assert.match(torito, /El Torito img opts :\s+1\s+boot-info-table/);
  assert.match(torito, /El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
  assert.match(torito, /El Torito img path :\s+2\s+\/boot\/efi\.img/);
  const area = runOk('xorriso', ['-indev', iso, '-report_system_area', 'plain']).stdout;
  assert.match(area, /System area summary: MBR isohybrid cyl-align-on GPT/);
  assert.match(area, /GPT partname local :\s+2\s+ISOHybrid1/);
  const info = runOk('isoinfo', ['-d', '-i', iso]).stdout;
  assert.match(info, new RegExp(`Volume id: ${VOLUME_ID}\\n`));
  assert.match(info, /Rock Ridge signatures version 1 found/);
  assert.match(info, /Joliet with UCS level 3 found/);
  const fdisk = runOk('fdisk', ['-l', iso]).stdout;
  assert.match(fdisk, /EFI \(FAT-12\/16\/32\)/);
  // sgdisk reports what it reports for every xorriso isohybrid with a GPT: the MBR's
  // partitions overlap, and the GPT's table lies inside partition 1 (64 blocks).
  const verify = run('sgdisk', ['-v', iso]).stdout;
  assert.match(verify, /MBR partitions 1 and 2 overlap/);
  assert.match(verify, /Main partition table overlaps the first partition by 64 blocks/);
});

test('the tree holds the boot files where nixpkgs puts them, and menus generated from the bootspec', () => {
  const listing = runOk('isoinfo', ['-R', '-f', '-i', iso]).stdout.split('\n');
  for (const path of ['/version.txt', '/isolinux/isolinux.bin', '/isolinux/ldlinux.c32', '/isolinux/isolinux.cfg', '/EFI/BOOT/BOOTX64.EFI', '/EFI/BOOT/grub.cfg', '/EFI/nixos-installer-image', '/boot/efi.img', '/boot/grub/loopback.cfg', '/nix-store.squashfs']) {
    assert.ok(listing.includes(path), `${path} is on the ISO`);
  }
  assert.ok(listing.some((p) => /^\/boot\/nix\/store\/[0-9a-z]{32}-linux-[^/]+\/bzImage$/.test(p)), 'the kernel under /boot/<store path>/');
  runOk('osirrox', ['-indev', iso, '-extract', '/isolinux/isolinux.cfg', join(work.path, 'isolinux.cfg')]);
  const isolinux = readFileSync(join(work.path, 'isolinux.cfg'), 'utf8');
  assert.match(isolinux, /^TIMEOUT 10$/m);
  assert.doesNotMatch(isolinux, /memtest/i, 'no Memtest86+ without boot.loader.grub.memtest86.enable');
  assert.match(isolinux, /^MENU LABEL NixOS 25\.05pre-example Installer$/m);
  assert.match(isolinux, /^LINUX \/boot\/\/nix\/store\/[0-9a-z]{32}-linux-[^/]+\/bzImage$/m);
  assert.match(isolinux, new RegExp(`^APPEND init=/nix/store/[0-9a-z]{32}-nixos-system-${HOST}-[^ ]+/init .*root=LABEL=${VOLUME_ID} boot\\.shell_on_fail( |$)`, 'm'));
});

test('the squashfs holds the closure byte for byte and its registration, as make-squashfs lays it out', async () => {
  const squashfs = join(work.path, 'store.squashfs');
  runOk('osirrox', ['-indev', iso, '-extract', '/nix-store.squashfs', squashfs]);
  const superblock = runOk('unsquashfs', ['-s', squashfs]).stdout;
  assert.match(superblock, /Compression zstd/);
  assert.match(superblock, /Block size 1048576/);
  const extracted = join(work.path, 'store');
  runOk('unsquashfs', ['-q', '-no-xattrs', '-d', extracted, squashfs]);
  const toplevel = /init=(\/nix\/store\/[^ ]+)\/init/.exec(readFileSync(join(work.path, 'isolinux.cfg'), 'utf8'))![1]!;
  const closure = await queryClosure(toplevel);
  const names = closure.registrations.map((r) => r.path.slice('/nix/store/'.length)).sort();
  assert.deepEqual(readdirSync(extracted).sort(), [...names, 'nix-path-registration'].sort());
  for (const name of names) {
    const diff = run('diff', ['-r', '--no-dereference', join('/nix/store', name), join(extracted, name)]);
    assert.equal(diff.status, 0, `${name} differs:\n${diff.stdout.slice(0, 2000)}`);
  }
  assert.equal(readFileSync(join(extracted, 'nix-path-registration'), 'utf8'), formatRegistration(closure.registrations));
});

const BOOTS = [
  ['a CD under SeaBIOS', 'cdrom', 'bios'],
  ['a CD under OVMF', 'cdrom', 'uefi'],
  ['a USB stick under SeaBIOS', 'usb', 'bios'],
  ['a USB stick under OVMF', 'usb', 'uefi'],
] as const;

for (const [what, drive, firmware] of BOOTS) {
  test(`the ISO boots as ${what} into the live system: its store an overlay over the squashfs`, async () => {
    const result = await boot(iso, drive, firmware);
    const marker = MARKER.exec(result.console);
    assert.ok(marker !== null, `no marker on the console:\n${result.console.slice(-3000)}`);
    assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
    assert.match(result.console, /stage 1: mounted \S+ \(\S+\) on \/iso/);
  });
}

test('an xz squashfs ("xz -Xdict-size 100%", nixpkgs\' default before zstd) is what mksquashfs -Xdict-size 100% describes, and the kernel boots from it', async () => {
  const result = buildIso(configuration('xz', 'isoImage.squashfsCompression = "xz -Xdict-size 100%";'), 'xz');
  assert.equal(result.status, 0, result.stderr);
  const xzIso = result.stdout.trim();
  const squashfs = join(work.path, 'xz.squashfs');
  runOk('osirrox', ['-indev', xzIso, '-extract', '/nix-store.squashfs', squashfs]);
  const superblock = runOk('unsquashfs', ['-s', squashfs]).stdout;
  assert.match(superblock, /Compression xz\n/);
  assert.match(superblock, /Block size 1048576\n/);
  assert.doesNotMatch(superblock, /Dictionary size/, '100 % of the block size is mksquashfs\'s default: no options stored');
  const booted = await boot(xzIso, 'cdrom', 'bios');
  const marker = MARKER.exec(booted.console);
  assert.ok(marker !== null, `no marker on the console:\n${booted.console.slice(-3000)}`);
  assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
});

test('isoImage.compressImage: iso/<name>.iso.zst, zstd of the same ISO (as make-iso9660-image compresses the finished file), beside its SHA256SUMS', () => {
  const plain = buildIso(configuration('quick', QUICK_ISO_SQUASHFS), 'quick');
  assert.equal(plain.status, 0, plain.stderr);
  const result = buildIso(configuration('compressed', `isoImage.compressImage = true;\n  ${QUICK_ISO_SQUASHFS}`), 'compressed');
  assert.equal(result.status, 0, result.stderr);
  const compressed = result.stdout.trim();
  assert.match(compressed, /\/compressed\/iso\/nixos-25\.05pre-example-x86_64-linux\.iso\.zst$/);
  assert.deepEqual(readdirSync(join(work.path, 'compressed', 'iso')), [basename(compressed)], 'no uncompressed ISO is left beside it');
  runOk('zstd', ['-t', '-q', compressed]);
  runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work.path, 'compressed') });
  const decompressed = join(work.path, 'decompressed.iso');
  runOk('zstd', ['-d', '-q', '-o', decompressed, compressed]);
  assert.ok(readFileSync(decompressed).equals(readFileSync(plain.stdout.trim())), 'the same ISO as without compressImage');
});

test('isoImage.storeContents and includeSystemBuildDependencies: the squashfs holds the closure of every root (a package beside the system, the system\'s .drv) and its registration', async () => {
  const result = buildIso(configuration('store-contents', `isoImage.storeContents = [ pkgs.jq ];
  isoImage.includeSystemBuildDependencies = true;
  isoImage.squashfsCompression = null;`), 'store-contents');
  assert.equal(result.status, 0, result.stderr);
  const squashfs = join(work.path, 'store-contents.squashfs');
  runOk('osirrox', ['-indev', result.stdout.trim(), '-extract', '/nix-store.squashfs', squashfs]);
  const extracted = join(work.path, 'store-contents-root');
  runOk('unsquashfs', ['-q', '-no-xattrs', '-d', extracted, squashfs]);
  const registration = readFileSync(join(extracted, 'nix-path-registration'), 'utf8');
  const names = readdirSync(extracted).filter((n) => n !== 'nix-path-registration').sort();
  const jq = names.find((n) => /^[0-9a-z]{32}-jq-/.test(n));
  const toplevel = names.find((n) => /^[0-9a-z]{32}-nixos-system-live-test-/.test(n) && !n.endsWith('.drv'));
  const drv = names.find((n) => /^[0-9a-z]{32}-nixos-system-live-test-.*\.drv$/.test(n));
  assert.ok(jq !== undefined && toplevel !== undefined && drv !== undefined, `jq, the system and its .drv are in the squashfs: ${names.join(' ')}`);
  const system = await queryClosure(`/nix/store/${toplevel}`);
  assert.ok(!system.registrations.some((r) => r.path === `/nix/store/${jq}`), 'jq is not in the system\'s own closure');
  // Exactly the closure of the three roots, each with its registration.
  const closure = await queryClosure(`/nix/store/${toplevel}`, undefined, [`/nix/store/${toplevel}`, `/nix/store/${jq}`, `/nix/store/${drv}`]);
  assert.deepEqual(names, closure.registrations.map((r) => r.path.slice('/nix/store/'.length)).sort());
  assert.equal(registration, formatRegistration(closure.registrations));
  assert.ok(names.filter((n) => n.endsWith('.drv')).length > 1, 'the .drv\'s input derivations are in its closure');
});

test('--toplevel of a system built with the iso module makes its ISO from the closure\'s syslinux and GRUB, and --run boots it as a CD', () => {
  const cfg = join(work.path, 'toplevel-isolinux.cfg');
  runOk('osirrox', ['-indev', iso, '-extract', '/isolinux/isolinux.cfg', cfg]);
  const toplevel = /init=(\/nix\/store\/[^ ]+)\/init/.exec(readFileSync(cfg, 'utf8'))?.[1];
  assert.ok(toplevel !== undefined, 'isolinux.cfg names the system');
  const result = run('node', [CLI, '--toplevel', toplevel, '-f', 'iso', '-o', join(work.path, 'from-toplevel'), '--run'], {
    env: { ...process.env, NIXOS_GENERATE_ACCEL: 'tcg' },
  });
  assert.equal(result.status, 0, result.stderr.slice(-3000));
  const marker = MARKER.exec(result.stdout);
  assert.ok(marker !== null, result.stdout.slice(-3000));
  assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
  const torito = runOk('xorriso', ['-indev', result.stdout.split('\n')[0]!, '-report_el_torito', 'plain']).stdout;
  assert.match(torito, /El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin/);
  assert.match(torito, /El Torito img path :\s+2\s+\/boot\/efi\.img/);
});

/** A value of the system's configuration with a format module, as Nix evaluates it. */
function configValue(format: string, config: string, attribute: string): unknown {
  return JSON.parse(runOk('nix-instantiate', ['--eval', '--strict', '--json', join(REPO, 'nix/eval.nix'), '-A', `config.${attribute}`,
    '--arg', 'configuration', config, '--argstr', 'formatModule', join(REPO, 'nix/formats', `${format}.nix`), '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`]).stdout);
}

test('install-iso and install-iso-hyperv: the installation CD configuration with nixos-generators\' services, and each boots', async () => {
  const config = configuration('install', QUICK_ISO_SQUASHFS);
  assert.deepEqual(configValue('install-iso', config, 'systemd.services.sshd.wantedBy'), ['multi-user.target']);
  assert.deepEqual(configValue('install-iso', config, 'systemd.services.wpa_supplicant.wantedBy'), ['multi-user.target']);
  assert.deepEqual(configValue('install-iso-hyperv', config, 'systemd.services.wpa_supplicant.wantedBy'), [], 'mkOverride 40 beats install-iso\'s mkForce');
  assert.equal(configValue('install-iso', config, 'services.getty.autologinUser'), 'nixos');
  assert.equal(configValue('iso', config, 'services.getty.autologinUser'), null, 'the plain iso has no installer profile');
  assert.equal(configValue('install-iso-hyperv', config, 'virtualisation.hypervGuest.enable'), true);
  const result = run('node', [CLI, '-f', 'install-iso,install-iso-hyperv', '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, 'install')]);
  assert.equal(result.status, 0, result.stderr);
  const [installIso, hypervIso] = result.stdout.trim().split('\n');
  assert.match(installIso!, /\/install\/install-iso\/iso\/nixos-25\.05pre-example-x86_64-linux\.iso$/);
  const cfg = join(work.path, 'hyperv-isolinux.cfg');
  runOk('osirrox', ['-indev', hypervIso!, '-extract', '/isolinux/isolinux.cfg', cfg]);
  assert.match(readFileSync(cfg, 'utf8'), /^APPEND init=.* elevator=noop( |$)/m, 'the Hyper-V guest\'s kernel parameter in the menu');
  // installation-cd-base.nix enables Memtest86+: isolinux's entry and /boot/memtest.bin, Debian's build in the stand-in.
  const installCfg = join(work.path, 'install-isolinux.cfg');
  runOk('osirrox', ['-indev', installIso!, '-extract', '/isolinux/isolinux.cfg', installCfg]);
  assert.match(readFileSync(installCfg, 'utf8'), /\nMENU END\n\nLABEL memtest\nMENU LABEL Memtest86\+\nLINUX \/boot\/memtest\.bin\nAPPEND \n/);
  const memtest = join(work.path, 'memtest.bin');
  runOk('osirrox', ['-indev', installIso!, '-extract', '/boot/memtest.bin', memtest]);
  const debian = runOk('sh', ['-c', `dpkg-deb --fsys-tarfile ${join(EXAMPLE_DIR, 'debs/memtest86plus.deb')} | tar -xO ./boot/memtest86+x64.bin | sha256sum`]).stdout.split(' ')[0];
  assert.equal(runOk('sha256sum', [memtest]).stdout.split(' ')[0], debian);
  for (const [image, firmware] of [[installIso!, 'bios'], [hypervIso!, 'uefi']] as const) {
    const booted = await boot(image, 'cdrom', firmware);
    const marker = MARKER.exec(booted.console);
    assert.ok(marker !== null, `${image}: no marker on the console:\n${booted.console.slice(-3000)}`);
    assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'overlay+squashfs']);
  }
});

test('SIGINT while the squashfs is written stops the build, exits 130 and leaves no file at the output path', async () => {
  const cfg = join(work.path, 'sigint-isolinux.cfg');
  runOk('osirrox', ['-indev', iso, '-extract', '/isolinux/isolinux.cfg', cfg]);
  const toplevel = /init=(\/nix\/store\/[^ ]+)\/init/.exec(readFileSync(cfg, 'utf8'))![1]!;
  const out = join(work.path, 'interrupted');
  const { status, stdout, stderr, signalled } = await runInterrupted('node', [CLI, '--toplevel', toplevel, '-f', 'iso', '-o', out], /write squashfs/);
  assert.ok(signalled, stderr);
  assert.equal(status, 130, stderr);
  assert.equal(stdout, '');
  assert.match(stderr, /nixos-generate: error: Build interrupted by SIGINT; no partial output was left at the output path/);
  const files = existsSync(out) ? readdirSync(out, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()) : [];
  assert.deepEqual(files.map((e) => e.name), []);
});

test('a store path of the closure that cannot be read stops the ISO with one line naming it, and no ISO is left', () => {
  // Its own payload (4 files): other test files hide the 3-file one while they run.
  const setting = `environment.systemPackages = (import ${join(EXAMPLE_DIR, 'payload.nix')} { files = 4; mebibytes = 1; } { inherit pkgs; }).environment.systemPackages;`;
  const config = configuration('unreadable', `${setting}\n  ${QUICK_ISO_SQUASHFS}`);
  const first = buildIso(config, 'unreadable');
  assert.equal(first.status, 0, first.stderr);
  const cfg = join(work.path, 'unreadable-isolinux.cfg');
  runOk('osirrox', ['-indev', first.stdout.trim(), '-extract', '/isolinux/isolinux.cfg', cfg]);
  const toplevel = /init=(\/nix\/store\/[^ ]+)\/init/.exec(readFileSync(cfg, 'utf8'))![1]!;
  const payload = runOk('nix-store', ['--query', '--requisites', toplevel]).stdout.split('\n').find((p) => /-payload-4-files-1-mib$/.test(p))!;
  const hidden = join('/nix/store', `.hidden-${basename(payload)}`);
  renameSync(payload, hidden);
  try {
    const result = buildIso(config, 'unreadable-again');
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`nixos-generate: error: Cannot read "${payload}": ENOENT; check that the store path exists and is readable`));
    assert.equal(result.stderr.split('\n').filter((l) => l.startsWith('nixos-generate: error')).length, 1);
    const dir = join(work.path, 'unreadable-again');
    assert.deepEqual(existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name) : [], []);
  } finally {
    renameSync(hidden, payload);
  }
});

/** The grub.cfg of an ISO, checked by GRUB's own grub-script-check (from the plan's GRUB). */
function checkedGrubConfig(image: string, name: string, grub: string): string {
  const cfg = join(work.path, `${name}-grub.cfg`);
  runOk('osirrox', ['-indev', image, '-extract', '/EFI/BOOT/grub.cfg', cfg]);
  runOk(join(grub, 'bin/grub-script-check'), [cfg]);
  return readFileSync(cfg, 'utf8');
}

/** The live plan's EFI GRUB package for a configuration. */
function planGrub(config: string): string {
  const planFile = runOk('nix-build', ['--no-out-link', join(REPO, 'nix/eval.nix'), '-A', 'plan', '--argstr', 'formatModule', join(REPO, 'nix/formats/iso.nix'),
    '--arg', 'configuration', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`]).stdout.trim().split('\n').at(-1)!;
  return (JSON.parse(readFileSync(planFile, 'utf8')) as { live: { efi: { grub: string } } }).live.efi.grub;
}

test('grub.cfg is iso-image.nix\'s graphical menu: gfxterm, the background image with its colours, the text-mode hotkey and unicode.pf2, in every submenu', () => {
  const grub = checkedGrubConfig(iso, 'default', planGrub(configuration('live', '')));
  assert.match(grub, /^set textmode=false$/m);
  assert.match(grub, /^set gfxmode=1920x1200,1920x1080,1366x768,1280x800,1280x720,1200x1920,1024x768,800x1280,800x600,auto$/m);
  assert.match(grub, /^if background_image \(\$root\)\/EFI\/BOOT\/efi-background\.png; then$/m);
  assert.doesNotMatch(grub, /set theme=/);
  // The menu setup opens the main menu, Options and each of its eight submenus.
  assert.equal([...grub.matchAll(/hiddenentry 'Text mode' --hotkey 't'/g)].length, 10);
  assert.ok(runOk('isoinfo', ['-R', '-f', '-i', iso]).stdout.split('\n').includes('/EFI/BOOT/unicode.pf2'));
});

test('rEFInd is beside GRUB, in /EFI/BOOT and in efi.img, from the plan\'s refind, with a GRUB entry that starts it from the FAT volume when not on a CD', () => {
  const grub = checkedGrubConfig(iso, 'refind', planGrub(configuration('live', '')));
  assert.match(grub, /^if \[ "\$root" != "cd0" \]; then\n {2}menuentry 'rEFInd' --class refind \{\n(?: {4}#.*\n)? {4}search --set=root --no-floppy --fs-uuid 1234-5678\n {4}chainloader \(\$root\)\/EFI\/BOOT\/refind_x64\.efi\n {2}\}\nfi$/m);
  assert.ok(grub.indexOf("menuentry 'rEFInd'") < grub.indexOf("menuentry 'Firmware Setup'"), 'before Firmware Setup, as iso-image.nix orders them');
  assert.ok(runOk('isoinfo', ['-R', '-f', '-i', iso]).stdout.split('\n').includes('/EFI/BOOT/refind_x64.efi'));
  const efiImage = join(work.path, 'refind-efi.img');
  runOk('osirrox', ['-indev', iso, '-extract', '/boot/efi.img', efiImage]);
  assert.deepEqual(runOk('mdir', ['-i', efiImage, '-/', '-b', '::/EFI/BOOT']).stdout.trim().split('\n').sort(),
    ['::/EFI/BOOT/BOOTX64.EFI', '::/EFI/BOOT/grub.cfg', '::/EFI/BOOT/refind_x64.efi']);
  const copy = join(work.path, 'refind_x64.efi');
  runOk('mcopy', ['-i', efiImage, '::/EFI/BOOT/refind_x64.efi', copy]);
  const refind = runOk('nix-build', ['--no-out-link', EXAMPLE_NIXPKGS, '-A', 'refind']).stdout.trim().split('\n').at(-1)!;
  assert.ok(readFileSync(copy).equals(readFileSync(join(refind, 'share/refind/refind_x64.efi'))));
  assert.match(runOk('file', [copy]).stdout, /PE32\+ executable/);
});

test('isoImage.grubTheme is copied and loaded (theme.txt, every .pf2 font, the GUI-mode hotkey); the themed ISO boots under OVMF', async () => {
  const config = configuration('themed', `
  isoImage.grubTheme = pkgs.runCommand "test-grub-theme" { } ''
    mkdir -p $out/fonts
    echo 'title-text: "themed"' > $out/theme.txt
    cp \${pkgs.grub2_efi}/share/grub/ascii.pf2 $out/fonts/Ascii.PF2
    cp \${pkgs.grub2_efi}/share/grub/euro.pf2 $out/euro.pf2
  '';
  isoImage.forceTextMode = true;
  ${QUICK_ISO_SQUASHFS}`);
  const result = buildIso(config, 'themed');
  assert.equal(result.status, 0, result.stderr);
  const themed = result.stdout.trim();
  const grub = checkedGrubConfig(themed, 'themed', planGrub(config));
  assert.match(grub, /^set textmode=true$/m);
  assert.match(grub, /^set theme=\(\$root\)\/EFI\/BOOT\/grub-theme\/theme\.txt\nloadfont \(\$root\)\/EFI\/BOOT\/grub-theme\/euro\.pf2\nloadfont \(\$root\)\/EFI\/BOOT\/grub-theme\/fonts\/Ascii\.PF2$/m);
  assert.doesNotMatch(grub, /background_image/);
  assert.equal([...grub.matchAll(/hiddenentry 'GUI mode' --hotkey 'g'/g)].length, 10);
  const listing = runOk('isoinfo', ['-R', '-f', '-i', themed]).stdout.split('\n');
  for (const path of ['/EFI/BOOT/grub-theme/theme.txt', '/EFI/BOOT/grub-theme/fonts/Ascii.PF2', '/EFI/BOOT/grub-theme/euro.pf2']) assert.ok(listing.includes(path), path);
  const booted = await boot(themed, 'cdrom', 'uefi');
  const marker = MARKER.exec(booted.console);
  assert.ok(marker !== null, booted.console.slice(-2000));
  assert.equal(marker[1], HOST);
});

test('building the ISO again gives the same bytes', () => {
  const again = buildIso(configuration('live', ''), 'again');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(runOk('sha256sum', [again.stdout.trim()]).stdout.split(' ')[0], runOk('sha256sum', [iso]).stdout.split(' ')[0]);
});

test('bad settings stop the build with one line and leave nothing at the output path', () => {
  const cases = [
    ['long-volume', 'isoImage.volumeID = "this-volume-id-is-longer-than-32-characters";', /isoImage\.volumeID this-volume-id-is-longer-than-32-characters is 43 characters/],
    ['xz-bcj', 'isoImage.squashfsCompression = "xz -Xbcj x86";', /isoImage\.squashfsCompression = "xz -Xbcj x86" is not supported by the iso format/],
    ['xz-level', 'isoImage.squashfsCompression = "xz -Xcompression-level 9";', /isoImage\.squashfsCompression = "xz -Xcompression-level 9" is not supported by the iso format/],
  ] as const;
  for (const [name, setting, message] of cases) {
    const result = buildIso(configuration(name, setting), name);
    assert.notEqual(result.status, 0, name);
    assert.match(result.stderr, message, name);
    assert.ok(!existsSync(join(work.path, name, 'iso')) || readdirSync(join(work.path, name, 'iso')).length === 0, `${name}: nothing written`);
  }
});

test('a specialisation\'s menu entries are named from its own configuration, as iso-image.nix names them', async () => {
  const { readBootspec } = await import('../../src/boot/bootspec.js');
  const { isolinuxConfig, isoGrubConfig } = await import('../../src/boot/iso-menus.js');
  const { parsePlanJson, isLivePlan } = await import('../../src/plan/index.js');
  const config = configuration('specialised', `
  specialisation.rescue.configuration = { isoImage.configurationName = "Rescue"; boot.kernelParams = [ "rescue-entry" ]; };
  specialisation.plain.configuration.boot.kernelParams = [ "plain-entry" ];
  specialisation.hidden.configuration = { isoImage.showConfiguration = false; boot.kernelParams = [ "hidden-entry" ]; };`);
  const planFile = runOk('nix-build', ['--no-out-link', join(REPO, 'nix/eval.nix'), '-A', 'plan', '--argstr', 'formatModule', join(REPO, 'nix/formats/iso.nix'),
    '--arg', 'configuration', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`]).stdout.trim().split('\n').at(-1)!;
  const plan = parsePlanJson(readFileSync(planFile, 'utf8'), planFile);
  assert.ok(isLivePlan(plan));
  const main = `NixOS ${plan.live.menu.label} Installer`;
  assert.equal(plan.live.menu.specialisations?.['rescue']?.configurationName, 'Rescue');
  const grub = isoGrubConfig(readBootspec(plan.toplevel), plan.live.menu);
  const names = [...grub.matchAll(/^menuentry '([^']*)'/gm)].map((m) => m[1]);
  // The system, then plain (its configurationName is the parent's: none) and rescue; hidden has no entry.
  assert.deepEqual(names.slice(0, 3), [main, main, `${main} Rescue`]);
  assert.doesNotMatch(grub, /hidden-entry/);
  assert.match(isolinuxConfig(readBootspec(plan.toplevel), plan.live.menu), new RegExp(`LABEL boot-rescue\\nMENU LABEL ${main} Rescue\\n`));
});
