# Imitates the boot.postBootCommands option of nixos/modules/system/boot/stage-2.nix:
# shell commands stage 2 runs before it starts the system (in the example system: before
# it reports and powers off). top-level.nix puts them into <toplevel>/init.
{ lib, ... }:
{
  options.boot.postBootCommands = lib.mkOption {
    type = lib.types.lines;
    default = "";
    description = "Shell commands to be executed just before the system is started.";
  };
}
