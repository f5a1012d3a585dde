# The example system's toplevel, built with the stand-in nixpkgs next to
# this file:  nix-build system.nix --argstr hostName NAME [--argstr system aarch64-linux]
# With --arg payloadFiles N --arg payloadMiB M the closure gains a synthetic package
# of N random files totalling about M MiB (tests and benchmarks).
# The result is config.system.build.toplevel, with the evaluation attached
# (config, options, pkgs, extendModules), e.g.
#   nix-instantiate --eval system.nix -A config.networking.hostName
{ hostName ? "example", payloadFiles ? 0, payloadMiB ? 0, system ? "x86_64-linux" }:
let
  eval = import ./nixpkgs/nixos/lib/eval-config.nix {
    inherit system;
    modules = [
      ./configuration.nix
      { _file = "example/system.nix (the hostName argument)"; networking.hostName = hostName; }
    ] ++ (if payloadFiles > 0 then [ (import ./payload.nix { files = payloadFiles; mebibytes = payloadMiB; }) ] else [ ]);
  };
in
eval.config.system.build.toplevel // {
  inherit (eval) config options pkgs extendModules;
}
