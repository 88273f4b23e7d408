import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';

const run = promisify(execFile);

/** A Kubernetes object as the tests read it. */
export interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string> }

/** Every YAML document of a multi-document text that is an object. */
export function manifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => Boolean(m?.kind));
}

/** The folders directly under `dir`, sorted. */
export function folders(dir: string): string[] {
  return readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()).sort();
}

interface ChartDependency { name: string; version: string; repository: string }

/**
 * Renders one app folder of deploy/argocd (a Helm chart) with the real helm, offline: a
 * `file://` dependency (the Sluice chart) is built from this repository, a dependency on a
 * remote chart repository (an operator's chart) cannot be fetched here and is left out, so
 * what renders is this repository's own objects. Returns them and the dependencies left out.
 */
export async function renderApp(helm: string, folder: string, o: { release: string; namespace: string; apiVersions: readonly string[]; set?: readonly string[] }): Promise<{ yaml: string; objects: Manifest[]; remote: ChartDependency[] }> {
  const copy = mkdtempSync(join(tmpdir(), 'sluice-app-'));
  try {
    return await renderCopy(helm, folder, copy, o);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

async function renderCopy(helm: string, folder: string, copy: string, o: { release: string; namespace: string; apiVersions: readonly string[]; set?: readonly string[] }): Promise<{ yaml: string; objects: Manifest[]; remote: ChartDependency[] }> {
  cpSync(folder, copy, { recursive: true });
  const chart = parse(readFileSync(join(copy, 'Chart.yaml'), 'utf8')) as { dependencies?: ChartDependency[] };
  const deps = chart.dependencies ?? [];
  const remote = deps.filter((d) => !d.repository.startsWith('file://'));
  const local = deps.filter((d) => d.repository.startsWith('file://')).map((d) => ({ ...d, repository: `file://${resolve(folder, d.repository.slice('file://'.length))}` }));
  writeFileSync(join(copy, 'Chart.yaml'), stringify({ ...chart, dependencies: local.length ? local : undefined }));
  if (local.length) await run(helm, ['dependency', 'build', copy], { timeout: 60_000 });
  const args = ['template', o.release, copy, '--namespace', o.namespace, '--kube-version', '1.34.4', ...o.apiVersions.flatMap((a) => ['--api-versions', a]), ...(o.set ?? []).flatMap((v) => ['--set', v])];
  const { stdout } = await run(helm, args, { maxBuffer: 16 << 20, timeout: 60_000 });
  return { yaml: stdout, objects: manifests(stdout), remote };
}

interface GitDirectory { path: string; exclude?: boolean }
interface ApplicationSetSpec {
  generators: { git?: { repoURL: string; revision: string; directories: GitDirectory[] } }[];
  template: Record<string, unknown>;
  goTemplateOptions?: string[];
}

// Go's path.Match for the directory generator's patterns: `*` and `?` stay within one
// path segment, as Argo CD documents.
function matches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return false;
  return p.every((seg, i) => new RegExp(`^${seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(s[i]!));
}

// Every directory of the repository, relative to it, skipping what git does not hold.
function allDirectories(repo: string, dir = repo): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.git' || name === 'node_modules') continue;
    const full = join(dir, name);
    if (!statSync(full).isDirectory()) continue;
    out.push(relative(repo, full), ...allDirectories(repo, full));
  }
  return out;
}

// The Go template of an ApplicationSet with the git directory generator's parameters;
// `missingkey=error` makes an unknown parameter an error, as Argo CD does with that option.
function fill(value: unknown, params: Record<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (_, key: string) => {
      if (!(key in params)) throw new Error(`template parameter .${key} does not exist (missingkey=error)`);
      return params[key]!;
    });
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, params));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, params)]));
  return value;
}

/**
 * The Applications an ApplicationSet's git directory generator yields for this repository,
 * by Argo CD's documented rules: each `directories` entry is a path pattern matched against
 * the repository's directories, an `exclude: true` entry removes what it matches, and the
 * template is filled with `path.path`, `path.basename`, `path.basenameNormalized` and
 * `path[n]` for each directory.
 */
export function generatedApplications(appset: { spec: ApplicationSetSpec; metadata: { namespace?: string } }, repo: string): Manifest[] {
  const dirs = allDirectories(repo);
  const apps: Manifest[] = [];
  for (const g of appset.spec.generators) {
    if (!g.git) throw new Error('only the git directory generator is read here');
    const include = g.git.directories.filter((d) => !d.exclude);
    const exclude = g.git.directories.filter((d) => d.exclude);
    const picked = dirs.filter((d) => include.some((i) => matches(i.path, d)) && !exclude.some((e) => matches(e.path, d))).sort();
    for (const path of picked) {
      const segments = path.split('/');
      const basename = segments.at(-1)!;
      const params: Record<string, string> = { 'path.path': path, 'path.basename': basename, 'path.basenameNormalized': basename.toLowerCase().replace(/[^a-z0-9-]/g, '-') };
      segments.forEach((s, i) => { params[`path[${i}]`] = s; });
      const t = fill(appset.spec.template, params) as { metadata: Manifest['metadata']; spec: Record<string, unknown> };
      apps.push({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { ...t.metadata, namespace: appset.metadata.namespace }, spec: t.spec });
    }
  }
  return apps;
}

/**
 * CRDs with no schema for the operators whose real CRDs no registry here carries (Strimzi,
 * Altinity's ClickHouse operator): the API server then checks only what every object has
 * (kind, version, name, namespace, labels, annotations). The tests check the specs' fields
 * themselves.
 */
export function schemalessCrds(): string {
  const crd = (group: string, version: string, kind: string, plural: string) => ({
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group, scope: 'Namespaced', names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  return [
    crd('kafka.strimzi.io', 'v1beta2', 'Kafka', 'kafkas'),
    crd('kafka.strimzi.io', 'v1beta2', 'KafkaNodePool', 'kafkanodepools'),
    crd('kafka.strimzi.io', 'v1beta2', 'KafkaTopic', 'kafkatopics'),
    crd('kafka.strimzi.io', 'v1beta2', 'KafkaUser', 'kafkausers'),
    crd('clickhouse.altinity.com', 'v1', 'ClickHouseInstallation', 'clickhouseinstallations'),
  ].map((c) => JSON.stringify(c)).join('\n');
}
