/**
 * Every upstream (nixpkgs) image option that changes the produced image is either
 * honoured by the image plan the format module exports, or refused before anything is
 * built with one clear error line from nixos-generate. Each honoured case is compared
 * with the same format's plan without the setting; each refusal goes through the CLI,
 * and the same configuration without the refused setting evaluates (or builds) fine.
 */
import { diskPlan } from '../helpers/plans.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { layout } from '../../src/formats/layouts.js';
import { findFormat } from '../../src/formats/registry.js';
import { buildPlanWithNix, NIX_DIR, type EvaluateRequest } from '../../src/nix/evaluate.js';
import type { GrubPlan, ImagePlan, PartitionTablePlan } from '../../src/plan/types.js';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS } from '../helpers/example.js';
import { run, tempDir, type RunResult } from '../helpers/run.js';

const CONFIG = join(EXAMPLE_DIR, 'configuration.nix');
const workDir = tempDir('upstream-options');
after(() => workDir.remove());

// A file that amazonImage.contents can name (./motd next to the configurations).
writeFileSync(join(workDir.path, 'motd'), 'hello\n');

/** A configuration that imports the example and adds `settings` (Nix attribute definitions; `lib` is in scope). */
function configurationWith(settings: string): string {
  const path = join(workDir.path, `configuration-${createHash('sha256').update(settings).digest('hex').slice(0, 16)}.nix`);
  if (!existsSync(path)) writeFileSync(path, `{ lib, ... }: {\n  imports = [ ${CONFIG} ];\n  ${settings}\n}\n`);
  return path;
}

function request(format: string, settings: string, overrides: Partial<EvaluateRequest> = {}): EvaluateRequest {
  return {
    source: { kind: 'file', path: configurationWith(settings) },
    formatModule: join(NIX_DIR, 'formats', findFormat(format).nixModule),
    settings: { searchPath: [`nixpkgs=${EXAMPLE_NIXPKGS}`], options: [], showTrace: false, cores: undefined, system: undefined },
    diskSize: undefined,
    specialArgs: {},
    ...overrides,
  };
}

const plans = new Map<string, Promise<ImagePlan>>();

/** The plan of `format` for the example plus `settings` (evaluated once per distinct request). */
function planWith(format: string, settings = '', diskSize?: number): Promise<ImagePlan> {
  const key = JSON.stringify([format, settings, diskSize]);
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlanWithNix(request(format, settings, diskSize === undefined ? {} : { diskSize })).then(diskPlan);
    plans.set(key, plan);
  }
  return plan;
}

function grubOf(plan: ImagePlan): GrubPlan {
  const bootloader = plan.bootloader;
  assert.ok(bootloader.type === 'grub', `${plan.format} boots with GRUB`);
  return bootloader;
}

function assertUefiGrub(plan: ImagePlan): void {
  assert.deepEqual(plan.partitionTable, layout('efi'), `${plan.format}: GPT with an ESP`);
  const grub = grubOf(plan);
  assert.notEqual(grub.efi, null, `${plan.format}: GRUB for UEFI`);
  assert.equal(grub.bios, null, `${plan.format}: no GRUB for BIOS`);
}

function assertBiosGrub(plan: ImagePlan, layoutName: 'legacy' | 'legacy+gpt'): void {
  assert.deepEqual(plan.partitionTable, layout(layoutName), `${plan.format}: the ${layoutName} layout`);
  const grub = grubOf(plan);
  assert.notEqual(grub.bios, null, `${plan.format}: GRUB for BIOS`);
  assert.equal(grub.efi, null, `${plan.format}: no GRUB for UEFI`);
}

/** `table` with its root filesystem labelled `label`. */
function withRootLabel(table: PartitionTablePlan, label: string): PartitionTablePlan {
  if (table.type === 'none') return { ...table, filesystem: { ...table.filesystem, label } };
  return {
    ...table,
    partitions: table.partitions.map((p) => (p.filesystem?.contents === 'root' ? { ...p, filesystem: { ...p.filesystem, label } } : p)),
  };
}

