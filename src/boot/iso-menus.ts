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
  if (menu.memtest !== null) {
    lines.push('LABEL memtest', 'MENU LABEL Memtest86+', 'LINUX /boot/memtest.bin', `APPEND ${menu.memtest.params.join(' ')}`, '');
  }
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

/** The GRUB theme an ISO carries (isoImage.grubTheme at /EFI/BOOT/grub-theme): its fonts, relative to that directory. */
export interface IsoGrubTheme {
  readonly fonts: readonly string[];
}

/** GRUB's resolutions to try, best first (iso-image.nix lists them because "auto" may pick the smallest). */
const GFX_MODES = ['1920x1200', '1920x1080', '1366x768', '1280x800', '1280x720', '1200x1920', '1024x768', '800x1280', '800x600', 'auto'];

/**
 * iso-image.nix's grubMenuCfg, repeated at the top of every (sub)menu so that each keeps
 * the graphical terminal: textmode from isoImage.forceTextMode, gfxterm unless textmode, then the theme (with its fonts) or the
 * background image with the colours that make text readable on it, and the hidden
 * hotkey entries that switch between text and graphics.
 */
function grubMenuSetup(forceTextMode: boolean, theme: IsoGrubTheme | null, indent: string): string[] {
  const themeFonts = (at: string): string[] => (theme?.fonts ?? []).map((font) => `${at}loadfont ($root)/EFI/BOOT/grub-theme/${font}`);
  const lines = [
    `set textmode=${forceTextMode}`,
    '',
    'search --set=root --file /EFI/nixos-installer-image',
    '',
    'insmod gfxterm',
    'insmod png',
    'set gfxpayload=keep',
    `set gfxmode=${GFX_MODES.join(',')}`,
    '',
    'if [ "$textmode" == "false" ]; then',
    '  terminal_output gfxterm',
    '  terminal_input  console',
    'else',
    '  terminal_output console',
    '  terminal_input  console',
    '  set menu_color_normal=cyan/blue',
    '  set menu_color_highlight=white/blue',
    'fi',
    '',
    ...(theme !== null
      ? ['set theme=($root)/EFI/BOOT/grub-theme/theme.txt', ...themeFonts('')]
      : [
        'if background_image ($root)/EFI/BOOT/efi-background.png; then',
        '  # On a background image, a black background is drawn transparent.',
        '  set color_normal=black/black',
        '  set color_highlight=white/blue',
        'else',
        '  set menu_color_normal=cyan/blue',
        '  set menu_color_highlight=white/blue',
        'fi',
      ]),
    '',
    "hiddenentry 'Text mode' --hotkey 't' {",
    '  loadfont ($root)/EFI/BOOT/unicode.pf2',
    '  set textmode=true',
    '  terminal_output console',
    '}',
    ...(theme !== null
      ? ["hiddenentry 'GUI mode' --hotkey 'g' {", ...themeFonts('  '), '  set textmode=false', '  terminal_output gfxterm', '}']
      : []),
  ];
  return lines.map((line) => (line === '' ? '' : `${indent}${line}`));
}

/**
 * /EFI/BOOT/grub.cfg (also inside /boot/efi.img), graphical unless isoImage.forceTextMode
 * or the 't' hotkey; with `refind` (its file name in /EFI/BOOT) an entry that starts it.
 */
export function isoGrubConfig(bootspec: Bootspec, menu: LiveMenuPlan, theme: IsoGrubTheme | null = null, refind: string | null = null): string {
  const entries = liveMenuEntries(bootspec, menu);
  const lines = [
    `set timeout=${menu.timeout ?? -1}`,
    '',
    'clear',
    '# Seen only on the firmware console, before gfxterm takes over.',
    'echo ""',
    'echo "Loading graphical boot menu..."',
    'echo ""',
    `echo "Press 't' to use the text boot menu on this console..."`,
    'echo ""',
    '',
    ...grubMenuSetup(menu.forceTextMode, theme, ''),
    '',
    'if [ ${iso_path} ] ; then',
    '  set isoboot="findiso=${iso_path}"',
    'fi',
    '',
    ...entries.flatMap((e) => grubEntry(e.name, e.entry, '', '')),
    '',
    'submenu "Options" --class submenu --class hidpi {',
    ...grubMenuSetup(menu.forceTextMode, theme, '  '),
  ];
  for (const option of MENU_OPTIONS) {
    lines.push(
      `  submenu "${option.title}" --class ${option.class} {`,
      ...grubMenuSetup(menu.forceTextMode, theme, '    '),
      ...entries.flatMap((e) => grubEntry(e.name, e.entry, option.params, '    ')),
      '  }',
    );
  }
  lines.push('}', '');
  if (refind !== null) {
    lines.push(
      '# Not from a CD: GRUB cannot chainload from one.',
      'if [ "$root" != "cd0" ]; then',
      "  menuentry 'rEFInd' --class refind {",
      '    # rEFInd starts from the FAT volume (efi.img or the USB stick\'s ESP).',
      '    search --set=root --no-floppy --fs-uuid 1234-5678',
      `    chainloader ($root)/EFI/BOOT/${refind}`,
      '  }',
      'fi',
    );
  }
  lines.push(
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
