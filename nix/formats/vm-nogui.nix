# vm-nogui: the vm format on the terminal, as nixos-generators' formats/vm-nogui.nix: no
# graphics (-nographic, the serial console preferred) and the serial port and QEMU's
# monitor on stdio; a login shell resizes the terminal to the host's window.
{ lib, pkgs, ... }:
let
  # Asks the terminal for its size and tells the tty (the serial console has none).
  resize = pkgs.writeScriptBin "resize" ''
    if [ -e /dev/tty ]; then
      old=$(stty -g)
      stty raw -echo min 0 time 5
      printf '\033[18t' > /dev/tty
      IFS=';t' read -r _ rows cols _ < /dev/tty
      stty "$old"
      stty cols "$cols" rows "$rows"
    fi
  '';
in
{
  imports = [ ./vm.nix ];

  virtualisation.graphics = false;
  virtualisation.qemu.options = [ "-serial mon:stdio" ];

  environment.systemPackages = [ resize ];
  environment.loginShellInit = "${resize}/bin/resize";

  nixos-generate.format = "vm-nogui";
}