function confLines(plan: ImagePlan): string[] {
  assert.ok(plan.output.proxmox !== undefined, 'the proxmox plan carries a qemu-server.conf');
  return plan.output.proxmox.qemuServerConf.split('\n');
}

/** The label NixOS names default images after (system.nixos.label, as the toplevel records it). */
function nixosLabel(plan: ImagePlan): string {
  return readFileSync(join(plan.toplevel, 'nixos-version'), 'utf8').trim();
}

describe('upstream image options the plan honours', { concurrency: 3 }, () => {
  test('amazon: ec2.efi gives GPT with an ESP and GRUB for UEFI only', async () => {
    const [before, efi] = await Promise.all([planWith('amazon'), planWith('amazon', 'ec2.efi = true;')]);
    assertBiosGrub(before, 'legacy+gpt');
    assertUefiGrub(efi);
  });

  test('amazon: amazonImage.format chooses the container and the extension', async () => {
    const [vpc, qcow2, raw] = await Promise.all([
      planWith('amazon'),
      planWith('amazon', 'amazonImage.format = "qcow2";'),
      planWith('amazon', 'amazonImage.format = "raw";'),
    ]);
    assert.equal(vpc.output.container, 'vhd');
    assert.deepEqual(vpc.output.vhd, { subformat: 'dynamic' });
    assert.match(vpc.output.fileName, /\.vhd$/);
    const stem = vpc.output.fileName.slice(0, -'.vhd'.length);
    assert.equal(qcow2.output.container, 'qcow2');
    assert.equal(qcow2.output.fileName, `${stem}.qcow2`);
    assert.equal(qcow2.output.vhd, undefined);
    assert.equal(raw.output.container, 'raw');
    assert.equal(raw.output.fileName, `${stem}.img`);
  });

  test('azure: vmGeneration v2 gives GPT with an ESP and GRUB for UEFI only', async () => {
    const [v1, v2] = await Promise.all([planWith('azure'), planWith('azure', 'virtualisation.azureImage.vmGeneration = "v2";')]);
    assertBiosGrub(v1, 'legacy');
    assertUefiGrub(v2);
  });

  test('azure: azureImage.label names the root filesystem', async () => {
    const [plain, labelled, labelledV2] = await Promise.all([
      planWith('azure'),
      planWith('azure', 'virtualisation.azureImage.label = "cloudroot";'),
      planWith('azure', 'virtualisation.azureImage.label = "cloudroot"; virtualisation.azureImage.vmGeneration = "v2";'),
    ]);
    assert.deepEqual(plain.partitionTable, layout('legacy'));
    assert.deepEqual(labelled.partitionTable, withRootLabel(layout('legacy'), 'cloudroot'));
    assert.deepEqual(labelledV2.partitionTable, withRootLabel(layout('efi'), 'cloudroot'));
  });

  test('gce: googleComputeImage.efi gives GPT with an ESP; compressionLevel is the gzip level', async () => {
    const [before, efi, level9] = await Promise.all([
      planWith('gce'),
      planWith('gce', 'virtualisation.googleComputeImage.efi = true;'),
      planWith('gce', 'virtualisation.googleComputeImage.compressionLevel = 9;'),
    ]);
    assertBiosGrub(before, 'legacy');
    assert.equal(before.output.compressionLevel, 6);
    assertUefiGrub(efi);
    assert.equal(level9.output.container, 'gce-tar');
    assert.equal(level9.output.compressionLevel, 9);
  });

  test('linode: linodeImage.compressionLevel is the gzip level', async () => {
    const [before, level1] = await Promise.all([planWith('linode'), planWith('linode', 'virtualisation.linodeImage.compressionLevel = 1;')]);
    assert.equal(before.output.compression, 'gzip');
    assert.equal(before.output.compressionLevel, 6);
    assert.equal(level1.output.compressionLevel, 1);
  });

  test('vmware: vmSubformat streamOptimized and baseImageSize reach the plan', async () => {
    const [before, stream, sized] = await Promise.all([
      planWith('vmware'),
      planWith('vmware', 'vmware.vmSubformat = "streamOptimized";'),
      planWith('vmware', 'vmware.baseImageSize = 4096;'),
    ]);
    assert.deepEqual(before.output.vmdk, { subformat: 'monolithicSparse' });
    assert.equal(before.diskSize, 'auto');
    assert.deepEqual(stream.output.vmdk, { subformat: 'streamOptimized' });
    assert.equal(sized.diskSize, 4096);
  });

  test('virtualbox: vmName, memorySize and baseImageFreeSpace reach the OVA plan', async () => {
    const [before, machine, space] = await Promise.all([
      planWith('virtualbox'),
      planWith('virtualbox', 'virtualbox.vmName = "my vm"; virtualbox.memorySize = 4096;'),
      planWith('virtualbox', 'virtualbox.baseImageFreeSpace = 1000;'),
    ]);
    assert.equal(before.output.virtualMachine?.memoryMiB, 1536);
    assert.equal(before.additionalSpace, 30 * 1024);
    assert.deepEqual(machine.output.virtualMachine, { name: 'my vm', memoryMiB: 4096, cpus: 1 });
    assert.equal(space.additionalSpace, 1000);
  });

  test('proxmox: qemuConf and qemuExtraConf become lines of qemu-server.conf', async () => {
    const [before, tuned] = await Promise.all([
      planWith('proxmox'),
      planWith('proxmox', 'proxmox.qemuConf.cores = 4; proxmox.qemuExtraConf = { cpu = "host"; };'),
    ]);
    assert.ok(confLines(before).includes('cores: 1'));
    assert.ok(!confLines(before).some((line) => line.startsWith('cpu:')));
    const lines = confLines(tuned);
    assert.ok(lines.includes('cores: 4'), lines.join('\n'));
    assert.ok(lines.includes('cpu: host'), lines.join('\n'));
    assert.ok(!lines.includes('cores: 1'));
  });

  test('proxmox: qemuConf.bios ovmf gives GPT with an ESP and GRUB for UEFI', async () => {
    const [before, ovmf] = await Promise.all([planWith('proxmox'), planWith('proxmox', 'proxmox.qemuConf.bios = "ovmf";')]);
    assertBiosGrub(before, 'legacy');
    assertUefiGrub(ovmf);
    assert.ok(confLines(ovmf).includes('bios: ovmf'));
  });

  test('proxmox: qemuConf.additionalSpace and filenameSuffix reach the plan', async () => {
    const [before, space, named] = await Promise.all([
      planWith('proxmox'),
      planWith('proxmox', 'proxmox.qemuConf.additionalSpace = "2G";'),
      planWith('proxmox', 'proxmox.filenameSuffix = "web";'),
    ]);
    assert.equal(before.additionalSpace, 512);
    assert.equal(space.additionalSpace, 2048);
    assert.equal(named.output.fileName, 'vzdump-qemu-web.vma.zst');
    assert.notEqual(before.output.fileName, named.output.fileName);
  });

  test('do: a gzip-compressed qcow2 named after image.baseName', async () => {
    const [plain, custom] = await Promise.all([planWith('do'), planWith('do', 'image.baseName = "custom";')]);
    assert.equal(plain.output.container, 'qcow2');
    assert.equal(plain.output.compression, 'gzip');
    assert.equal(plain.output.fileName, `nixos-image-${nixosLabel(plain)}-x86_64-linux.qcow2.gz`);
    assert.equal(custom.output.fileName, 'custom.qcow2.gz');
  });

  test('image.baseName and image.fileName name the image file', async () => {
    const [hypervBase, hypervFile, amazonBase, gceBase] = await Promise.all([
      planWith('hyperv', 'image.baseName = "custom";'),
      planWith('hyperv', 'image.fileName = "x.vhdx";'),
      planWith('amazon', 'image.baseName = "custom";'),
      planWith('gce', 'image.baseName = "custom";'),
    ]);
    assert.equal(hypervBase.output.fileName, 'custom.vhdx');
    assert.equal(hypervFile.output.fileName, 'x.vhdx');
    assert.equal(amazonBase.output.fileName, 'custom.vhd');
    assert.equal(gceBase.output.fileName, 'custom.raw.tar.gz');
  });

  test('virtualisation.diskSize: "auto" by default, a configuration\'s mkDefault wins, --disk-size wins over it', async () => {
    const [unset, userDefault, forced] = await Promise.all([
      planWith('amazon'),
      planWith('amazon', 'virtualisation.diskSize = lib.mkDefault 3000;'),
      planWith('amazon', 'virtualisation.diskSize = 3000;', 5000),
    ]);
    assert.equal(unset.diskSize, 'auto', 'amazon-image.nix\'s mkOverride 1490 4096 loses to nixos-generate\'s "auto"');
    assert.equal(userDefault.diskSize, 3000);
    assert.equal(forced.diskSize, 5000);
  });

  test('boot.loader.timeout: a configuration\'s value wins over raw\'s default; amazon\'s plain 1 takes mkForce, as in NixOS', async () => {
    const [rawDefault, raw7, amazonDefault, amazon7] = await Promise.all([
      planWith('raw'),
      planWith('raw', 'boot.loader.timeout = 7;'),
      planWith('amazon'),
      planWith('amazon', 'boot.loader.timeout = lib.mkForce 7;'),
    ]);
    assert.equal(rawDefault.bootloader.timeout, 0);
    assert.equal(raw7.bootloader.timeout, 7);
    assert.equal(amazonDefault.bootloader.timeout, 1, 'amazon-image.nix sets a 1 s menu');
    assert.equal(amazon7.bootloader.timeout, 7);
    // As in NixOS: amazon-image.nix's timeout is a plain definition, so a plain one conflicts.
    await assert.rejects(planWith('amazon', 'boot.loader.timeout = 7;'), /conflicting definition values/);
  });
});

