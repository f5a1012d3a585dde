# Imitates nixos/modules/virtualisation/disk-size-option.nix (NixOS 24.11 and
# later; the 25.05 state): virtualisation.diskSize, either "auto" (the image
# builder sizes the disk from the closure) or a size in MiB, defaulting to
# "auto" unless the internal virtualisation.diskSizeAutoSupported says the
# builder cannot compute a size (then 1024), and the assertion that refuses
# "auto" for such builders. Image modules import it; no module list does.
# Nothing is left out.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.virtualisation;
in
{
  options.virtualisation = {
    diskSizeAutoSupported = mkOption {
      type = types.bool;
      default = true;
      internal = true;
      description = "Whether the image builder (or VM runner) in use can work out the disk size itself, i.e. accepts virtualisation.diskSize = \"auto\".";
    };
    diskSize = mkOption {
      type = types.either (types.enum [ "auto" ]) types.ints.positive;
      default = if cfg.diskSizeAutoSupported then "auto" else 1024;
      defaultText = lib.literalExpression ''if virtualisation.diskSizeAutoSupported then "auto" else 1024'';
      description = "Size of the disk in megabytes (MiB), or \"auto\" to size it from what goes on it.";
    };
  };

  config.assertions = [ {
    assertion = cfg.diskSize != "auto" || cfg.diskSizeAutoSupported;
    message = "virtualisation.diskSize = \"auto\" cannot be used with this image builder or VM runner: set an explicit size in MiB.";
  } ];
}
