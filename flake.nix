{
  description = "nixos-generate: NixOS images of every format, written natively (no VM)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs = { self, nixpkgs }:
    let
      lib = nixpkgs.lib;
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      formatNames = map (lib.removeSuffix ".nix") (builtins.attrNames (builtins.readDir ./nix/formats));
      # Each format module, with this flake's writer for the machine building the image.
      withWriter = { config, ... }: { nixos-generate.package = lib.mkDefault self.packages.${config.nixos-generate.buildPlatform}.default; };
      formatModules = lib.genAttrs formatNames (name: { imports = [ ./nix/formats/${name}.nix withWriter ]; });
    in
    {
      packages = forAllSystems (pkgs: rec {
        nixos-generate = pkgs.callPackage ./nix/package.nix { };
        default = nixos-generate;
      });

      apps = forAllSystems (pkgs: {
        default = { type = "app"; program = "${self.packages.${pkgs.stdenv.hostPlatform.system}.default}/bin/nixos-generate"; };
      });

      nixosModules = formatModules // { all-formats = import ./nix/flake/all-formats.nix formatModules; };

      nixosGenerate = import ./nix/flake/nixos-generate.nix { inherit nixpkgs formatModules; };
    };
}