interface RefusedCase {
  readonly format: string;
  /** The option the refusal must name. */
  readonly option: string;
  /** The refused setting. */
  readonly setting: string;
  /** Settings that go with it and are fine on their own. */
  readonly context?: string;
}

const REFUSED: readonly RefusedCase[] = [
  { format: 'amazon', option: 'amazonImage.contents', setting: 'amazonImage.contents = [ { source = ./motd; target = "/etc/motd"; } ];' },
  { format: 'azure', option: 'virtualisation.azureImage.bootSize', setting: 'virtualisation.azureImage.bootSize = 512;', context: 'virtualisation.azureImage.vmGeneration = "v2";' },
  { format: 'azure', option: 'virtualisation.azureImage.contents', setting: 'virtualisation.azureImage.contents = [ { source = ./motd; target = "/etc/motd"; } ];' },
  { format: 'do', option: 'virtualisation.digitalOceanImage.compressionMethod', setting: 'virtualisation.digitalOceanImage.compressionMethod = "bzip2";' },
  { format: 'do', option: 'virtualisation.digitalOceanImage.configFile', setting: 'virtualisation.digitalOceanImage.configFile = ./motd;' },
  { format: 'gce', option: 'virtualisation.googleComputeImage.configFile', setting: 'virtualisation.googleComputeImage.configFile = "/x.nix";' },
  { format: 'gce', option: 'virtualisation.googleComputeImage.contents', setting: 'virtualisation.googleComputeImage.contents = [ { source = ./motd; target = "/etc/motd"; } ];' },
  { format: 'linode', option: 'virtualisation.linodeImage.configFile', setting: 'virtualisation.linodeImage.configFile = "/x.nix";' },
  { format: 'openstack', option: 'openstack.efi', setting: 'openstack.efi = true;' },
  { format: 'vmware', option: 'vmware.vmSubformat', setting: 'vmware.vmSubformat = "monolithicFlat";' },
  { format: 'vmware', option: 'vmware.vmCompat6', setting: 'vmware.vmCompat6 = true;' },
  { format: 'virtualbox', option: 'virtualbox.extraDisk', setting: 'virtualbox.extraDisk = { size = 100; mountPoint = "/data"; };' },
  { format: 'virtualbox', option: 'virtualbox.postExportCommands', setting: 'virtualbox.postExportCommands = "true";' },
  { format: 'virtualbox', option: 'virtualbox.exportParams', setting: 'virtualbox.exportParams = [ "--vsys" "0" "--vendor" "ACME" ];' },
  { format: 'virtualbox', option: 'virtualbox.storageController', setting: 'virtualbox.storageController.portcount = 8;' },
  { format: 'virtualbox', option: 'virtualbox.params.cpus', setting: 'virtualbox.params.cpus = 2;' },
  { format: 'vagrant-virtualbox', option: 'virtualbox.params.nictype1', setting: 'virtualbox.params.nictype1 = "82540EM";' },
  { format: 'proxmox', option: 'proxmox.qemuConf.bootSize', setting: 'proxmox.qemuConf.bootSize = "512M";', context: 'proxmox.qemuConf.bios = "ovmf";' },
  { format: 'proxmox', option: 'proxmox.qemuConf.additionalSpace', setting: 'proxmox.qemuConf.additionalSpace = "1.5G";' },
  { format: 'raw', option: 'boot.loader.systemd-boot.enable', setting: 'boot.loader.systemd-boot.enable = true;' },
  { format: 'qcow-efi', option: 'boot.loader.grub.memtest86.enable', setting: 'boot.loader.grub.memtest86.enable = true;' },
];

