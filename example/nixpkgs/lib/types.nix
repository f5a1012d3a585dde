# Option types of the stand-in. Each type has a shallow `check` and a `merge`
# taking the option path and the winning definitions ({ file; value; }).
{ lib }:
let
  inherit (builtins)
    all any attrNames concatMap concatStringsSep elem filter head isAttrs isBool
    isFloat isFunction isInt isList isPath isString length listToAttrs
    mapAttrs match toJSON toString;

  mkOptionType = { name, description ? name, check ? (_: true), merge ? lib.mergeEqual, ... }@attrs:
    attrs // { _type = "option-type"; inherit name description check merge; };

  isDerivation = v: isAttrs v && (v.type or null) == "derivation";

  # Definitions of one attribute of an attribute set, per element.
  elementDefs = defs:
    let names = attrNames (builtins.foldl' (acc: d: acc // d.value) { } defs);
    in map (n: {
      name = n;
      defs = concatMap (d: if d.value ? ${n} then [ { inherit (d) file; value = d.value.${n}; } ] else [ ]) defs;
    }) names;

  mergeOne = loc: defs:
    if length defs == 1 then (head defs).value
    else throw "The option `${lib.showLoc loc}' is defined more than once (in ${concatStringsSep ", " (map (d: d.file) defs)}), but it takes a single definition.";

  separatedString = sep: mkOptionType {
    name = "separatedString";
    description = if sep == "" then "concatenated string" else "strings concatenated with ${toJSON sep}";
    check = isString;
    merge = _: defs: concatStringsSep sep (map (d: d.value) defs);
  };

  str = mkOptionType { name = "str"; description = "string"; check = isString; };
  int = mkOptionType { name = "int"; description = "signed integer"; check = isInt; };
  ints = {
    inherit int;
    unsigned = addCheck int (x: x >= 0) "unsigned integer";
    positive = addCheck int (x: x > 0) "positive integer";
    between = lo: hi: addCheck int (x: x >= lo && x <= hi) "integer between ${toString lo} and ${toString hi}";
    u8 = ints.between 0 255; u16 = ints.between 0 65535; u32 = ints.between 0 4294967295;
    s8 = ints.between (-128) 127; s16 = ints.between (-32768) 32767; s32 = ints.between (-2147483648) 2147483647;
  };

  addCheck = t: extra: description: t // { inherit description; check = v: t.check v && extra v; };

  anything = mkOptionType { name = "anything"; description = "anything"; merge = lib.mergeAnything; };

  attrsOfWith = lazy: elemType: mkOptionType {
    name = if lazy then "lazyAttrsOf" else "attrsOf";
    description = "attribute set of ${elemType.description}";
    check = isAttrs;
    inherit elemType;
    merge = loc: defs:
      let
        evaluated = map (e: {
          inherit (e) name;
          r = lib.evalDefs (loc ++ [ e.name ]) elemType e.defs [ ];
        }) (elementDefs defs);
        kept = if lazy then evaluated else filter (e: e.r.defined) evaluated;
      in listToAttrs (map (e: { inherit (e) name; value = e.r.value; }) kept);
  };

  submoduleWith = { modules, specialArgs ? { }, shorthandOnlyDefinesConfig ? false, ... }: mkOptionType {
    name = "submodule";
    description = "submodule";
    check = v: isAttrs v || isFunction v || isPath v;
    isSubmodule = true;
    merge = loc: defs:
      (lib.evalModules {
        modules = modules ++ map (d:
          if isAttrs d.value then { _file = d.file; config = d.value; } else d.value) defs;
        specialArgs = { name = lib.last loc; } // specialArgs;
        prefix = loc;
      }).config;
    getSubModules = modules;
  };
in
rec {
  inherit mkOptionType isDerivation str int ints anything submoduleWith separatedString addCheck;

  bool = mkOptionType { name = "bool"; description = "boolean"; check = isBool; };
  float = mkOptionType { name = "float"; description = "floating point number"; check = isFloat; };
  number = mkOptionType { name = "number"; description = "number"; check = v: isInt v || isFloat v; };
  port = ints.u16;
  unspecified = anything // { name = "unspecified"; description = "unspecified value"; };
  raw = mkOptionType { name = "raw"; description = "raw value"; merge = mergeOne; };
  attrs = mkOptionType { name = "attrs"; description = "attribute set"; check = isAttrs; merge = lib.mergeAnything; };
  path = mkOptionType {
    name = "path";
    description = "path";
    check = v: isPath v || isString v || (isAttrs v && v ? outPath);
  };
  pathInStore = path;
  package = mkOptionType {
    name = "package";
    description = "package";
    check = v: isDerivation v || isPath v || isString v || (isAttrs v && v ? outPath);
  };
  shellPackage = package;
  lines = separatedString "\n" // { name = "lines"; description = "strings concatenated with \"\\n\""; };
  commas = separatedString ",";
  envVar = separatedString ":";
  string = separatedString "";
  nonEmptyStr = addCheck str (s: match "[ \t\n]*" s == null) "non-empty string";
  singleLineStr = addCheck str (s: match "[^\n]*\n?" s != null) "single-line string";
  strMatching = re: addCheck str (s: match re s != null) "string matching the pattern ${re}";
  passwdEntry = t: t;
  optionType = raw;

  enum = values: mkOptionType {
    name = "enum";
    description = "one of ${concatStringsSep ", " (map toJSON values)}";
    check = v: elem v values;
    functor.payload = values;
  };

  listOf = elemType: mkOptionType {
    name = "listOf";
    description = "list of ${elemType.description}";
    check = isList;
    inherit elemType;
    merge = loc: defs:
      let all' = concatMap (d: map (v: { inherit (d) file; value = v; }) d.value) defs; in
      if elemType.isSubmodule or false
      then lib.imap1 (i: d: elemType.merge (loc ++ [ "[${toString i}]" ]) [ d ]) all'
      else map (d: d.value) all';
  };
  nonEmptyListOf = elemType: addCheck (listOf elemType) (l: l != [ ]) "non-empty list of ${elemType.description}";

  attrsOf = attrsOfWith false;
  lazyAttrsOf = attrsOfWith true;
  loaOf = attrsOf;

  uniq = unique { };
  unique = { message ? "" }: t: t // {
    merge = loc: defs:
      if length defs == 1 then t.merge loc defs
      else throw "The option `${lib.showLoc loc}' is defined multiple times while it's expected to be unique.\n${message}\nDefinition values:${concatStringsSep "" (map (d: "\n- In `${d.file}'") defs)}";
  };

  nullOr = t: mkOptionType {
    name = "nullOr";
    description = "null or ${t.description}";
    check = v: v == null || t.check v;
    merge = loc: defs:
      let nulls = filter (d: d.value == null) defs; in
      if length nulls == length defs then null
      else if nulls != [ ] then throw "The option `${lib.showLoc loc}' is defined both null and not null (in ${concatStringsSep ", " (map (d: d.file) defs)})."
      else t.merge loc defs;
  };

  either = a: b: mkOptionType {
    name = "either";
    description = "${a.description} or ${b.description}";
    check = v: a.check v || b.check v;
    merge = loc: defs:
      if all (d: a.check d.value) defs then a.merge loc defs
      else if all (d: b.check d.value) defs then b.merge loc defs
      else lib.mergeEqual loc defs;
  };
  oneOf = ts: builtins.foldl' either (head ts) (builtins.tail ts);

  coercedTo = from: coerce: to: mkOptionType {
    name = "coercedTo";
    description = "${to.description} or ${from.description} convertible to it";
    check = v: to.check v || from.check v;
    merge = loc: defs: to.merge loc (map (d: if !(to.check d.value) && from.check d.value then d // { value = coerce d.value; } else d) defs);
  };

  functionTo = t: mkOptionType {
    name = "functionTo";
    description = "function that evaluates to a(n) ${t.description}";
    check = v: isFunction v || (isAttrs v && v ? __functor);
    merge = loc: defs: args: t.merge loc (map (d: d // { value = d.value args; }) defs);
  };

  submodule = m: submoduleWith { modules = lib.toList m; shorthandOnlyDefinesConfig = true; };

  deferredModule = mkOptionType {
    name = "deferredModule";
    description = "module";
    check = v: isAttrs v || isFunction v || isPath v;
    merge = loc: defs: { imports = map (d: d.value) defs; };
  };
}
