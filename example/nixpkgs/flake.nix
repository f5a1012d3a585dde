# Imitates nixpkgs' flake.nix as far as NixOS configurations use it:
# lib.nixosSystem (eval-config.nix with system = null unless given, so the
# platform comes from nixpkgs.hostPlatform) and legacyPackages.
{
  description = "Stand-in for nixpkgs: the example system's package set and NixOS module system";

  outputs = { self }:
    let
      lib = import ./lib;
    in
    {
      lib = lib // {
        nixosSystem = args:
          import ./nixos/lib/eval-config.nix (
            { lib = self.lib; system = null; }
            // builtins.removeAttrs args [ "modules" ]
            // { modules = args.modules; }
          );
      };
      legacyPackages.x86_64-linux = import ./pkgs { system = "x86_64-linux"; };
      legacyPackages.aarch64-linux = import ./pkgs { system = "aarch64-linux"; };
    };
}
