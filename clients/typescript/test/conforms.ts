/**
 * Does a response body have exactly the shape docs/openapi.json gives for its path, method and
 * status, and does the response carry the headers it declares (required ones present, each
 * matching its schema)? Strict where the schema is silent: an object may carry no key that is
 * not declared.
 * Enough JSON Schema for what drf-spectacular writes: $ref, allOf, oneOf, nullable, enum, type, format
 * (date-time), pattern, required, properties, additionalProperties, minProperties, items.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { ROOT } from "./backend.js";

type Schema = {
  $ref?: string;
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  enum?: unknown[];
  type?: string;
  format?: string;
  pattern?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  items?: Schema;
};

type Operation = {
  responses: Record<
    string,
    { content?: Record<string, { schema: Schema }>; headers?: Record<string, { schema: Schema; required?: boolean }> }
  >;
};

const document = JSON.parse(readFileSync(join(ROOT, "docs/openapi.json"), "utf8")) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function violations(schema: Schema, value: unknown, at = "body"): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = document.components.schemas[name];
    return target ? violations(target, value, at) : [`${at}: ${schema.$ref} is not in the document`];
  }
  if (value === null) return schema.nullable ? [] : [`${at}: null where the schema says not nullable`];
  if (schema.allOf) return schema.allOf.flatMap((part) => violations(part, value, at));
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((option) => violations(option, value, at).length === 0).length;
    return matching === 1 ? [] : [`${at}: matches ${matching} of the ${schema.oneOf.length} oneOf schemas`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum}`];
  switch (schema.type) {
    case "string":
      if (typeof value !== "string") return [`${at}: ${JSON.stringify(value)} is not a string`];
      if (schema.format === "date-time" && !ISO_DATETIME.test(value)) return [`${at}: ${value} is not ISO 8601`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) return [`${at}: ${value} !~ ${schema.pattern}`];
      return [];
    case "integer":
      return Number.isInteger(value) ? [] : [`${at}: ${JSON.stringify(value)} is not an integer`];
    case "number":
      return typeof value === "number" ? [] : [`${at}: ${JSON.stringify(value)} is not a number`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${at}: ${JSON.stringify(value)} is not a boolean`];
    case "array":
      return Array.isArray(value)
        ? value.flatMap((item, index) => violations(schema.items ?? {}, item, `${at}[${index}]`))
        : [`${at}: not an array`];
  }
  if (schema.type === "object" || schema.properties) {
    if (typeof value !== "object" || Array.isArray(value)) return [`${at}: not an object`];
    const object = value as Record<string, unknown>;
    const problems = (schema.required ?? [])
      .filter((key) => !(key in object))
      .map((key) => `${at}.${key}: missing`);
    if (schema.minProperties !== undefined && Object.keys(object).length < schema.minProperties) {
      problems.push(`${at}: fewer than ${schema.minProperties} keys`);
    }
    for (const [key, item] of Object.entries(object)) {
      const declared = schema.properties?.[key];
      if (declared) problems.push(...violations(declared, item, `${at}.${key}`));
      else if (typeof schema.additionalProperties === "object") {
        problems.push(...violations(schema.additionalProperties, item, `${at}.${key}`));
      } else if (schema.additionalProperties !== true) problems.push(`${at}.${key}: not in the schema`);
    }
    return problems;
  }
  return [`${at}: the schema ${JSON.stringify(schema)} says nothing checkable`];
}

/** Violations of the documented response for `method schemaPath` with this status and body. */
export function responseViolations(schemaPath: string, method: string, status: number, body: unknown): string[] {
  const operation = document.paths[schemaPath]?.[method.toLowerCase()];
  if (!operation) return [`${method} ${schemaPath} is not in the document`];
  const response = operation.responses[String(status)];
  if (!response) return [`${method} ${schemaPath}: status ${status} is not documented`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return body === undefined ? [] : [`${method} ${schemaPath} ${status}: a body where none is documented`];
  return violations(schema, body, `${method} ${schemaPath} ${status}`);
}

/** Violations of the headers the document declares for `method schemaPath` with this status. */
export function headerViolations(schemaPath: string, method: string, status: number, headers: Headers): string[] {
  const declared = document.paths[schemaPath]?.[method.toLowerCase()]?.responses[String(status)]?.headers ?? {};
  return Object.entries(declared).flatMap(([name, { schema, required }]) => {
    const value = headers.get(name);
    if (value === null) return required ? [`${method} ${schemaPath} ${status}: no ${name} header`] : [];
    return violations(schema, value, `${method} ${schemaPath} ${status} ${name} header`);
  });
}
