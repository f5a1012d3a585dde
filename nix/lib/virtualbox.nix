# What nixos-generate's OVA and Vagrant box writers do with nixpkgs' virtualbox-image
# options. They write the VM's name, memory, one CPU, a SATA (AHCI) controller and a
# NAT network adapter (virtio) into the OVF; VirtualBox's defaults for the OS type cover
# the rest. So nixpkgs' default virtualbox.params, and the Vagrant box's (no audio,
# no USB), are what the image already says; any other value is refused, as are the
# options that need VirtualBox itself (exportParams, postExportCommands) or a second disk.
let
  # The values nixpkgs' virtualbox-image.nix and vagrant-virtualbox-image.nix set.
  accepted = {
    acpi = [ "on" ];
    vram = [ 32 "32" ];
    nictype1 = [ "virtio" ];
    nic1 = [ "nat" ];
    audiocontroller = [ "ac97" ];
    audio = [ "alsa" "none" ];
    audioin = [ "off" ];
    audioout = [ "on" "off" ];
    graphicscontroller = [ "vmsvga" ];
    rtcuseutc = [ "on" ];
    usb = [ "on" "off" ];
    usbehci = [ "on" "off" ];
    mouse = [ "usbtablet" ];
    pae = [ "on" ];
  };
  defaultController = {
    name = "SATA";
    add = "sata";
    portcount = 4;
    bootable = "on";
    hostiocache = "on";
  };
in
{
  refusals =
    { config, lib }:
    let
      vbox = config.virtualbox;
      badParams = lib.filter (name: !(builtins.elem vbox.params.${name} (accepted.${name} or [ ]))) (builtins.attrNames vbox.params);
    in
    lib.optional (badParams != [ ]) {
      option = "virtualbox.params.${builtins.head badParams}";
      value = vbox.params.${builtins.head badParams};
      hint = "nixos-generate's OVA describes a SATA disk, a virtio NAT adapter and VirtualBox's defaults for the rest; remove the setting";
    }
    ++ lib.optional (vbox.storageController != defaultController) {
      option = "virtualbox.storageController";
      value = vbox.storageController;
      hint = "nixos-generate's OVA has nixpkgs' default SATA controller; remove the setting";
    }
    ++ lib.optional ((vbox.exportParams or [ ]) != [ ]) {
      option = "virtualbox.exportParams";
      value = vbox.exportParams;
      hint = "nixos-generate writes the OVA without VBoxManage; remove the setting";
    }
    ++ lib.optional ((vbox.postExportCommands or "") != "") {
      option = "virtualbox.postExportCommands";
      value = vbox.postExportCommands;
      hint = "nixos-generate writes the OVA without running commands; remove the setting";
    }
    ++ lib.optional ((vbox.extraDisk or null) != null) {
      option = "virtualbox.extraDisk";
      value = vbox.extraDisk.label or "?";
      hint = "nixos-generate's OVA holds one disk; remove the setting";
    };
}
