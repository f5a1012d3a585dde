/**
 * The container formats end to end: docker, lxc, lxc-metadata and proxmox-lxc from the
 * example configuration evaluated with the stand-in's nixpkgs modules, written natively,
 * checked by xz and GNU tar (the uncompressed archive is byte for byte what GNU tar
 * writes for the extracted tree with make-system-tarball's flags), and started in the
 * runtimes they are made for: podman runs the docker tarball's /init, Debian's LXC
 * starts the lxc and proxmox-lxc root tarballs; both reach the example system's marker.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryClosure } from '../../src/nix/closure.js';
import { formatRegistration } from '../../src/nix/registration.js';
import { CLI, EXAMPLE_DIR, EXAMPLE_NIXPKGS } from '../helpers/example.js';
import { MARKER } from '../helpers/qemu.js';
import { run, runOk, tempDir } from '../helpers/run.js';
import { snapshotTree } from '../helpers/tree.js';

const HOST = 'container-test';
const FORMATS = ['docker', 'lxc', 'lxc-metadata', 'proxmox-lxc'] as const;
const work = tempDir('containers');
after(() => work.remove());

function configuration(name: string, extra: string): string {
  const path = join(work.path, `${name}.nix`);
  writeFileSync(join(work.path, 'hostname.tpl'), '{{ container.name }}\n');
  writeFileSync(path, `{ lib, pkgs, modulesPath, ... }: {
  imports = [ ${join(EXAMPLE_DIR, 'configuration.nix')} ];
  networking.hostName = "${HOST}";
  ${extra}
}
`);
  return path;
}

function build(formats: string, config: string, out: string, extra: readonly string[] = []): ReturnType<typeof run> {
  return run('node', [CLI, '-f', formats, '-c', config, '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, out), ...extra]);
}

const built = new Map<string, string>();
before(() => {
  const result = build(FORMATS.join(','), configuration('containers', ''), 'out');
  assert.equal(result.status, 0, result.stderr);
  const paths = result.stdout.trim().split('\n');
  FORMATS.forEach((format, i) => built.set(format, paths[i]!));
});

const tarball = (format: string): string => built.get(format)!;
/** The system a tarball's /sbin/init starts. */
const systemOf = (format: string): string =>
  /\/nix\/store\/[0-9a-z]{32}-nixos-system-container-test-[^/\s"]+/.exec(runOk('tar', ['-xOJf', tarball(format), 'sbin/init']).stdout)![0];

/** The archive's members as GNU tar lists them: name -> "mode owner size date time". */
function members(path: string): Map<string, string> {
  const listed = new Map<string, string>();
  for (const line of runOk('tar', ['--numeric-owner', '-tvJf', path]).stdout.split('\n')) {
    const match = /^(\S+) (\S+)\s+(\d+) (\S+ \S+) (.*?)(?: -> .*| link to .*)?$/.exec(line);
    if (match !== null) listed.set(match[5]!.replace(/\/$/, ''), `${match[1]} ${match[2]} ${match[4]}`);
  }
  return listed;
}

test('file names as nixpkgs 25.05 names them, beside SHA256SUMS; xz -t and xz -l: one stream of CRC32-checked blocks', () => {
  assert.match(tarball('docker'), /\/out\/docker\/tarball\/nixos-system-x86_64-linux\.tar\.xz$/);
  assert.match(tarball('lxc'), /\/out\/lxc\/tarball\/nixos-image-lxc-25\.05pre-example-x86_64-linux\.tar\.xz$/);
  assert.match(tarball('lxc-metadata'), /\/out\/lxc-metadata\/tarball\/nixos-image-lxc-25\.05pre-example-x86_64-linux\.tar\.xz$/);
  assert.match(tarball('proxmox-lxc'), /\/out\/proxmox-lxc\/tarball\/nixos-image-lxc-proxmox-25\.05pre-example-x86_64-linux\.tar\.xz$/);
  for (const format of FORMATS) {
    runOk('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work.path, 'out', format) });
    runOk('xz', ['-t', tarball(format)]);
    const listed = runOk('xz', ['-lv', tarball(format)]).stdout;
    assert.match(listed, /Streams:\s+1\n/, format);
    assert.match(listed, /Check:\s+CRC32\n/, format);
  }
});

test('the tar roots are make-system-tarball\'s: contents, extra commands, nix/store, the registration; owner 0:0, mtime 1', async () => {
  const docker = members(tarball('docker'));
  for (const name of ['init', 'activate', 'nixos-version', 'dev', 'etc', 'proc', 'sys', 'nix', 'nix/store', 'nix-path-registration']) assert.ok(docker.has(name), `docker: ${name}`);
  assert.match(docker.get('etc')!, /^drwxr-xr-x /, 'docker: "rm etc" then "mkdir -p etc": an empty directory, not the toplevel\'s etc link');
  assert.ok([...docker.keys()].some((n) => /^nix\/store\/[0-9a-z]{32}-stdenv-linux$/.test(n)), 'docker: stdenv is in the store, as docker-container.nix asks');
  const lxc = members(tarball('lxc'));
  const lxcTop = [...lxc.keys()].filter((n) => !n.includes('/')).sort();
  assert.deepEqual(lxcTop, ['dev', 'etc', 'nix', 'nix-path-registration', 'proc', 'sbin', 'sys']);
  assert.match(lxc.get('sbin/init')!, /^-r-xr-xr-x /, 'the system\'s init, copied');
  assert.match(lxc.get('etc/os-release')!, /^lrwxrwxrwx /, 'cp -a keeps /etc/os-release a symlink');
  const proxmox = members(tarball('proxmox-lxc'));
  assert.deepEqual([...proxmox.keys()].filter((n) => !n.includes('/')).sort(), ['etc', 'nix', 'nix-path-registration', 'root', 'sbin']);
  assert.ok(proxmox.has('etc/systemd/network'));
  for (const [format, listed] of [['docker', docker], ['lxc', lxc], ['proxmox-lxc', proxmox]] as const) {
    for (const [name, line] of listed) assert.match(line, /^\S+ 0\/0 1970-01-01 00:00$/, `${format}: ${name}: ${line}`);
  }
  // The registration is the closure's, as closureInfo writes it.
  const extracted = join(work.path, 'lxc-root');
  mkdirSync(extracted);
  runOk('tar', ['-xpJf', tarball('lxc'), '-C', extracted]);
  const init = readFileSync(join(extracted, 'sbin/init'), 'utf8');
  const toplevel = /\/nix\/store\/[0-9a-z]{32}-nixos-system-container-test-[^/\s"]+/.exec(init)?.[0];
  assert.ok(toplevel !== undefined, 'sbin/init names the system');
  const closure = await queryClosure(toplevel);
  assert.equal(readFileSync(join(extracted, 'nix-path-registration'), 'utf8'), formatRegistration(closure.registrations));
  const names = closure.registrations.map((r) => r.path.slice('/nix/store/'.length)).sort();
  assert.deepEqual(readdirSync(join(extracted, 'nix/store')).sort(), names);
  // Contents, link targets and modes (no bit the store does not have) as in the store.
  for (const name of names) assert.deepEqual(snapshotTree(join(extracted, 'nix/store', name)), snapshotTree(join('/nix/store', name)), name);
  // No member leaves the root it is extracted into.
  for (const format of FORMATS) {
    for (const name of runOk('tar', ['-tJf', tarball(format)]).stdout.split('\n').filter((n) => n !== '')) {
      assert.ok(!name.startsWith('/') && !name.split('/').includes('..'), `${format}: member "${name}"`);
    }
  }
});

test('each archive is byte for byte what GNU tar writes for its extracted tree with make-system-tarball\'s flags', () => {
  for (const format of FORMATS) {
    const dir = join(work.path, `gnu-${format}`);
    mkdirSync(join(dir, 'root'), { recursive: true });
    const ours = join(dir, 'ours.tar');
    writeFileSync(ours, runOk('xz', ['-dc', tarball(format)]).stdout, 'latin1');
    runOk('tar', ['-xpf', ours, '-C', join(dir, 'root')]);
    const theirs = join(dir, 'theirs.tar');
    runOk('bash', ['-c', `cd root && tar --sort=name --format=gnu --mtime=@1 --owner=0 --group=0 --numeric-owner -cf ../theirs.tar *`], { cwd: dir });
    assert.ok(readFileSync(ours).equals(readFileSync(theirs)), `${format}: differs from GNU tar's archive of the same tree`);
  }
});

test('lxc-metadata: metadata.yaml has the fields Incus requires, and each enabled template is in templates/', () => {
  const config = configuration('templates', `virtualisation.lxc.templates.hostname = {
    enable = true;
    target = "/etc/hostname";
    template = ${join(work.path, 'hostname.tpl')};
    when = [ "create" "copy" ];
  };`);
  const result = build('lxc-metadata', config, 'templates');
  assert.equal(result.status, 0, result.stderr);
  const path = result.stdout.trim();
  for (const [file, expected] of [[tarball('lxc-metadata'), {}], [path, { '/etc/hostname': { properties: {}, template: 'hostname.tpl', when: ['create', 'copy'] } }]] as const) {
    const metadata = JSON.parse(runOk('tar', ['-xOJf', file, 'metadata.yaml']).stdout) as Record<string, unknown>;
    assert.equal(metadata['architecture'], 'x86_64');
    assert.equal(metadata['creation_date'], 1);
    assert.deepEqual(metadata['properties'], { description: 'NixOS Example lxc-25.05pre-example x86_64-linux', os: 'nixos', release: 'Example' });
    assert.deepEqual(metadata['templates'], expected);
  }
  assert.equal(runOk('tar', ['-xOJf', path, 'templates/hostname.tpl']).stdout, '{{ container.name }}\n');
  assert.equal(runOk('tar', ['-xOJf', path, 'nix-path-registration']).stdout, '', 'no store contents: an empty registration');
});

test('podman imports the docker tarball and runs the system\'s /init to its marker', () => {
  const image = `localhost/ngts-docker-test:${process.pid}`;
  runOk('podman', ['import', tarball('docker'), image]);
  try {
    const result = run('timeout', ['300', 'podman', 'run', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none', image, '/init']);
    const marker = MARKER.exec(result.stdout);
    assert.ok(marker !== null, `no marker:\n${result.stdout}\n${result.stderr}`);
    assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'root']);
  } finally {
    run('podman', ['rmi', '-f', image]);
  }
});

for (const format of ['lxc', 'proxmox-lxc'] as const) {
  test(`Debian's LXC creates a container from the ${format} root tarball (lxc-create -t local) and starts its /sbin/init to the marker`, () => {
    const dir = join(work.path, `lxc-run-${format}`);
    mkdirSync(join(dir, 'meta'), { recursive: true });
    // LXC's own metadata: the configuration lxc-create -t local requires (NixOS's metadata tarball is for Incus).
    writeFileSync(join(dir, 'meta', 'config'), 'lxc.include = LXC_TEMPLATE_CONFIG/common.conf\nlxc.arch = x86_64\n');
    runOk('tar', ['-cJf', join(dir, 'meta.tar.xz'), '-C', join(dir, 'meta'), 'config']);
    writeFileSync(join(dir, 'default.conf'), 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n');
    const name = `ngts-${format}-${process.pid}`;
    try {
      runOk('lxc-create', ['-n', name, '-f', join(dir, 'default.conf'), '-t', 'local', '--', '--metadata', join(dir, 'meta.tar.xz'), '--fstree', tarball(format)]);
      const log = join(dir, 'console.log');
      const started = run('timeout', ['300', 'lxc-start', '-n', name, '-F', '-L', log]);
      const console = existsSync(log) ? readFileSync(log, 'latin1') : '';
      const marker = MARKER.exec(console);
      assert.ok(marker !== null, `no marker:\n${console}\n${started.stderr}`);
      assert.deepEqual(marker.slice(1), [HOST, 'none', 'missing', 'registration', 'root']);
    } finally {
      run('lxc-destroy', ['-n', name, '-f']);
    }
  });
}

test('--toplevel gives the same lxc and proxmox-lxc tarballs as the configuration, byte for byte', () => {
  for (const format of ['lxc', 'proxmox-lxc'] as const) {
    const system = systemOf(format);
    const result = run('node', [CLI, '--toplevel', system, '-f', format, '-o', join(work.path, `toplevel-${format}`)]);
    assert.equal(result.status, 0, result.stderr);
    // The file is named from the system's own label, which carries the format's tags.
    assert.match(result.stdout, new RegExp(`/tarball/nixos-image-${format === 'lxc' ? 'lxc' : 'lxc-proxmox'}-25\\.05pre-example-x86_64-linux\\.tar\\.xz\n$`));
    assert.equal(runOk('sha256sum', [result.stdout.trim()]).stdout.split(' ')[0], runOk('sha256sum', [tarball(format)]).stdout.split(' ')[0], format);
  }
});

test('building the docker tarball again gives the same bytes', () => {
  const again = build('docker', configuration('containers', ''), 'again');
  assert.equal(again.status, 0, again.stderr);
  assert.equal(runOk('sha256sum', [again.stdout.trim()]).stdout.split(' ')[0], runOk('sha256sum', [tarball('docker')]).stdout.split(' ')[0]);
});

test('bad settings stop the build with one line and leave nothing at the output path', () => {
  const cases = [
    ['commands', 'lxc', `system.build.tarball = lib.mkForce (pkgs.callPackage "\${modulesPath}/../lib/make-system-tarball.nix" { contents = [ ]; extraCommands = "chmod 700 root"; });`,
      /system\.build\.tarball\.extraCommands = "chmod 700 root" is not supported by the lxc format/],
    ['args', 'proxmox-lxc', `system.build.tarball = lib.mkForce (pkgs.callPackage "\${modulesPath}/../lib/make-system-tarball.nix" { contents = [ ]; extraArgs = "--xattrs"; });`,
      /system\.build\.tarball\.extraArgs = "--xattrs" is not supported by the proxmox-lxc format/],
  ] as const;
  for (const [name, format, setting, message] of cases) {
    const result = build(format, configuration(name, setting), name);
    assert.notEqual(result.status, 0, name);
    assert.match(result.stderr, message, name);
    assert.equal(result.stderr.trim().split('\n').filter((l) => l.startsWith('nixos-generate: error')).length, 1, name);
    assert.ok(!existsSync(join(work.path, name, 'tarball')), `${name}: nothing written`);
  }
  const sized = build('docker', configuration('sized', ''), 'sized', ['--disk-size', '2048']);
  assert.notEqual(sized.status, 0);
  assert.match(sized.stderr, /virtualisation\.diskSize = 2048 is not supported by the docker format/);
  const metadata = build('lxc-metadata', configuration('metadata-run', ''), 'metadata-run', ['--run']);
  assert.equal(metadata.status, 2);
  assert.match(metadata.stderr, /Option --run cannot start lxc-metadata: it is not a root filesystem a container runs/);
  assert.ok(!existsSync(join(work.path, 'metadata-run')), 'refused before building');
});

test('--run starts the docker tarball in podman (the options after -- are podman\'s) and removes the image it imported', () => {
  const images = (): string => runOk('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout;
  const running = build('docker', configuration('running', ''), 'running',
    ['--run', '--', '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none']);
  // The example system ends with poweroff -f, which a container may not do: the status is its init's.
  assert.match(running.stderr, /built docker in/);
  const marker = MARKER.exec(running.stdout);
  assert.ok(marker !== null, running.stdout);
  assert.equal(marker[1], 'container-test');
  assert.doesNotMatch(images(), /nixos-generate-run/);
});

test('--run of a container tarball without podman is one line saying how to run it instead, after the tarball is written', () => {
  // A PATH with Nix's tools but no podman.
  const bin = join(work.path, 'no-podman-bin');
  mkdirSync(bin);
  for (const tool of ['nix-store', 'nix-build', 'nix-instantiate']) symlinkSync(runOk('sh', ['-c', `command -v ${tool}`]).stdout.trim(), join(bin, tool));
  const out = join(work.path, 'no-podman');
  // The container system of this file's builds: its closure is already built, and smaller than a disk system's.
  const result = run(process.execPath, [CLI, '--toplevel', systemOf('lxc'), '-f', 'docker', '-o', out, '--run'], { env: { ...process.env, PATH: bin } });
  assert.equal(result.status, 1, result.stderr);
  const errors = result.stderr.split('\n').filter((l) => l.startsWith('nixos-generate: error'));
  assert.deepEqual(errors, ['nixos-generate: error: Cannot start the container: podman was not found; install podman (Debian: apt-get install podman), or import the tarball into your runtime as docs/importing.md shows']);
  runOk('xz', ['-t', result.stdout.trim()]);
});

test('the bundled configuration, which names no root filesystem, builds as a container (no stage 1, no root filesystem assertion, as in NixOS)', () => {
  const result = run('node', [CLI, '-f', 'lxc', '-I', `nixpkgs=${EXAMPLE_NIXPKGS}`, '-o', join(work.path, 'bundled')]);
  assert.equal(result.status, 0, result.stderr);
  runOk('xz', ['-t', result.stdout.trim()]);
});
