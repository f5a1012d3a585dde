# qcow-efi: qcow2 disk image, GPT with an ESP, GRUB EFI installed as removable media
# (the system configuration nixos-generators' qcow-efi format sets).
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  common = import ../lib/common.nix;
  qemuGuest = "${toString modulesPath}/profiles/qemu-guest.nix";
in
{
  imports = [
    ../lib/image-plan.nix
    common.root
    common.esp
    common.grubEfiRemovable
  ]
  ++ lib.optional (builtins.pathExists qemuGuest) qemuGuest;

  options.boot.consoles = lib.mkOption {
    default = [ "ttyS0" ];
    description = "Kernel consoles, passed as console= kernel parameters.";
  };

  config = {
    boot.growPartition = true;
    boot.kernelParams = map (c: "console=${c}") config.boot.consoles;
    boot.loader.timeout = 0;

    nixos-generate = {
      format = "qcow-efi";
      partitionTableType = "efi";
      output = {
        container = "qcow2";
        fileName = "nixos.qcow2";
        compression = "none";
      };
    };
  };
}
