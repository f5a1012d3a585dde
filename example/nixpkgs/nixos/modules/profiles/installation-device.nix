# Imitates nixos/modules/profiles/installation-device.nix (NixOS 25.05): the
# settings of an installation medium that the stand-in's options can hold. The
# user nixos (wheel, empty password) and root with an empty password, logged in
# automatically on the console; sshd on by default with root login allowed;
# wpa_supplicant available but not started (wantedBy emptied at mkOverride 50,
# which nixos-generators' install-iso overrides); the variant id.
# Left out, because the stand-in declares none of it: the installer scan and
# clone-config modules, the channel (installer/cd-dvd/channel.nix, a copy of
# nixpkgs), documentation, polkit and sudo, the swraid, sysctl, firewall and
# pstore settings, nix.settings.trusted-users, networking.wireless.userControlled
# and the extraDependencies (stdenv, busybox, jq, ...).
{ lib, ... }:
{
  users.users.nixos = {
    isNormalUser = true;
    extraGroups = [ "wheel" "networkmanager" "video" ];
    initialHashedPassword = "";
  };
  users.users.root.initialHashedPassword = "";

  services.getty.autologinUser = "nixos";
  services.getty.helpLine = ''
    The "nixos" and "root" accounts have empty passwords.

    To log in over ssh you must set a password for either "nixos" or "root"
    with `passwd` (prefix with `sudo` for "root"), or add your public key to
    /home/nixos/.ssh/authorized_keys or /root/.ssh/authorized_keys.

    If you need a wireless connection, type
    `sudo systemctl start wpa_supplicant` and configure a
    network using `wpa_cli`. See the NixOS manual for details.
  '';

  services.openssh = {
    enable = lib.mkDefault true;
    settings.PermitRootLogin = lib.mkDefault "yes";
  };

  networking.wireless.enable = lib.mkDefault true;
  systemd.services.wpa_supplicant.wantedBy = lib.mkOverride 50 [ ];
}
