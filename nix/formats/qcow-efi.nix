# qcow-efi: qcow2 disk image, GPT with an ESP, GRUB EFI installed as removable media
# (the system configuration nixos-generators' qcow-efi format sets, including its own
# boot.consoles option).
{
  config,
  lib,
  modulesPath,
  ...
}:
let
  common = import ../lib/common.nix;
in
{
  imports = [
    ../lib/image-plan.nix
    "${toString modulesPath}/profiles/qemu-guest.nix"
  ];

  options.boot.consoles = lib.mkOption {
    default = [ "ttyS0" ];
    example = [ "ttyS2,115200" ];
    description = "Kernel console boot flags to pass to boot.kernelParams.";
  };

  config = lib.mkMerge [
    (common.imageBoot lib { partitionTableType = "efi"; })
    {
      boot.growPartition = true;
      boot.kernelParams = map (c: "console=${c}") config.boot.consoles;
      boot.loader.timeout = lib.mkDefault 0;

      nixos-generate = {
        format = "qcow-efi";
        partitionTableType = "efi";
        output = {
          container = "qcow2";
          fileName = "nixos.qcow2";
          compression = "none";
        };
      };
    }
  ];
}
