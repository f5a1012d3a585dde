# Imitates nixos/modules/virtualisation/azure-common.nix (NixOS 25.05), the
# configuration of an Azure VM, imported by ./azure-image.nix. It declares
# virtualisation.azure.acceleratedNetworking (untyped, as upstream, default
# false), which makes the Mellanox drivers available in the initrd (with the
# stand-in's small kernel, pkgs.linux, that needs boot.kernelPackages =
# pkgs.linuxPackages_full: pkgs.linux leaves out the mlx drivers).
# Set as upstream: the serial console, early printk, a 300 s root delay and
# reboot on panic or stage 1 failure on the kernel command line, the Hyper-V
# drivers always loaded in the initrd, sshd enabled allowing root by key only
# with a 180 s keep-alive.
# Left out, because the stand-in has no such services, packages or options:
# the Azure agent (services.waagent), cloud-init and its network
# configuration, systemd-networkd (networking.useNetworkd) and the networkd /
# NetworkManager rules that leave accelerated-networking interfaces alone,
# networking.usePredictableInterfaceNames = false, the udev rules that name
# data disks by LUN, cryptsetup and sg3_utils in the system path, and
# networking.hostName = mkDefault "" (Azure's agent sets the name).
{ config, lib, ... }:
let
  cfg = config.virtualisation.azure;
in
{
  options.virtualisation.azure.acceleratedNetworking = lib.mkOption {
    default = false;
    description = "Whether the VM's network interface uses Azure accelerated networking (Mellanox virtual functions).";
  };

  config = {
    boot.kernelParams = [ "console=ttyS0" "earlyprintk=ttyS0" "rootdelay=300" "panic=1" "boot.panic_on_fail" ];
    boot.initrd.kernelModules = [ "hv_vmbus" "hv_netvsc" "hv_utils" "hv_storvsc" ];
    boot.initrd.availableKernelModules = lib.optionals cfg.acceleratedNetworking [ "mlx4_en" "mlx4_core" "mlx5_core" ];

    services.openssh.enable = true;
    services.openssh.settings.PermitRootLogin = "prohibit-password";
    services.openssh.settings.ClientAliveInterval = 180;
  };
}
