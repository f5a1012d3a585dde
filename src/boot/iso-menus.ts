/**
 * The boot menus of a live ISO as nixpkgs' iso-image.nix (25.05) writes them: isolinux.cfg
 * for BIOS and grub.cfg for EFI, one entry for the system (unless showConfiguration is
 * off) and one per specialisation, then an "Options" menu with the same entries plus extra
 * kernel parameters. Kernels and initrds are read from /boot/<store path>/<file> on the ISO,
 * written with nixpkgs' "/boot/" + store path (hence the double slash it keeps).
 */
import type { LiveMenuNamePlan, LiveMenuPlan } from '../plan/types.js';
import { commandLine, type BootEntry, type Bootspec } from './bootspec.js';

/** iso-image.nix's Options variants: title, class (isolinux label suffix), extra parameters. */
export const MENU_OPTIONS: readonly { readonly title: string; readonly class: string; readonly params: string }[] = [
  { title: 'Copy ISO Files to RAM', class: 'copytoram', params: 'copytoram' },
  { title: 'No modesetting', class: 'nomodeset', params: 'nomodeset' },
  { title: 'Debug Console Output', class: 'debug', params: 'debug' },
  { title: 'Disable display-manager', class: 'quirk-disable-displaymanager', params: 'systemd.mask=display-manager.service plymouth.enable=0' },
  { title: 'Rotate framebuffer Clockwise', class: 'rotate-90cw', params: 'fbcon=rotate:1' },
  { title: 'Rotate framebuffer Upside-Down', class: 'rotate-180', params: 'fbcon=rotate:2' },
  { title: 'Rotate framebuffer Counter-Clockwise', class: 'rotate-90ccw', params: 'fbcon=rotate:3' },
  { title: 'Serial console=ttyS0,115200n8', class: 'serial', params: 'console=ttyS0,115200n8' },
];

/** Where the ISO holds a boot file: "/boot/" + its store path, as iso-image.nix's targets say. */
export function isoBootPath(storeFile: string): string {
  return `/boot/${storeFile}`;
}

interface MenuEntry {
  /** isolinux LABEL: "boot", or "boot-<specialisation>". */
  readonly label: string;
  readonly name: string;
  readonly entry: BootEntry;
}

/** iso-image.nix's menu label: "<prepend><distroName> <label><append>[ <configurationName>]". */
function entryName(names: LiveMenuNamePlan): string {
  return `${names.prepend}${names.distroName} ${names.label}${names.append}${names.configurationName === null ? '' : ` ${names.configurationName}`}`;
}

/**
 * The system's entry (unless hidden) and each specialisation's, in name order, each named
 * from its own configuration as iso-image.nix names them (with --toplevel, from the
 * system's fields and the specialisation's name).
 */
export function liveMenuEntries(bootspec: Bootspec, menu: LiveMenuPlan): MenuEntry[] {
  const entries: MenuEntry[] = [];
  if (menu.showConfiguration) entries.push({ label: 'boot', name: entryName(menu), entry: bootspec });
  for (const [specialisation, entry] of [...bootspec.specialisations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const own = menu.specialisations?.[specialisation];
    if (own !== undefined && !own.showConfiguration) continue;
    entries.push({ label: `boot-${specialisation}`, name: entryName(own ?? { ...menu, configurationName: specialisation }), entry });
  }
  return entries;
}

function isolinuxEntry(label: string, name: string, entry: BootEntry, extra: string): string[] {
  return [
    `LABEL ${label}`,
    `MENU LABEL ${name}`,
    `LINUX ${isoBootPath(entry.kernel)}`,
    `APPEND ${commandLine(entry)}${extra === '' ? '' : ` ${extra}`}`,
    ...(entry.initrd === undefined ? [] : [`INITRD ${isoBootPath(entry.initrd)}`]),
    '',
  ];
}

/** /isolinux/isolinux.cfg. The timeout is in tenths of a second; none waits (about an hour). */
export function isolinuxConfig(bootspec: Bootspec, menu: LiveMenuPlan): string {
  const entries = liveMenuEntries(bootspec, menu);
  const lines = [
    'SERIAL 0 115200',
    `TIMEOUT ${menu.timeout === null ? 35996 : menu.timeout * 10}`,
    'UI vesamenu.c32',
    'MENU BACKGROUND /isolinux/background.png',
    menu.syslinuxTheme.trimEnd(),
    '',
    `DEFAULT ${entries[0]?.label ?? 'boot'}`,
    '',
    ...entries.flatMap((e) => isolinuxEntry(e.label, e.name, e.entry, '')),
    'MENU BEGIN Options',
    '',
  ];
  for (const option of MENU_OPTIONS) {
    lines.push(`MENU BEGIN ${option.title}`, '', ...entries.flatMap((e) => isolinuxEntry(`${e.label}-${option.class}`, e.name, e.entry, option.params)), 'MENU END', '');
  }
  lines.push('MENU END', '');
  return lines.join('\n');
}

function grubEntry(name: string, entry: BootEntry, extra: string, indent: string): string[] {
  const quoted = `'${name.replace(/'/g, "'\\''")}'`;
  return [
    `${indent}menuentry ${quoted} --class installer {`,
    `${indent}  # Fallback to UEFI console for boot, efifb sometimes has difficulties.`,
    `${indent}  terminal_output console`,
    `${indent}  linux ${isoBootPath(entry.kernel)} \${isoboot} ${commandLine(entry)}${extra === '' ? '' : ` ${extra}`}`,
    ...(entry.initrd === undefined ? [] : [`${indent}  initrd ${isoBootPath(entry.initrd)}`]),
    `${indent}}`,
  ];
}

/** /EFI/BOOT/grub.cfg (also inside /boot/efi.img). Without a theme: the text menu. */
export function isoGrubConfig(bootspec: Bootspec, menu: LiveMenuPlan): string {
  const entries = liveMenuEntries(bootspec, menu);
  const lines = [
    `set timeout=${menu.timeout ?? -1}`,
    'clear',
    `set textmode=${menu.forceTextMode}`,
    'search --set=root --file /EFI/nixos-installer-image',
    'if [ ${iso_path} ] ; then',
    '  set isoboot="findiso=${iso_path}"',
    'fi',
    '',
    ...entries.flatMap((e) => grubEntry(e.name, e.entry, '', '')),
    '',
    'submenu "Options" --class submenu --class hidpi {',
  ];
  for (const option of MENU_OPTIONS) {
    lines.push(`  submenu "${option.title}" --class ${option.class} {`, ...entries.flatMap((e) => grubEntry(e.name, e.entry, option.params, '    ')), '  }');
  }
  lines.push(
    '}',
    '',
    "menuentry 'Firmware Setup' --class settings {",
    '  fwsetup',
    '  clear',
    '  echo ""',
    `  echo "If you see this message, your EFI system doesn't support this feature."`,
    '  echo ""',
    '}',
    "menuentry 'Shutdown' --class shutdown {",
    '  halt',
    '}',
    '',
  );
  return lines.join('\n');
}
