# Imitates nixos/modules/virtualisation/lxc-image-metadata.nix (NixOS 25.05):
# virtualisation.lxc.templates and system.build.metadata, make-system-tarball
# with metadata.yaml (lib.generators.toYAML, that is JSON: architecture,
# creation_date 1, properties, templates) and templates/<name>.tpl for each
# enabled template, named image.baseName, tags "lxc" "metadata".
{ config, lib, pkgs, ... }:
let
  templates = lib.filterAttrs (_: t: t.enable) config.virtualisation.lxc.templates;
  system = pkgs.stdenv.hostPlatform.system;
  metadata = {
    architecture = builtins.head (builtins.match "^([a-z0-9_]+).+" system);
    creation_date = 1;
    properties = {
      description = "${config.system.nixos.distroName} ${config.system.nixos.codeName} ${config.system.nixos.label} ${system}";
      os = config.system.nixos.distroId;
      release = config.system.nixos.codeName;
    };
    templates = lib.mapAttrs' (name: t: lib.nameValuePair t.target {
      inherit (t) when properties;
      template = "${name}.tpl";
    }) templates;
  };
in
{
  imports = [ ../image/file-options.nix ];

  options.virtualisation.lxc.templates = lib.mkOption {
    description = "Templates for LXD";
    type = lib.types.attrsOf (lib.types.submodule {
      options = {
        enable = lib.mkEnableOption "this template";
        target = lib.mkOption { type = lib.types.path; description = "Path in the container"; };
        template = lib.mkOption { type = lib.types.path; description = ".tpl file for rendering the target"; };
        when = lib.mkOption { type = lib.types.listOf lib.types.str; description = "Events which trigger a rewrite (create, copy)"; };
        properties = lib.mkOption { type = lib.types.attrs; description = "Additional properties"; default = { }; };
      };
    });
    default = { };
  };

  config = {
    system.nixos.tags = [ "lxc" "metadata" ];
    image.extension = "tar.xz";
    image.filePath = "tarball/${config.image.fileName}";
    system.build.metadata = pkgs.callPackage ../../lib/make-system-tarball.nix {
      fileName = config.image.baseName;
      contents = [
        {
          source = pkgs.writeText "metadata.yaml" (lib.generators.toYAML { } metadata);
          target = "/metadata.yaml";
        }
      ] ++ lib.mapAttrsToList (name: t: {
        source = t.template;
        target = "/templates/${name}.tpl";
      }) templates;
    };
  };
}
