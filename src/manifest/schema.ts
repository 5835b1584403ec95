/**
 * The zod schema of `vaultsmith.yaml`. It is the single source of truth: the TypeScript types below
 * and the published JSON Schema (`schema/vaultsmith.schema.json`, see `schema/generate.ts`) both come
 * from it. Keep it free of transforms so the JSON Schema export stays exact; cross-field rules
 * (templates, cycles, per-environment maps) live in `validate.ts`.
 */
import { z } from 'zod';

export const GENERATOR_KINDS = ['django-secret-key', 'fernet', 'base64', 'hex', 'token-urlsafe', 'password'] as const;
export const FORMAT_NAMES = ['fernet', 'django-secret-key', 'url', 'host', 'port', 'email'] as const;
export const ROTATION_STRATEGIES = [
  'postgres',
  'postgres-alternating',
  'redis',
  'django-secret-key',
  'fernet',
  'command',
  'manual',
] as const;

/** `90d`, `12h`, `2w`: a number and one unit (s, m, h, d, w). */
export const DURATION_PATTERN = /^[1-9][0-9]*[smhdw]$/;
/** Names usable in templates: vault keys and settings. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Environment variable names. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** A literal, or a map from environment name (or `default`) to a literal. */
const perEnvironment = z.union([scalar, z.record(z.string(), scalar)], {
  error: 'expected a string, number or boolean, or a map from environment name (or default) to one',
});
const duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as "90d", "12h" or "2w"');

const generatorSpec = z.union([
  z.enum(GENERATOR_KINDS),
  z.strictObject({
    kind: z.enum(GENERATOR_KINDS),
    bytes: z.number().int().positive().optional(),
    length: z.number().int().positive().optional(),
    charset: z.string().min(1).optional(),
  }),
]);

const formatSpec = z.union([z.enum(FORMAT_NAMES), z.strictObject({ regex: z.string().min(1) })]);

/**
 * Common rotation fields are validated; strategy-specific options (connection settings, commands,
 * ...) pass through so the rotation module can define and validate them itself.
 */
const rotationSpec = z.looseObject({
  strategy: z.enum(ROTATION_STRATEGIES),
  period: duration,
  grace: duration.optional(),
});

const secretSpec = z.strictObject({
  description: z.string().optional(),
  /** A comment header grouping keys in the vault file written by `init`. */
  group: z.string().optional(),
  generate: generatorSpec.optional().describe('generator for a fresh value (init, set --generate, rotation): a kind or {kind, bytes, length, charset}'),
  /** A non-secret value written by `init` (a literal or per environment). */
  default: perEnvironment.optional().describe('non-secret value written by init: a literal or {<env>: value, default: value}'),
  /** What `init` writes for a value only a person can supply; `check` reports it until replaced. */
  placeholder: z.string().optional().describe('what init writes for a value only a person can supply; check reports it until replaced'),
  required: z.boolean().optional().describe('whether check requires the key (default true)'),
  format: formatSpec.optional().describe('format check: fernet, django-secret-key, url, host, port, email or {regex}'),
  /** Minimum estimated strength in bits (length × log2 of the character classes used). */
  min_strength: z.number().int().positive().optional().describe('minimum estimated strength in bits'),
  /** A value derived from other keys and settings, e.g. `redis://:{vault_redis_password}@redis:6379`. */
  template: z.string().optional().describe('derived value over other keys and settings: {name}, {name|url}; check compares the stored value'),
  rotation: rotationSpec.optional().describe('rotation strategy and period; strategy-specific options allowed'),
});

const podmanSpec = z.strictObject({
  secret: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'invalid podman secret name'),
  type: z.enum(['env', 'mount']).optional(),
  target: z.string().optional(),
});

const variableSpec = z.strictObject({
  description: z.string().optional(),
  services: z.array(z.string()).optional(),
  secret: z.string().optional().describe('the vault key whose value the variable takes'),
  template: z.string().optional().describe('template over vault keys and settings, e.g. redis://:{vault_redis_password}@redis:6379/0'),
  value: perEnvironment.optional().describe('a literal, or {<env>: value, default: value}'),
  optional: z.boolean().optional().describe('the variable may be absent (rendered only when it has a value)'),
  podman: podmanSpec.optional().describe('deliver as a podman secret (Quadlet Secret=NAME,type=env|mount,target=...)'),
});

const environmentSpec = z.strictObject({
  vault: z.string().min(1).describe('vault file path, relative to the manifest'),
  vault_id: z
    .string()
    .regex(/^[^@\s]+@\S+$/, 'expected "<label>@<password source>", e.g. "production@~/.vault_pass_production"')
    .describe('vault id as for --vault-id: <label>@<password file, script or prompt>'),
  production: z.boolean().optional().describe('stricter checks (DEBUG must be false)'),
});

const serviceSpec = z.strictObject({
  description: z.string().optional(),
  restart: z.string().optional().describe('command that restarts the service, e.g. systemctl --user restart django.service'),
  health: z.string().optional().describe('command that exits 0 when the service is healthy'),
  unit: z.string().optional().describe('Quadlet unit file name, e.g. django.container'),
});

/** Owned by the audit module; common shape validated here so manifests with it load. */
const auditSpec = z.looseObject({
  enabled: z.boolean().optional(),
  /** The JSON-lines log; `false` turns the file sink off (e.g. PostgreSQL only). */
  file: z.union([z.string(), z.literal(false)]).optional(),
  key_file: z.string().optional(),
  postgres: z
    .union([
      z.looseObject({
        url_env: z.string().regex(VARIABLE_NAME_PATTERN).optional(),
        table: z.string().optional(),
      }),
      z.literal(false),
    ])
    .optional(),
});

export const manifestSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1),
  project: z.string().min(1),
  environments: z.record(z.string().regex(NAME_PATTERN, 'invalid environment name'), environmentSpec),
  settings: z.record(z.string().regex(NAME_PATTERN, 'invalid setting name'), perEnvironment).optional(),
  secrets: z.record(z.string().regex(NAME_PATTERN, 'invalid secret key'), secretSpec).optional(),
  variables: z.record(z.string().regex(VARIABLE_NAME_PATTERN, 'invalid variable name'), variableSpec).optional(),
  services: z.record(z.string().min(1), serviceSpec).optional(),
  audit: auditSpec.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type EnvironmentSpec = z.infer<typeof environmentSpec>;
export type SecretSpec = z.infer<typeof secretSpec>;
export type VariableSpec = z.infer<typeof variableSpec>;
export type ServiceSpec = z.infer<typeof serviceSpec>;
export type RotationSpec = z.infer<typeof rotationSpec>;
export type GeneratorSpecInput = z.infer<typeof generatorSpec>;
export type FormatSpec = z.infer<typeof formatSpec>;
export type Scalar = z.infer<typeof scalar>;
export type PerEnvironment = z.infer<typeof perEnvironment>;

/** The JSON Schema published for editors (yaml-language-server `$schema` / schema stores). */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'vaultsmith.yaml',
    description: 'vaultsmith project manifest: environments, vault keys, the environment-variable contract and services',
    ...schema,
  };
}
