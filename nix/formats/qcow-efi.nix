# qcow-efi: qcow2 disk image, GPT with an ESP, GRUB EFI installed as removable media
# (the system configuration nixos-generators' qcow-efi format sets, including its own
# boot.consoles option).
{
  config,
  lib,
  pkgs,
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
    # The PL011 of arm machines (QEMU's virt) and the SiFive UART, as nixos-generators adds them.
    default =
      [ "ttyS0" ]
      ++ lib.optional pkgs.stdenv.hostPlatform.isAarch "ttyAMA0,115200"
      ++ lib.optional pkgs.stdenv.hostPlatform.isRiscV64 "ttySIF0,115200";
    defaultText = lib.literalExpression ''[ "ttyS0" ] ++ optional isAarch "ttyAMA0,115200" ++ optional isRiscV64 "ttySIF0,115200"'';
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
