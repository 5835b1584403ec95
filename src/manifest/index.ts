/** The project manifest `vaultsmith.yaml`: schema, loader, templates, environments, variables. */
export {
  findManifest,
  loadManifest,
  parseManifest,
  formatIssue,
  ManifestError,
  MANIFEST_FILE_NAMES,
  type LoadedManifest,
  type LocatedIssue,
} from './loader.js';
export {
  manifestSchema,
  manifestJsonSchema,
  GENERATOR_KINDS,
  FORMAT_NAMES,
  ROTATION_STRATEGIES,
  type Manifest,
  type EnvironmentSpec,
  type SecretSpec,
  type VariableSpec,
  type ServiceSpec,
  type RotationSpec,
  type FormatSpec,
  type PerEnvironment,
} from './schema.js';
export { validateManifest, type ManifestIssue } from './validate.js';
export { parseTemplate, renderTemplate, templateReferences, TemplateSyntaxError } from './template.js';
export {
  renderVariables,
  resolveVariable,
  settingsFor,
  valueForEnvironment,
  expectedTemplateValue,
  templatedKeysInOrder,
  dependentKeys,
  scalarToString,
  maskValue,
  maskedKeyValue,
  assertEnvironment,
  RESERVED_KEY_PREFIX,
  type ResolvedVariable,
  type VariableResolution,
} from './resolve.js';
export {
  openEnvironment,
  locateEnvironment,
  loadEnvironmentSecrets,
  parseVaultValues,
  type OpenEnvironment,
  type EnvironmentLocation,
  type EnvironmentContext,
} from './environment.js';
