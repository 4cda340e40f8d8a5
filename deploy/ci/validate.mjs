// Checks for deploy/ci/check.sh that go beyond the tools' own:
//
//   node deploy/ci/validate.mjs manifests FILE...      every object of rendered multi-document YAML against the
//                                                      Kubernetes (kubernetes-models) and Prometheus-operator
//                                                      schemas, strictly (unknown fields fail), plus cross-object
//                                                      checks (selectors, references, drain vs. grace period,
//                                                      SERVERV3_* keys against ServerOptions)
//   node deploy/ci/validate.mjs dashboard OUT.yml      the Grafana dashboard's structure; writes its queries and
//                                                      prometheus-adapter's as recording rules for promtool
//   node deploy/ci/validate.mjs prometheus-config DIR  copies prometheus.yml and alerts.yml to DIR with
//                                                      kubernetes_sd_configs swapped for static targets (Debian's
//                                                      promtool is built without Kubernetes discovery)
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml, stringify } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const errors = [];
const fail = (where, message) => errors.push(`${where}: ${message}`);

// ---------------------------------------------------------------------------------------------- schemas

/** The model class of apiVersion/kind, from kubernetes-models or @kubernetes-models/prometheus-operator. */
async function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const modulePath = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}`;
  try {
    return (await import(modulePath))[kind];
  } catch {
    return undefined;
  }
}

/**
 * Wraps a value so that every property the schema validator reads is recorded. The generated validators read each
 * property their schema declares and enumerate only maps (labels, annotations, resource lists), so a property that
 * was never read is one the schema does not know: a misspelt or misplaced field, which Kubernetes would drop (or,
 * with kubectl's strict field validation, refuse).
 */
function track(value, path, unread) {
  if (value === null || typeof value !== "object") return value;
  const read = new Set();
  const children = new Map();
  let enumerated = false;
  const proxy = new Proxy(value, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      read.add(key);
      if (child === null || typeof child !== "object" || !Object.hasOwn(target, key)) return child;
      if (!children.has(key)) children.set(key, track(child, Array.isArray(target) ? `${path}[${key}]` : `${path}.${key}`, unread));
      return children.get(key);
    },
    has(target, key) {
      if (typeof key === "string") read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
  if (!Array.isArray(value)) unread.push(() => (enumerated ? [] : Object.keys(value).filter((k) => !read.has(k)).map((k) => `${path}.${k}`)));
  return proxy;
}

async function validateSchema(object, where) {
  const Model = await modelClass(object.apiVersion, object.kind);
  if (!Model) return fail(where, `no schema known for ${object.apiVersion} ${object.kind}`);
  const unread = [];
  try {
    Model.prototype.validate.call(track(object, "", unread));
  } catch (e) {
    fail(where, `schema: ${e.message}`);
  }
  for (const field of unread.flatMap((f) => f())) fail(where, `unknown field ${field.slice(1)}`);
}

// ---------------------------------------------------------------------------------------------- manifests

/** ServerOptions' property names: the settings SERVERV3_<NAME> may set (configuration keys are case-insensitive). */
function serverSettings() {
  const source = readFileSync(join(root, "src/ServerV3.Server/Hosting/ServerOptions.cs"), "utf8");
  const names = [...source.matchAll(/public\s+[\w<>?,\s]+?\s+(\w+)\s*\{\s*get;\s*init;/g)].map((m) => m[1].toUpperCase());
  if (names.length < 10) throw new Error("could not read the settings out of ServerOptions.cs");
  return new Set([...names, "API_KEY"]);
}

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

/** Pod-level hardening every pod of the chart and the base has, the server's or the Helm test's. */
function podSpecChecks(name, spec, configMaps, secrets, settings) {
  if (spec.enableServiceLinks !== false) fail(name, "enableServiceLinks must be false (a Service named serverv3 would inject SERVERV3_PORT=tcp://...)");
  if (spec.automountServiceAccountToken !== false) fail(name, "automountServiceAccountToken should be false (the server needs no API access)");
  if (spec.securityContext?.runAsNonRoot !== true) fail(name, "pod securityContext.runAsNonRoot must be true");
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const where = `${name} container ${c.name}`;
    const sc = c.securityContext ?? {};
    if (sc.readOnlyRootFilesystem !== true) fail(where, "readOnlyRootFilesystem must be true");
    if (sc.allowPrivilegeEscalation !== false) fail(where, "allowPrivilegeEscalation must be false");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(where, "capabilities must drop ALL");
    for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) fail(where, `volumeMount ${m.name} has no volume`);
    for (const e of c.envFrom ?? []) {
      const ref = e.configMapRef?.name;
      if (ref && !configMaps.has(ref)) fail(where, `envFrom ConfigMap ${ref} is not among the rendered objects`);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref && secrets.has(ref.name) && !(ref.key in (secrets.get(ref.name).stringData ?? secrets.get(ref.name).data ?? {})))
        fail(where, `env ${e.name}: Secret ${ref.name} has no key ${ref.key}`);
      if (e.name.startsWith("SERVERV3_") && !settings.has(e.name.slice(9))) fail(where, `env ${e.name} is no ServerOptions setting`);
    }
  }
}

/** The server container: probes, /tmp, port, settings, and a grace period that covers the drain. */
function serverChecks(name, spec, configMaps) {
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  const server = spec.containers.find((c) => c.name === "serverv3");
  if (!server) return fail(name, "no container named serverv3");
  if (!(server.volumeMounts ?? []).some((m) => m.mountPath === "/tmp" && volumes.get(m.name)?.emptyDir))
    fail(name, "serverv3 needs an emptyDir at /tmp (its only writable path)");
  for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"])
    if (!server[probe]?.httpGet) fail(name, `serverv3 has no HTTP ${probe}`);
  if (server.livenessProbe?.httpGet?.path !== "/health") fail(name, "the liveness probe must be /health (/ready fails while draining or with the breaker open)");
  if (server.readinessProbe?.httpGet?.path !== "/ready") fail(name, "the readiness probe must be /ready");
  const port = server.ports?.find((p) => p.name === "http");
  if (!port) fail(name, "serverv3 has no container port named http");

  // The settings the container sees: its ConfigMaps, then explicit env.
  const env = {};
  for (const e of server.envFrom ?? []) Object.assign(env, configMaps.get(e.configMapRef?.name)?.data ?? {});
  for (const e of server.env ?? []) if ("value" in e) env[e.name] = e.value;
  if (port && env.SERVERV3_PORT && Number(env.SERVERV3_PORT) !== port.containerPort)
    fail(name, `SERVERV3_PORT ${env.SERVERV3_PORT} differs from containerPort ${port.containerPort}`);
  // SIGTERM comes after the preStop sleep; Kestrel then waits up to the drain timeout + 10 s.
  const drain = Number(env.SERVERV3_DRAINTIMEOUTSECONDS ?? 30);
  const preStop = server.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (grace < preStop + drain + 10)
    fail(name, `terminationGracePeriodSeconds ${grace} < preStop ${preStop} + drain ${drain} + 10: the kubelet would kill streams still draining`);
  if (env.SERVERV3_MODEL) {
    const mounted = (server.volumeMounts ?? []).some((m) => env.SERVERV3_MODEL === m.mountPath || env.SERVERV3_MODEL.startsWith(`${m.mountPath}/`));
    if (!mounted) fail(name, `SERVERV3_MODEL ${env.SERVERV3_MODEL} is on no mounted volume`);
  }
}

async function manifests(files) {
  const settings = serverSettings();
  for (const file of files) {
    const objects = [];
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      if (doc.errors.length) fail(basename(file), `YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      const object = doc.toJS();
      if (object) objects.push(object);
    }
    if (objects.length === 0) fail(basename(file), "no objects rendered");
    const named = (kind) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
    const configMaps = named("ConfigMap");
    const secrets = named("Secret");
    const deployments = named("Deployment");
    const services = [...named("Service").values()];
    const names = new Set();
    for (const object of objects) {
      const name = `${basename(file)}: ${object.kind}/${object.metadata?.name}`;
      if (!object.metadata?.name) fail(name, "metadata.name is missing");
      if (names.has(`${object.kind}/${object.metadata?.name}`)) fail(name, "rendered twice");
      names.add(`${object.kind}/${object.metadata?.name}`);
      await validateSchema(object, name);
      for (const [key] of Object.entries(object.kind === "ConfigMap" ? object.data ?? {} : {}))
        if (key.startsWith("SERVERV3_") && !settings.has(key.slice(9))) fail(name, `${key} is no ServerOptions setting`);
      if (object.kind === "Deployment") {
        const labels = object.spec.template.metadata?.labels;
        if (!matches(object.spec.selector.matchLabels, labels)) fail(name, "selector does not match the pod labels");
        podSpecChecks(name, object.spec.template.spec, configMaps, secrets, settings);
        serverChecks(name, object.spec.template.spec, configMaps);
      }
      if (object.kind === "Pod") podSpecChecks(name, object.spec, configMaps, secrets, settings);
      if (object.kind === "Service") {
        const targets = [...deployments.values()].filter((d) => matches(object.spec.selector, d.spec.template.metadata?.labels));
        if (targets.length !== 1) fail(name, `selects ${targets.length} deployments, not 1`);
        const ports = targets.flatMap((d) => d.spec.template.spec.containers.flatMap((c) => c.ports ?? []));
        for (const p of object.spec.ports)
          if (typeof p.targetPort === "string" && !ports.some((cp) => cp.name === p.targetPort)) fail(name, `targetPort ${p.targetPort} names no container port`);
      }
      if (object.kind === "PodDisruptionBudget" || object.kind === "ServiceMonitor") {
        const selected = object.kind === "ServiceMonitor"
          ? services.filter((s) => matches(object.spec.selector.matchLabels, s.metadata.labels))
          : [...deployments.values()].filter((d) => matches(object.spec.selector.matchLabels, d.spec.template.metadata?.labels));
        if (selected.length !== 1) fail(name, `selects ${selected.length} ${object.kind === "ServiceMonitor" ? "services" : "deployments"}, not 1`);
        if (object.kind === "ServiceMonitor")
          for (const e of object.spec.endpoints)
            if (!selected.some((s) => s.spec.ports.some((p) => p.name === e.port))) fail(name, `endpoint port ${e.port} is not a port of the service`);
      }
      if (object.kind === "HorizontalPodAutoscaler") {
        const target = object.spec.scaleTargetRef;
        if (target.kind !== "Deployment" || !deployments.has(target.name)) fail(name, `scaleTargetRef ${target.kind}/${target.name} is not rendered`);
        else if (deployments.get(target.name).spec.replicas !== undefined) fail(name, "the Deployment sets replicas, which fights the autoscaler");
        if (object.spec.minReplicas > object.spec.maxReplicas) fail(name, "minReplicas > maxReplicas");
      }
    }
    console.log(`${basename(file)}: ${objects.length} objects (${objects.map((o) => o.kind).join(", ")})`);
  }
}

