import { isDeepStrictEqual } from 'node:util';

/**
 * Named components out of inlined schemas. Every TypeBox schema a client names carries a `title`
 * (User, Property, TokenPair…); the routes keep using the schema objects themselves, so validation
 * and serialisation stay on the very definitions the document shows. Here, in the finished
 * document, each titled schema moves to `components.schemas` under its title and every place it
 * appeared gets a `$ref`. Two different schemas with one title are a programming error.
 */

export type JsonSchema = { [key: string]: unknown };
type Components = Record<string, JsonSchema>;

const NAME = /^[A-Z][A-Za-z0-9]*$/;
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SCHEMA_VALUES = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs'];

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function nameSchemas(schema: unknown, components: Components): unknown {
  if (!isObject(schema)) return schema;
  const out: JsonSchema = { ...schema };
  for (const key of SCHEMA_LISTS) {
    if (Array.isArray(out[key])) out[key] = out[key].map((item) => nameSchemas(item, components));
  }
  for (const key of SCHEMA_VALUES) {
    if (isObject(out[key])) out[key] = nameSchemas(out[key], components);
  }
  for (const key of SCHEMA_MAPS) {
    const map = out[key];
    if (!isObject(map)) continue;
    out[key] = Object.fromEntries(
      Object.entries(map).map(([name, value]) => [name, nameSchemas(value, components)]),
    );
  }
  const title = out.title;
  if (typeof title !== 'string' || !NAME.test(title)) return out;
  const known = components[title];
  if (known && !isDeepStrictEqual(known, out)) {
    throw new Error(`Two different schemas are both named ${title} in the OpenAPI document`);
  }
  components[title] = out;
  return { $ref: `#/components/schemas/${title}` };
}

interface Media {
  schema?: unknown;
}
interface Operation {
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
}

/**
 * Names the schemas of every operation's bodies and responses, in place. Parameters stay inline:
 * @fastify/swagger moves their descriptions out of the schema, and they are single values.
 */
export function nameOperationSchemas(operation: Operation, components: Components): void {
  const media = [
    ...Object.values(operation.requestBody?.content ?? {}),
    ...Object.values(operation.responses ?? {}).flatMap((r) => Object.values(r.content ?? {})),
  ];
  for (const item of media) item.schema = nameSchemas(item.schema, components);
}