/** Runs nixos-generate on the example plus `settings`, writing into a fresh directory. */
function generate(format: string, settings: string): { result: RunResult; outDir: string } {
  const outDir = join(workDir.path, `out-${format}-${createHash('sha256').update(settings).digest('hex').slice(0, 16)}`);
  const result = run('node', [CLI, '-c', configurationWith(settings), '-f', format, '-o', outDir, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`]);
  return { result, outDir };
}

/** Fails unless the run was refused before building, with one error line naming the option and the format. */
function assertRefused(format: string, option: string, { result, outDir }: { result: RunResult; outDir: string }): void {
  assert.equal(result.status, 1, `exit status 1\n${result.stderr}`);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('nixos-generate: error:'));
  assert.equal(errors.length, 1, `one error line\n${result.stderr}`);
  const line = errors[0]!;
  assert.ok(line.includes('Cannot build the image:'), line);
  assert.ok(line.includes(`${option} = `), `the line names ${option}: ${line}`);
  assert.ok(line.includes(`is not supported by the ${format} format`), line);
  assert.equal(result.stdout, '', 'no image path printed');
  assert.doesNotMatch(result.stderr, /^nixos-generate: (reading the closure|building )/m, 'refused before the image build started');
  const written = existsSync(outDir) ? readdirSync(outDir) : [];
  assert.deepEqual(written, [], 'nothing written to the output directory');
}

describe('upstream image options the plan refuses before building', () => {
  for (const c of REFUSED) {
    test(`${c.format}: ${c.setting}${c.context === undefined ? '' : ` (with ${c.context})`}`, async () => {
      const settings = c.context === undefined ? c.setting : `${c.context} ${c.setting}`;
      assertRefused(c.format, c.option, generate(c.format, settings));
      // Without the refused setting the same configuration evaluates to a plan.
      const plan = await planWith(c.format, c.context ?? '');
      assert.equal(plan.format, c.format);
    });
  }

  test('negative control: without the refused setting the same run builds an image, and the refusal check fails', () => {
    const built = generate('raw', '');
    assert.equal(built.result.status, 0, built.result.stderr);
    assert.deepEqual(readdirSync(built.outDir).sort(), ['SHA256SUMS', 'nixos.img']);
    assert.throws(() => assertRefused('raw', 'boot.loader.systemd-boot.enable', built), assert.AssertionError);
  });
});
