# Imitates nixos/modules/system/boot/loader/grub/memtest.nix: its options only.
# Left out: the GRUB menu entry and the copy of memtest.bin into /boot that upstream
# adds for an installed GRUB (the stand-in installs no boot loader itself); the live
# ISO's isolinux entry comes from iso-image.nix.
{ lib, ... }:
{
  options.boot.loader.grub.memtest86 = {
    enable = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether to make Memtest86+, a memory testing program, available from the boot menu.";
    };
    params = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [ "console=ttyS0,115200" ];
      description = "Parameters added to the Memtest86+ command line.";
    };
  };
}
