# makeInitrd: a gzip'd newc cpio holding a static busybox, the given kernel
# modules (with their dependencies, resolved at build time) and an init.
#   kernel      a package from pkgs.callKernel (lib/modules/<modDirVersion>)
#   modules     module names (or aliases) to include; the init loads what it needs
#   init        the /init script
#   config      text of /etc/initrd.conf (sourced by init)
{ lib, runCommand, busybox }:
{ name ? "initrd", kernel, modules, init, config ? "" }:
runCommand name {
  inherit kernel init busybox;
  modulesList = lib.concatStringsSep " " (lib.unique modules);
  inherit (kernel) modDirVersion;
  closureScript = ../linux/modules-closure.awk;
  cpioScript = ./cpio-newc.sh;
  initrdConfig = config;
  passAsFile = [ "initrdConfig" ];
  passthru = { inherit kernel modules; initrdFile = "initrd"; };
} (builtins.readFile ./make-initrd.sh)
