# sd-aarch64: as nixos-generators' formats/sd-aarch64.nix, nixpkgs' installer/sd-card/sd-image-aarch64.nix;
# nix/lib/sd-plan.nix turns its sdImage.* settings into the plan.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/installer/sd-card/sd-image-aarch64.nix"
    ../lib/sd-plan.nix
  ];

  nixos-generate.format = "sd-aarch64";
}
