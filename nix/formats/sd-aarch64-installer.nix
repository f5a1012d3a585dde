# sd-aarch64-installer: as nixos-generators' formats/sd-aarch64-installer.nix, nixpkgs' installer/sd-card/sd-image-aarch64-installer.nix;
# nix/lib/sd-plan.nix turns its sdImage.* settings into the plan.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/installer/sd-card/sd-image-aarch64-installer.nix"
    ../lib/sd-plan.nix
  ];

  nixos-generate.format = "sd-aarch64-installer";
}
