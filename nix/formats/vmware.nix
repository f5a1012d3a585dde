# vmware: VMware image, a VMDK (monolithicSparse by default) with GPT and an ESP, GRUB
# for UEFI (nixos-generators imports nixpkgs' vmware-image.nix).
let
  common = import ../lib/common.nix;
in
import ../lib/format.nix {
  upstream = "virtualisation/vmware-image.nix";
  settings =
    { config, lib, options, ... }:
    let
      vmware = config.vmware;
      supported = [ "monolithicSparse" "streamOptimized" ];
    in
    lib.mkMerge [
      (common.imageBoot lib { partitionTableType = "efi"; })
      # Until NixOS 26.05 the nixpkgs module sizes the disk with vmware.baseImageSize; from
      # then on that is an alias of virtualisation.diskSize, which must not be read back.
      (lib.mkIf (!(lib.hasPrefix "Alias of" (options.vmware.baseImageSize.description or "Alias of")) && vmware.baseImageSize != "auto") {
        virtualisation.diskSize = lib.mkOverride 1050 vmware.baseImageSize;
      })
      {
        nixos-generate = {
          format = "vmware";
          partitionTableType = "efi";
          output = {
            container = "vmdk";
            vmdk.subformat = if builtins.elem vmware.vmSubformat supported then vmware.vmSubformat else "monolithicSparse";
            # 25.05 and later: image.fileName; 24.11: vmware.vmFileName.
            fileName = common.optionOr options config [ "image" "fileName" ] (vmware.vmFileName or "nixos.vmdk");
            compression = "none";
          };
          refusals =
            lib.optional (!builtins.elem vmware.vmSubformat supported) {
              option = "vmware.vmSubformat";
              value = vmware.vmSubformat;
              hint = "nixos-generate writes monolithicSparse or streamOptimized VMDKs";
            }
            ++ lib.optional (vmware.vmCompat6 or false) {
              option = "vmware.vmCompat6";
              value = true;
              hint = "nixos-generate writes version 4 sparse extents (vmCompat6 = false)";
            };
        };
      }
    ];
}
