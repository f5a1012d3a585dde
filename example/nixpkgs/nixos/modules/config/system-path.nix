# Imitates nixos/modules/config/system-path.nix: system.path (the toplevel's sw/): busybox's applets plus the bin/ of
# environment.systemPackages, every one of which is in the system's closure.
{ config, lib, pkgs, ... }:
{
  options.environment.systemPackages = lib.mkOption {
    type = lib.types.listOf lib.types.package;
    default = [ ];
    description = "Packages whose bin/ is linked into the system path.";
  };
  options.system.path = lib.mkOption {
    type = lib.types.package;
    description = "The system path (internal).";
  };
  config.system.path = pkgs.runCommand "system-path" {
    packages = [ pkgs.busybox ] ++ config.environment.systemPackages;
  } ''
    mkdir -p "$out/bin"
    # Every package is part of the system's closure, as with NixOS's buildEnv (which
    # links share/, lib/ and more); the stand-in links only bin/ and lists the rest.
    for p in $packages; do echo "$p"; done >"$out/packages"
    for p in $packages; do
      [ -d "$p/bin" ] || continue
      for f in "$p"/bin/*; do
        [ -e "$out/bin/$(basename "$f")" ] || ln -s "$f" "$out/bin/$(basename "$f")"
      done
    done
  '';
}
