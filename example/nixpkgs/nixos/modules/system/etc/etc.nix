# Imitates nixos/modules/system/etc/etc.nix: system.build.etc (the toplevel's etc/): environment.etc.<name>.text or
# .source, plus hostname and os-release.
{ config, lib, pkgs, ... }:
let
  entries = lib.filter (e: e.enable or true) (lib.mapAttrsToList (name: e: e // { target = e.target or name; }) config.environment.etc);
  sourceOf = e: if e ? source then e.source else pkgs.writeText "etc-${baseNameOf e.target}" e.text;
  inherit (config.system.nixos) distroName distroId version codeName;
in
{
  options.environment.etc = lib.mkOption {
    type = lib.types.attrsOf lib.types.anything;
    default = { };
    description = "Files of /etc: { text = ...; } or { source = ...; }, optional target.";
  };
  config.environment.etc = {
    hostname.text = "${config.networking.hostName}\n";
    "os-release".text = ''
      NAME=${distroName}
      ID=${distroId}
      VERSION="${version} (${codeName})"
      VERSION_ID="${config.system.nixos.release}"
      PRETTY_NAME="${distroName} ${version} (${codeName})"
    '';
  };
  config.system.build.etc = pkgs.runCommand "etc" {
    targets = map (e: e.target) entries;
    sources = map sourceOf entries;
  } ''
    mkdir -p "$out/etc"
    set -- $sources
    for t in $targets; do
      mkdir -p "$(dirname "$out/etc/$t")"
      ln -s "$1" "$out/etc/$t"
      shift
    done
  '';
}
