# The stand-in's `lib`: a small library written for the example system.
# It offers the names that NixOS modules commonly use; the module system lives
# in ./modules.nix and the option types in ./types.nix.
let
  lib = basics // modules // { types = import ./types.nix { inherit lib; }; };

  modules = import ./modules.nix { inherit lib; };

  inherit (builtins)
    all any attrNames attrValues concatLists concatStringsSep elem elemAt filter
    foldl' genList hasAttr head isAttrs isBool isFunction isInt isList isPath
    isString length listToAttrs mapAttrs replaceStrings split stringLength
    substring tail toString typeOf;

  basics = rec {
    inherit
      all any attrNames attrValues concatLists concatStringsSep elem elemAt filter
      foldl' genList hasAttr head isAttrs isBool isFunction isInt isList isPath
      isString length listToAttrs mapAttrs replaceStrings stringLength substring
      tail toString typeOf;
    inherit (builtins) isFloat fromJSON toJSON readFile pathExists trace seq deepSeq sort
      match tryEval throw abort functionArgs catAttrs intersectAttrs removeAttrs
      getAttr baseNameOf dirOf splitVersion compareVersions;

    version = "25.05pre-example";
    release = "25.05";
    trivial = { inherit version release id const flip pipe boolToString; oldestSupportedRelease = 2405; };

    # lib.generators: toYAML is toJSON (JSON is YAML), as in nixpkgs.
    generators = { toJSON = { }: builtins.toJSON; toYAML = { }: builtins.toJSON; };

    # --- trivial ---------------------------------------------------------
    id = x: x;
    const = x: _: x;
    flip = f: a: b: f b a;
    pipe = foldl' (x: f: f x);
    fix = f: let x = f x; in x;
    boolToString = b: if b then "true" else "false";
    min = a: b: if a < b then a else b;
    max = a: b: if a > b then a else b;
    warn = msg: builtins.trace "warning: ${msg}";
    warnIf = cond: msg: if cond then warn msg else id;
    throwIf = cond: msg: if cond then throw msg else id;
    throwIfNot = cond: msg: if cond then id else throw msg;
    assertMsg = pred: msg: pred || throw msg;
    toInt = s: let n = fromJSON s; in if isInt n then n else throw "toInt: `${s}' is not an integer";
    isDerivation = v: isAttrs v && (v.type or null) == "derivation";
    versionOlder = a: b: builtins.compareVersions a b < 0;
    versionAtLeast = a: b: !(versionOlder a b);
    mdDoc = id;
    literalMD = text: { _type = "literalMD"; inherit text; };
    literalExpression = text: { _type = "literalExpression"; inherit text; };
    literalExample = literalExpression;

    # --- lists -----------------------------------------------------------
    optional = cond: x: if cond then [ x ] else [ ];
    optionals = cond: xs: if cond then xs else [ ];
    toList = x: if isList x then x else [ x ];
    concatMap = builtins.concatMap;
    flatten = x: if isList x then builtins.concatMap flatten x else [ x ];
    last = xs: elemAt xs (length xs - 1);
    init = xs: genList (elemAt xs) (length xs - 1);
    range = a: b: if a > b then [ ] else genList (i: a + i) (b - a + 1);
    imap0 = f: xs: genList (i: f i (elemAt xs i)) (length xs);
    imap1 = f: xs: genList (i: f (i + 1) (elemAt xs i)) (length xs);
    foldr = op: nul: xs: let n = length xs; go = i: if i == n then nul else op (elemAt xs i) (go (i + 1)); in go 0;
    foldl = foldl';
    reverseList = xs: let n = length xs; in genList (i: elemAt xs (n - 1 - i)) n;
    unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
    count = pred: foldl' (c: x: if pred x then c + 1 else c) 0;
    findFirst = pred: default: xs: let m = filter pred xs; in if m == [ ] then default else head m;
    partition = builtins.partition;
    groupBy = builtins.groupBy;
    take = n: xs: genList (elemAt xs) (min n (length xs));
    drop = n: xs: genList (i: elemAt xs (i + n)) (max 0 (length xs - n));
    sublist = start: n: xs: take n (drop start xs);
    zipListsWith = f: a: b: genList (i: f (elemAt a i) (elemAt b i)) (min (length a) (length b));
    sortOn = f: builtins.sort (a: b: f a < f b);
    naturalSort = builtins.sort builtins.lessThan;
    lists = { inherit optional optionals toList flatten last init range imap0 imap1 foldr foldl unique count findFirst take drop sublist reverseList; inherit (builtins) elem filter length head tail concatMap; };

    # --- strings ---------------------------------------------------------
    concatStrings = concatStringsSep "";
    concatMapStrings = f: xs: concatStringsSep "" (map f xs);
    concatMapStringsSep = sep: f: xs: concatStringsSep sep (map f xs);
    concatLines = xs: concatStringsSep "" (map (x: "${x}\n") xs);
    optionalString = cond: s: if cond then s else "";
    hasPrefix = pre: s: substring 0 (stringLength pre) s == pre;
    hasSuffix = suf: s:
      let ls = stringLength s; lsuf = stringLength suf;
      in ls >= lsuf && substring (ls - lsuf) lsuf s == suf;
    hasInfix = inf: s: builtins.match ".*${escapeRegex inf}.*" s != null;
    removePrefix = pre: s: if hasPrefix pre s then substring (stringLength pre) (stringLength s) s else s;
    removeSuffix = suf: s: if hasSuffix suf s then substring 0 (stringLength s - stringLength suf) s else s;
    splitString = sep: s: filter isString (split (escapeRegex sep) s);
    escapeRegex = replaceStrings
      [ "\\" "[" "]" "{" "}" "(" ")" "^" "$" "." "|" "*" "+" "?" ]
      [ "\\\\" "\\[" "\\]" "\\{" "\\}" "\\(" "\\)" "\\^" "\\$" "\\." "\\|" "\\*" "\\+" "\\?" ];
    toLower = replaceStrings upperChars lowerChars;
    toUpper = replaceStrings lowerChars upperChars;
    lowerChars = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
    upperChars = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
    escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
    escapeShellArgs = xs: concatStringsSep " " (map escapeShellArg xs);
    makeSearchPath = sub: pkgs: concatStringsSep ":" (map (p: "${p}/${sub}") (filter (p: p != null) pkgs));
    makeBinPath = makeSearchPath "bin";
    fileContents = file: removeSuffix "\n" (builtins.readFile file);
    getName = x: if isAttrs x then x.pname or (builtins.parseDrvName x.name).name else (builtins.parseDrvName x).name;
    getVersion = x: if isAttrs x then x.version or (builtins.parseDrvName x.name).version else (builtins.parseDrvName x).version;
    getExe = pkg: "${pkg}/bin/${pkg.meta.mainProgram or (getName pkg)}";
    getBin = pkg: pkg;
    getOutput = _: pkg: pkg;
    strings = { inherit concatStrings concatMapStrings concatMapStringsSep optionalString hasPrefix hasSuffix hasInfix removePrefix removeSuffix splitString toLower toUpper escapeShellArg escapeShellArgs makeBinPath makeSearchPath fileContents; inherit (builtins) concatStringsSep; };

    # --- attribute sets --------------------------------------------------
    optionalAttrs = cond: as: if cond then as else { };
    filterAttrs = pred: set: listToAttrs (builtins.concatMap (n: if pred n set.${n} then [ { name = n; value = set.${n}; } ] else [ ]) (attrNames set));
    mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
    mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
    nameValuePair = name: value: { inherit name value; };
    genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
    attrByPath = path: default: set:
      if path == [ ] then set
      else if isAttrs set && set ? ${head path} then attrByPath (tail path) default set.${head path}
      else default;
    hasAttrByPath = path: set:
      path == [ ] || (isAttrs set && set ? ${head path} && hasAttrByPath (tail path) set.${head path});
    getAttrFromPath = path: set:
      foldl' (s: n: if s ? ${n} then s.${n} else throw "cannot find attribute `${concatStringsSep "." path}'") set path;
    setAttrByPath = path: value: if path == [ ] then value else { ${head path} = setAttrByPath (tail path) value; };
    recursiveUpdate = a: b:
      a // mapAttrs (n: v: if isAttrs v && isAttrs (a.${n} or null) && !(isDerivation v) then recursiveUpdate a.${n} v else v) b;
    zipAttrsWith = f: sets:
      let names = attrNames (foldl' (acc: s: acc // s) { } sets);
      in listToAttrs (map (n: { name = n; value = f n (builtins.catAttrs n sets); }) names);
    attrsets = { inherit optionalAttrs filterAttrs mapAttrsToList mapAttrs' nameValuePair genAttrs attrByPath hasAttrByPath getAttrFromPath setAttrByPath recursiveUpdate zipAttrsWith; inherit (builtins) attrNames attrValues mapAttrs; };

    # --- derivations -----------------------------------------------------
    # f's result gains `override`, which calls f again with changed arguments.
    makeOverridable = f: args:
      let result = f args; in
      if isAttrs result then result // { override = changes: makeOverridable f (args // (if isFunction changes then changes args else changes)); }
      else result;

    # --- platforms ---------------------------------------------------------
    # lib.systems.elaborate for the platforms the stand-in knows: the fields
    # NixOS modules and image code read.
    systems = {
      elaborate = platform:
        let
          system = if isString platform then platform else platform.system;
          cpu = head (splitString "-" system);
          known = {
            # linux-kernel as lib/systems/platforms.nix gives it: pc and aarch64-multiplatform.
            x86_64 = { isx86_64 = true; isx86_32 = false; isAarch64 = false; efiArch = "x64"; linuxArch = "x86_64"; linux-kernel = { name = "pc"; target = "bzImage"; }; };
            i686 = { isx86_64 = false; isx86_32 = true; isAarch64 = false; efiArch = "ia32"; linuxArch = "i386"; linux-kernel = { name = "pc"; target = "bzImage"; }; };
            aarch64 = { isx86_64 = false; isx86_32 = false; isAarch64 = true; efiArch = "aa64"; linuxArch = "arm64"; linux-kernel = { name = "aarch64-multiplatform"; target = "Image"; DTB = true; }; };
          };
          bits = known.${cpu} or (throw "lib.systems.elaborate: the stand-in does not know the platform ${system}");
        in
        bits // {
          inherit system;
          isLinux = hasSuffix "-linux" system;
          isx86 = bits.isx86_64 || bits.isx86_32;
          is32bit = bits.isx86_32;
          is64bit = !bits.isx86_32;
          isAarch = bits.isAarch64;
          isRiscV64 = cpu == "riscv64";
          isEfi = true;
          parsed.cpu.name = cpu;
          # As lib/systems uname.processor for these platforms: the CPU name.
          uname.processor = cpu;
        };
      equals = a: b: a.system == b.system;
    };
  };
in
lib
