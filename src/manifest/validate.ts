/**
 * Cross-field rules the schema cannot express: every template parses and refers to known names,
 * secret templates have no cycles, per-environment maps cover every environment, variables take their
 * value from exactly one source, services and vault keys referred to exist.
 */
import type { Manifest, PerEnvironment } from './schema.js';
import { TemplateSyntaxError, parseTemplate, templateReferences } from './template.js';

export interface ManifestIssue {
  path: (string | number)[];
  message: string;
}

function isPerEnvironmentMap(v: PerEnvironment | undefined): v is Record<string, string | number | boolean> {
  return typeof v === 'object' && v !== null;
}

export function validateManifest(m: Manifest): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const envNames = Object.keys(m.environments);
  const secrets = m.secrets ?? {};
  const settings = m.settings ?? {};
  const services = m.services ?? {};
  const variables = m.variables ?? {};

  if (envNames.length === 0) issues.push({ path: ['environments'], message: 'declare at least one environment' });

  /** A per-environment map must name only declared environments and cover each (or have `default`). */
  const checkPerEnvironment = (v: PerEnvironment | undefined, path: (string | number)[], mustCover: boolean) => {
    if (!isPerEnvironmentMap(v)) return;
    for (const key of Object.keys(v)) {
      if (key !== 'default' && !envNames.includes(key)) {
        issues.push({ path: [...path, key], message: `unknown environment '${key}' (declared: ${envNames.join(', ') || 'none'})` });
      }
    }
    if (mustCover && !('default' in v)) {
      const missing = envNames.filter((e) => !(e in v));
      if (missing.length) {
        issues.push({ path, message: `no value for environment${missing.length > 1 ? 's' : ''} ${missing.map((e) => `'${e}'`).join(', ')} (add it or a 'default')` });
      }
    }
  };

  for (const [name, value] of Object.entries(settings)) {
    checkPerEnvironment(value, ['settings', name], true);
    if (name in secrets) issues.push({ path: ['settings', name], message: `'${name}' is both a setting and a secret key; template references would be ambiguous` });
  }

  const knownNames = new Set([...Object.keys(secrets), ...Object.keys(settings)]);
  /** Parses a template and checks its references; returns the referenced names when valid. */
  const checkTemplate = (template: string, path: (string | number)[]): string[] => {
    try {
      parseTemplate(template);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) {
        issues.push({ path, message: `bad template: ${e.message}` });
        return [];
      }
      throw e;
    }
    const refs = templateReferences(template);
    for (const ref of refs) {
      if (!knownNames.has(ref)) issues.push({ path, message: `bad template: '{${ref}}' is neither a secret key nor a setting` });
    }
    if (refs.length === 0) issues.push({ path, message: 'bad template: it refers to no secret or setting (use value: instead)' });
    return refs;
  };

  const secretDeps = new Map<string, string[]>();
  for (const [key, spec] of Object.entries(secrets)) {
    const path = ['secrets', key];
    checkPerEnvironment(spec.default, [...path, 'default'], false);
    if (spec.template !== undefined) {
      secretDeps.set(key, checkTemplate(spec.template, [...path, 'template']).filter((r) => r in secrets));
      if (spec.generate !== undefined) issues.push({ path: [...path, 'generate'], message: 'a templated key is derived from others; it cannot also be generated' });
      if (spec.default !== undefined) issues.push({ path: [...path, 'default'], message: 'a templated key is derived from others; it cannot also have a default' });
    }
    if (spec.generate !== undefined && spec.default !== undefined) {
      issues.push({ path: [...path, 'default'], message: 'a generated key cannot also have a default' });
    }
    if (typeof spec.format === 'object') {
      try {
        new RegExp(spec.format.regex, 'u');
      } catch (e) {
        issues.push({ path: [...path, 'format', 'regex'], message: `invalid regular expression: ${(e as Error).message}` });
      }
    }
  }

  // Cycles among templated secrets (a → b → a) would make `init` and `check` loop.
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (key: string, trail: string[]) => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(key)), key];
      const first = cycle[0] as string;
      if (!reported.has(first)) {
        cycle.forEach((k) => reported.add(k));
        issues.push({ path: ['secrets', first, 'template'], message: `template cycle: ${cycle.join(' → ')}` });
      }
      return;
    }
    state.set(key, 'visiting');
    for (const dep of secretDeps.get(key) ?? []) visit(dep, [...trail, key]);
    state.set(key, 'done');
  };
  for (const key of secretDeps.keys()) visit(key, []);

  for (const [name, spec] of Object.entries(variables)) {
    const path = ['variables', name];
    const sources = (['secret', 'template', 'value'] as const).filter((s) => spec[s] !== undefined);
    if (sources.length === 0) issues.push({ path, message: 'needs a value: one of secret, template or value' });
    if (sources.length > 1) issues.push({ path, message: `has ${sources.join(' and ')}; give exactly one of secret, template or value` });
    if (spec.secret !== undefined && !(spec.secret in secrets)) {
      issues.push({ path: [...path, 'secret'], message: `'${spec.secret}' is not declared under secrets` });
    }
    if (spec.template !== undefined) checkTemplate(spec.template, [...path, 'template']);
    checkPerEnvironment(spec.value, [...path, 'value'], !spec.optional);
    (spec.services ?? []).forEach((service, i) => {
      if (!(service in services)) {
        const declared = Object.keys(services);
        issues.push({ path: [...path, 'services', i], message: `unknown service '${service}' (declared: ${declared.join(', ') || 'none'})` });
      }
    });
    if (spec.podman && spec.secret === undefined && spec.template === undefined) {
      issues.push({ path: [...path, 'podman'], message: 'only a variable from a secret or template can be delivered as a podman secret' });
    }
  }

  const podmanNames = new Map<string, string>();
  for (const [name, spec] of Object.entries(variables)) {
    if (!spec.podman) continue;
    const other = podmanNames.get(spec.podman.secret);
    if (other) issues.push({ path: ['variables', name, 'podman', 'secret'], message: `podman secret '${spec.podman.secret}' is already used by ${other}` });
    else podmanNames.set(spec.podman.secret, name);
  }
  return issues;
}