// ---------------------------------------------------------------------------------------------- dashboard

function dashboard(out) {
  const file = join(root, "deploy/grafana/serverv3-dashboard.json");
  const d = JSON.parse(readFileSync(file, "utf8"));
  const where = "serverv3-dashboard.json";
  const variables = new Set(d.templating.list.map((v) => v.name));
  const builtins = new Set(["__rate_interval", "__interval", "__range", "__all"]);
  const rules = [];
  const ids = new Set();
  const substitute = (expr) => expr.replaceAll("$__rate_interval", "5m").replaceAll("$__interval", "1m").replaceAll("$__range", "1h").replace(/\$(\w+)/g, ".*");
  const checkVariables = (expr, at) => {
    for (const [, v] of expr.matchAll(/\$\{?(\w+)/g)) if (!variables.has(v) && !builtins.has(v)) fail(at, `undefined variable $${v}`);
  };
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  for (const p of panels) {
    const at = `${where}: panel ${p.id} "${p.title}"`;
    if (ids.has(p.id)) fail(at, "duplicate panel id");
    ids.add(p.id);
    const g = p.gridPos;
    if (!g || g.x + g.w > 24 || g.w <= 0 || g.h <= 0) fail(at, "gridPos outside the 24-column grid");
    if (p.type === "row") continue;
    if (!p.title || !p.description) fail(at, "needs a title and a description");
    if (!p.targets?.length) fail(at, "has no queries");
    for (const t of p.targets ?? []) {
      if (t.datasource?.uid !== "${datasource}") fail(at, "queries must use the ${datasource} variable");
      if (!t.expr) { fail(at, `target ${t.refId} has no expr`); continue; }
      checkVariables(t.expr, at);
      rules.push({ record: `dashboard:panel_${p.id}_${t.refId.toLowerCase()}`, expr: substitute(t.expr) });
    }
  }
  for (const v of d.templating.list.filter((v) => v.type === "query")) {
    const m = /^label_values\((.*),\s*(\w+)\)$/.exec(v.query.query);
    if (!m) { fail(`${where}: variable ${v.name}`, "expected label_values(SELECTOR, LABEL)"); continue; }
    checkVariables(m[1], `${where}: variable ${v.name}`);
    rules.push({ record: `dashboard:variable_${v.name}`, expr: substitute(m[1]) });
  }
  // prometheus-adapter's metricsQuery templates, filled in as the adapter does.
  const adapter = parseYaml(readFileSync(join(root, "deploy/prometheus/prometheus-adapter-values.yaml"), "utf8"));
  for (const [kind, list] of Object.entries(adapter.rules).filter(([k]) => k !== "default"))
    list.forEach((r, i) => {
      const series = /^(\w+)/.exec(r.seriesQuery)[1];
      rules.push({ record: `adapter:${kind}_${i}`, expr: r.metricsQuery.replaceAll("<<.Series>>", series).replaceAll("<<.LabelMatchers>>", 'namespace="x"').replaceAll("<<.GroupBy>>", "pod") });
    });
  writeFileSync(out, stringify({ groups: [{ name: "queries", rules }] }));
  console.log(`${where}: ${panels.length} panels, ${rules.length} queries written to ${out}`);
}

// ---------------------------------------------------------------------------------------------- prometheus.yml

function prometheusConfig(dir) {
  mkdirSync(dir, { recursive: true });
  const config = parseYaml(readFileSync(join(root, "deploy/prometheus/prometheus.yml"), "utf8"));
  for (const job of config.scrape_configs) {
    if (!job.kubernetes_sd_configs) continue;
    for (const sd of job.kubernetes_sd_configs)
      if (!["pod", "service", "endpoints", "endpointslice", "node", "ingress"].includes(sd.role)) fail(`prometheus.yml: job ${job.job_name}`, `unknown kubernetes_sd role ${sd.role}`);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ["10.0.0.1:8000"] }];
  }
  writeFileSync(join(dir, "prometheus.yml"), stringify(config));
  for (const rules of config.rule_files) copyFileSync(join(root, "deploy/prometheus", rules), join(dir, rules));
}

// ----------------------------------------------------------------------------------------------

const [command, ...args] = process.argv.slice(2);
if (command === "manifests") await manifests(args);
else if (command === "dashboard") dashboard(args[0]);
else if (command === "prometheus-config") prometheusConfig(args[0]);
else {
  console.error("usage: validate.mjs manifests FILE... | dashboard OUT.yml | prometheus-config DIR");
  process.exit(2);
}
if (errors.length) {
  for (const e of errors) console.error(`error: ${e}`);
  process.exit(1);
}
