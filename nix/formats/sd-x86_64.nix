# sd-x86_64: as nixos-generators' formats/sd-x86_64.nix, nixpkgs' installer/sd-card/sd-image-x86_64.nix;
# nix/lib/sd-plan.nix turns its sdImage.* settings into the plan.
{ modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/installer/sd-card/sd-image-x86_64.nix"
    ../lib/sd-plan.nix
  ];

  nixos-generate.format = "sd-x86_64";
}
