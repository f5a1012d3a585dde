/**
 * A small JSON Schema validator covering the keywords the image plan schema and the
 * --json document's schema (src/cli/json-report.ts) use
 * (type, const, enum, properties, required, additionalProperties (false or a schema for
 * every other field), items, min/maxItems, minLength/maxLength, minimum, maximum, pattern, oneOf). Reports the first problem with its path.
 */

export type JsonSchema = {
  readonly type?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly oneOf?: readonly JsonSchema[];
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describe(schema: JsonSchema): string {
  if (schema.const !== undefined) return show(schema.const);
  if (schema.enum !== undefined) return `one of ${schema.enum.map(show).join(', ')}`;
  if (schema.oneOf !== undefined) return schema.oneOf.map(describe).join(' or ');
  if (schema.type === 'integer' && schema.minimum !== undefined) return `an integer >= ${schema.minimum}`;
  return schema.type === undefined ? 'a valid value' : `a value of type ${schema.type}`;
}

/** Returns undefined when valid, else "path: what is wrong". */
export function validate(value: unknown, schema: JsonSchema, path = '$'): string | undefined {
  if (schema.oneOf !== undefined) {
    const errors: string[] = [];
    for (const branch of schema.oneOf) {
      const error = validate(value, branch, path);
      if (error === undefined) return undefined;
      errors.push(error);
    }
    // When a branch matches a discriminating field ("type", or a plan's "kind"), its error is the useful one.
    if (typeof value === 'object' && value !== null) {
      for (const field of ['type', 'kind']) {
        if (!(field in value)) continue;
        const tag = (value as Record<string, unknown>)[field];
        const index = schema.oneOf.findIndex((b) => b.properties?.[field]?.const === tag);
        if (index >= 0) return errors[index];
      }
      // A plan without a kind is a disk plan: the branch whose kind is optional.
      if (!('kind' in value)) {
        const index = schema.oneOf.findIndex((b) => b.properties?.['kind'] !== undefined && !(b.required ?? []).includes('kind'));
        if (index >= 0) return errors[index];
      }
    }
    // Likewise when only one branch has the value's JSON type.
    const actual = typeOf(value);
    const sameType = schema.oneOf.flatMap((b, i) => (b.type === actual || (b.type === 'number' && actual === 'integer') ? [i] : []));
    if (sameType.length === 1) return errors[sameType[0]!];
    return `${path}: expected ${describe(schema)}, got ${show(value)}`;
  }
  if (schema.const !== undefined && value !== schema.const) return `${path}: expected ${show(schema.const)}, got ${show(value)}`;
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    return `${path}: expected one of ${schema.enum.map(show).join(', ')}, got ${show(value)}`;
  }
  if (schema.type !== undefined) {
    const actual = typeOf(value);
    const ok = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!ok) return `${path}: expected ${schema.type}, got ${show(value)}`;
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return `${path}: expected at least ${schema.minLength} characters, got ${show(value)}`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${path}: expected at most ${schema.maxLength} characters, got ${show(value)}`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${path}: ${show(value)} does not match ${schema.pattern}`;
  }
  if (typeof value === 'number' && schema.minimum !== undefined && value < schema.minimum) {
    return `${path}: expected at least ${schema.minimum}, got ${value}`;
  }
  if (typeof value === 'number' && schema.maximum !== undefined && value > schema.maximum) {
    return `${path}: expected at most ${schema.maximum}, got ${value}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return `${path}: expected at least ${schema.minItems} items, got ${value.length}`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${path}: expected at most ${schema.maxItems} items, got ${value.length}`;
    if (schema.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const error = validate(value[i], schema.items, `${path}[${i}]`);
        if (error !== undefined) return error;
      }
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!(key in record)) return `${path}: missing required field "${key}"`;
    }
    for (const [key, child] of Object.entries(record)) {
      const additional = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
      const sub = schema.properties?.[key] ?? additional;
      if (sub === undefined) {
        if (schema.additionalProperties === false) return `${path}: unknown field "${key}"`;
        continue;
      }
      const error = validate(child, sub, `${path}.${key}`);
      if (error !== undefined) return error;
    }
  }
  return undefined;
}
