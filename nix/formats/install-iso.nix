# install-iso: an installation ISO, as nixos-generators' formats/install-iso.nix makes
# it: nixpkgs' installer/cd-dvd/installation-cd-base.nix, with wpa_supplicant and sshd
# started at boot (the installation profile leaves them stopped).
{ lib, modulesPath, ... }:
{
  imports = [
    "${toString modulesPath}/installer/cd-dvd/installation-cd-base.nix"
    ../lib/live-plan.nix
  ];

  systemd.services.wpa_supplicant.wantedBy = lib.mkForce [ "multi-user.target" ];
  systemd.services.sshd.wantedBy = lib.mkForce [ "multi-user.target" ];

  nixos-generate.format = lib.mkDefault "install-iso";
}
