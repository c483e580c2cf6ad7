#!/usr/bin/env bash
#
# Validate the deployment files offline: everything that can be checked without a Docker
# engine or a Kubernetes cluster (neither is needed, nor used; no container is run).
#
#   deploy/validate.sh
#
# What it checks (deploy/README.md, "What was validated"):
#   - every YAML file under deploy/ parses, multi-document files too, without duplicate keys;
#   - docker-compose.yml: its structure (image or build, depends_on targets and conditions,
#     health checks where they are waited on or the service runs long, volumes, ports), the
#     Compose Specification's JSON schema (check-jsonschema), and `docker compose config`
#     when the Docker CLI has the compose plugin;
#   - deploy/Dockerfile and /.dockerignore: stages, non-root user, HEALTHCHECK, offline sqlx,
#     the binaries built exist, nothing the build needs is ignored, secrets are;
#   - deploy/k8s/: every object has apiVersion, kind and metadata.name; kustomization
#     resources exist; references between objects resolve (selectors, Services, Ingress,
#     HPA, PDB, ConfigMap and Secret keys, probe ports); commands name real subcommands;
#     every environment variable is one the binaries read; the NATS values and stream ask for
#     3 replicas; built-in kinds against the Kubernetes OpenAPI schemas (kubernetes-validate,
#     strict) and the kustomization rendered with `kubectl kustomize` when kubectl exists.
#
# Python 3 with PyYAML is required; the script makes a virtualenv in .data/validate-venv
# (git-ignored; CAREOPS_VALIDATE_VENV overrides) and installs PyYAML, kubernetes-validate and
# check-jsonschema from PyPI when missing. PyYAML missing and not installable is an error;
# the optional tools missing are reported as skipped checks. kubeconform and helm are not
# used (no offline install).
#
# It reaches no network but PyPI (for those installs), and only when a package is missing.
#
# Exit code: 0 when every check passes, 1 when one fails, 3 when it cannot run at all (no
# python3, or PyYAML neither importable nor installable): deploy/test.sh reports that as
# skipped rather than failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
deploy="$root/deploy"
venv=${CAREOPS_VALIDATE_VENV:-$root/.data/validate-venv}
k8s_version=${CAREOPS_VALIDATE_K8S_VERSION:-1.30.0} # oldest Kubernetes the manifests target

log() { printf 'validate: %s\n' "$*" >&2; }
# A prerequisite is missing: nothing was checked (exit 3, see the header).
cannot_run() {
  printf 'validate: cannot run: %s\n' "$*" >&2
  exit 3
}

# --- Python and its packages ----------------------------------------------------------------

command -v python3 >/dev/null 2>&1 || cannot_run "python3 not found (apt-get install python3 python3-venv)"

pip_install() { # PYTHON PACKAGE...
  local python=$1
  shift
  "$python" -m pip install --disable-pip-version-check --retries 2 --timeout 20 -q "$@" >&2
}

python=""
if [[ -x $venv/bin/python ]] || python3 -m venv "$venv" >/dev/null 2>&1; then
  python="$venv/bin/python"
  if ! "$python" -c 'import yaml' 2>/dev/null; then
    log "installing PyYAML into $venv"
    pip_install "$python" 'pyyaml>=6' || python=""
  fi
fi
if [[ -z $python ]]; then
  # No virtualenv (Debian without python3-venv): the system Python, PyYAML for the user.
  python=python3
  if ! "$python" -c 'import yaml' 2>/dev/null; then
    log "installing PyYAML for the current user (pip install --user)"
    pip_install "$python" --user 'pyyaml>=6' || cannot_run "PyYAML is missing and could not be installed (apt-get install python3-yaml)"
  fi
fi
"$python" -c 'import yaml' 2>/dev/null || cannot_run "PyYAML is not importable by $python"

# Optional schema validators, only into our own virtualenv.
if [[ $python == "$venv/bin/python" ]]; then
  if ! "$python" -c 'import kubernetes_validate' 2>/dev/null; then
    log "installing kubernetes-validate into $venv"
    pip_install "$python" 'kubernetes-validate>=1.30' || log "kubernetes-validate not installable; its checks are skipped"
  fi
  if [[ ! -x $venv/bin/check-jsonschema ]]; then
    log "installing check-jsonschema into $venv"
    pip_install "$python" 'check-jsonschema>=0.28' || log "check-jsonschema not installable; its check is skipped"
  fi
fi

# --- External tools: results are handed to the Python checks as files -------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/external" # lines: "ok|FAIL|skip<TAB>message"
external() { printf '%s\t%s\n' "$1" "$2" >>"$work/external"; }

compose="$deploy/docker-compose.yml"

# The Compose Specification's JSON schema (vendored in check-jsonschema: no download).
if [[ -x $venv/bin/check-jsonschema ]]; then
  if "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose" >"$work/compose-schema.log" 2>&1; then
    external ok "docker-compose.yml matches the Compose Specification schema"
  else
    external FAIL "docker-compose.yml does not match the Compose Specification schema:
$(sed 's/^/    /' "$work/compose-schema.log")"
  fi
else
  external skip "Compose Specification schema (check-jsonschema not available)"
fi

# `docker compose config` parses, interpolates and normalises the file without a Docker
# engine. The required secrets get dummy values here.
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  if POSTGRES_PASSWORD=validate CAREOPS_JWT_SECRET=validate-validate-validate-validate \
    CAREOPS_SECRET_KEY=dmFsaWRhdGV2YWxpZGF0ZXZhbGlkYXRldmFsaWRhdGU= \
    docker compose -f "$compose" --env-file /dev/null config --quiet >"$work/compose-config.log" 2>&1; then
    external ok "docker compose config accepts docker-compose.yml"
  else
    external FAIL "docker compose config rejects docker-compose.yml:
$(sed 's/^/    /' "$work/compose-config.log")"
  fi
else
  external skip "docker compose config (no Docker CLI with the compose plugin here)"
fi

# Render the kustomization (offline: kustomize needs no cluster).
rendered=""
if command -v kubectl >/dev/null 2>&1; then
  if kubectl kustomize "$deploy/k8s" >"$work/rendered.yaml" 2>"$work/kustomize.log"; then
    rendered="$work/rendered.yaml"
    external ok "kubectl kustomize deploy/k8s renders"
  else
    external FAIL "kubectl kustomize deploy/k8s fails:
$(sed 's/^/    /' "$work/kustomize.log")"
  fi
elif command -v kustomize >/dev/null 2>&1; then
  if kustomize build "$deploy/k8s" >"$work/rendered.yaml" 2>"$work/kustomize.log"; then
    rendered="$work/rendered.yaml"
    external ok "kustomize build deploy/k8s renders"
  else
    external FAIL "kustomize build deploy/k8s fails:
$(sed 's/^/    /' "$work/kustomize.log")"
  fi
else
  external skip "kustomization rendering (neither kubectl nor kustomize here)"
fi
external skip "kubeconform / helm template (not installable offline; kubernetes-validate covers the built-in kinds)"

# --- The checks -------------------------------------------------------------------------------

export CAREOPS_ROOT="$root" CAREOPS_RENDERED="$rendered" CAREOPS_EXTERNAL="$work/external" \
  CAREOPS_K8S_VERSION="$k8s_version"
status=0
"$python" - <<'PYTHON' || status=$?
"""Structural checks of deploy/: see the header of deploy/validate.sh."""

import glob
import os
import re
import sys

import yaml

ROOT = os.environ["CAREOPS_ROOT"]
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
RENDERED = os.environ.get("CAREOPS_RENDERED") or None
K8S_VERSION = os.environ["CAREOPS_K8S_VERSION"]

# Files of deploy/k8s that kustomization.yaml leaves out on purpose, and why.
OUT_OF_BAND = {
    "nats-values.yaml": "Helm values of the NATS chart, not Kubernetes objects",
    "nats-stream.yaml": "needs the nack CRDs",
    "secret.example.yaml": "a template to fill in; never applied as is",
}
# API groups of custom resources (no schema in kubernetes-validate).
CRD_GROUPS = {"postgresql.cnpg.io", "jetstream.nats.io"}
# Keys of the Secret CloudNativePG generates for a cluster's application owner.
CNPG_APP_SECRET_KEYS = {"username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"}
# Variables read outside clap's `env = "..."`: tracing's filter.
EXTRA_ENV = {"RUST_LOG"}

results = []


def ok(msg):
    results.append(("ok", msg))


def fail(msg):
    results.append(("FAIL", msg))


def skip(msg):
    results.append(("skip", msg))


def rel(path):
    return os.path.relpath(path, ROOT)


# --- YAML ------------------------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.load_all(f, Loader=StrictLoader) if doc is not None]


documents = {}  # path -> [documents]
yaml_files = sorted(
    p for p in glob.glob(os.path.join(DEPLOY, "**", "*"), recursive=True)
    if p.endswith((".yaml", ".yml")) and os.path.isfile(p))
if not yaml_files:
    fail("no YAML files under deploy/")
for path in yaml_files:
    try:
        documents[path] = load_all(path)
        ok(f"{rel(path)} parses ({len(documents[path])} document(s))")
    except yaml.YAMLError as error:
        fail(f"{rel(path)} does not parse: {error}")

# --- What the binaries accept ----------------------------------------------------------------


def known_env_vars():
    names = set(EXTRA_ENV)
    for path in glob.glob(os.path.join(ROOT, "*", "src", "**", "*.rs"), recursive=True):
        text = open(path, encoding="utf-8").read()
        names.update(re.findall(r'\benv\s*=\s*"([A-Z][A-Z0-9_]*)"', text))
        names.update(re.findall(r'env::var(?:_os)?\(\s*"([A-Z][A-Z0-9_]*)"', text))
    return names


def kebab(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def binaries():
    """Binary name -> its subcommands, read from each crate's `enum Command` in main.rs."""
    found = {}
    for main in sorted(glob.glob(os.path.join(ROOT, "*", "src", "main.rs"))):
        crate = os.path.basename(os.path.dirname(os.path.dirname(main)))
        text = open(main, encoding="utf-8").read()
        block = re.search(r"^enum Command \{\n(.*?)^\}", text, re.M | re.S)
        variants = re.findall(r"^    ([A-Z][A-Za-z0-9]*)\b", block.group(1), re.M) if block else []
        found[crate] = {kebab(v) for v in variants}
    return found


ENV = known_env_vars()
BINARIES = binaries()
if {"command-api", "projections", "notifier"} <= set(BINARIES) and all(BINARIES.values()):
    ok("binaries and subcommands read from the crates: "
       + "; ".join(f"{b} {'|'.join(sorted(s))}" for b, s in sorted(BINARIES.items())))
else:
    fail(f"expected command-api, projections and notifier with subcommands, found {BINARIES}")
if len(ENV) > 10:
    ok(f"{len(ENV)} configuration variables read from the crates' sources")
else:
    fail(f"found only {sorted(ENV)} as configuration variables in */src")


def check_command(where, argv):
    if not argv or not isinstance(argv, list):
        fail(f"{where}: no command list")
        return
    binary, sub = argv[0], (argv[1] if len(argv) > 1 else None)
    if binary not in BINARIES:
        fail(f"{where}: {binary!r} is not one of the binaries {sorted(BINARIES)}")
    elif sub not in BINARIES[binary]:
        fail(f"{where}: {binary} has no subcommand {sub!r} (has {sorted(BINARIES[binary])})")
    else:
        ok(f"{where}: runs `{' '.join(argv)}`")


def check_env_names(where, names):
    unknown = sorted(n for n in names if n not in ENV)
    if unknown:
        fail(f"{where}: variables no binary reads: {', '.join(unknown)}")
    else:
        ok(f"{where}: all {len(names)} variables are read by the binaries")


# --- docker-compose.yml ----------------------------------------------------------------------

COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
README = os.path.join(DEPLOY, "README.md")


def check_compose():
    docs = documents.get(COMPOSE)
    if not docs:
        fail("deploy/docker-compose.yml is missing or empty")
        return
    compose = docs[0]
    services = compose.get("services") or {}
    if not services:
        fail("docker-compose.yml has no services")
        return
    declared_volumes = set((compose.get("volumes") or {}).keys())
    host_ports = {}
    for name, svc in services.items():
        where = f"compose service {name}"
        if not isinstance(svc, dict):
            fail(f"{where}: not a mapping")
            continue
        if "image" not in svc and "build" not in svc:
            fail(f"{where}: neither image nor build")
        build = svc.get("build")
        if isinstance(build, dict):
            context = os.path.normpath(os.path.join(DEPLOY, build.get("context", ".")))
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if not os.path.isfile(dockerfile):
                fail(f"{where}: build dockerfile {rel(dockerfile)} does not exist")
        careops = isinstance(build, dict) and build.get("dockerfile", "").endswith("deploy/Dockerfile")
        if careops:
            check_command(where, svc.get("command"))
            if str(svc.get("restart", "unless-stopped")) != "no" and \
                    (svc.get("healthcheck") or {}).get("disable"):
                fail(f"{where}: a long-running CareOps process with its health check disabled "
                     "(every one serves /ready: the API, or its health listener)")
            env = svc.get("environment") or {}
            names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
            check_env_names(where, names)
        # Health checks: on every long-running service, explicit (a test, or disable: true
        # with the reason in a comment), so that nothing silently inherits the image's.
        one_shot = str(svc.get("restart", "no")) == "no"
        health = svc.get("healthcheck")
        if health is None and not one_shot:
            fail(f"{where}: runs long but has no healthcheck entry")
        elif isinstance(health, dict) and not health.get("disable"):
            test = health.get("test")
            if not test or (isinstance(test, list) and test[0] not in ("CMD", "CMD-SHELL")):
                fail(f"{where}: healthcheck.test must be a CMD or CMD-SHELL list")
            else:
                ok(f"{where}: has a health check")
        # depends_on targets and conditions.
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for target, spec in deps.items():
            condition = (spec or {}).get("condition", "service_started")
            if target not in services:
                fail(f"{where}: depends_on {target!r}, which is not a service")
                continue
            other = services[target]
            if condition == "service_healthy":
                h = other.get("healthcheck")
                if not isinstance(h, dict) or h.get("disable") or not h.get("test"):
                    fail(f"{where}: waits for {target} to be healthy, but {target} has no health check")
                else:
                    ok(f"{where}: waits for {target} to be healthy")
            elif condition == "service_completed_successfully":
                if str(other.get("restart", "no")) != "no":
                    fail(f"{where}: waits for {target} to complete, but {target} restarts")
                else:
                    ok(f"{where}: waits for {target} to complete")
            elif condition != "service_started":
                fail(f"{where}: unknown depends_on condition {condition!r}")
        # Named volumes are declared; host ports are not taken twice.
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/", "~", "$")) and source not in declared_volumes:
                fail(f"{where}: volume {source!r} is not declared under volumes:")
        for port in svc.get("ports") or []:
            host = str(port).rsplit(":", 1)[0] if ":" in str(port) else None
            if host:
                if host in host_ports:
                    fail(f"{where}: host port {host} is also published by {host_ports[host]}")
                host_ports[host] = name
    # Every service waits for what it needs: the CareOps ones for the migration.
    for name, svc in services.items():
        build = svc.get("build")
        if isinstance(build, dict) and svc.get("command", [None])[-1:] != ["migrate"]:
            deps = svc.get("depends_on") or {}
            if not any((spec or {}).get("condition") == "service_completed_successfully"
                       for spec in (deps.values() if isinstance(deps, dict) else [])):
                fail(f"compose service {name}: does not wait for the migration to complete")
    # Required interpolated variables (${VAR:?...}) are documented in deploy/README.md.
    text = open(COMPOSE, encoding="utf-8").read()
    required = sorted(set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", text)))
    readme = open(README, encoding="utf-8").read() if os.path.isfile(README) else ""
    missing = [v for v in required if v not in readme]
    if missing:
        fail(f"docker-compose.yml requires {', '.join(missing)}, not documented in deploy/README.md")
    else:
        ok(f"docker-compose.yml's required variables are documented in deploy/README.md: {', '.join(required)}")


check_compose()

# --- Dockerfile and .dockerignore ------------------------------------------------------------

DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")


def dockerfile_instructions(path):
    lines, current = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        lines.append((word.upper(), rest.strip()))
        current = ""
    return lines


def check_dockerfile():
    if not os.path.isfile(DOCKERFILE):
        fail("deploy/Dockerfile is missing")
        return
    instructions = dockerfile_instructions(DOCKERFILE)
    stages, final = [], []
    for word, rest in instructions:
        if word == "FROM":
            m = re.search(r"\bAS\s+(\S+)", rest, re.I)
            stages.append(m.group(1) if m else None)
            final = []
        final.append((word, rest))
        if word in ("COPY", "ADD"):
            m = re.search(r"--from=(\S+)", rest)
            if m and m.group(1) not in stages[:-1]:
                fail(f"Dockerfile: COPY --from={m.group(1)} names no earlier stage")
    if len(stages) < 2:
        fail("Dockerfile: not multi-stage")
    else:
        ok(f"Dockerfile: {len(stages)} stages ({', '.join(str(s) for s in stages)})")
    users = [rest for word, rest in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail("Dockerfile: the runtime stage does not switch to a non-root USER")
    else:
        ok(f"Dockerfile: runs as USER {users[-1]}")
    for needed in ("HEALTHCHECK", "CMD"):
        if not any(word == needed for word, _ in final):
            fail(f"Dockerfile: the runtime stage has no {needed}")
    text = open(DOCKERFILE, encoding="utf-8").read()
    if not re.search(r"SQLX_OFFLINE=true", text):
        fail("Dockerfile: the build does not set SQLX_OFFLINE=true")
    builds = [rest for word, rest in instructions if word == "RUN" and "cargo build" in rest]
    if not builds:
        fail("Dockerfile: no cargo build")
        return
    built = set(re.findall(r"--bin\s+(\S+)", builds[0]))
    if built != {"command-api", "projections", "notifier"}:
        fail(f"Dockerfile: builds {sorted(built)}, expected command-api, projections, notifier")
    missing = [b for b in built if b not in BINARIES]
    if missing:
        fail(f"Dockerfile: --bin {', '.join(missing)}: no such crate with src/main.rs")
    else:
        ok("Dockerfile: builds the three binaries (offline sqlx, --locked)" if "--locked" in builds[0]
           else "Dockerfile: builds the three binaries")
    if "--locked" not in builds[0]:
        fail("Dockerfile: cargo build without --locked")


def dockerignore_patterns(path):
    patterns = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = os.path.normpath(pattern.lstrip("/")).replace(os.sep, "/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append((negate, re.compile(regex + "$")))
    return patterns


def ignored(patterns, path):
    """Docker's rule: the last matching pattern wins; a match on a parent folder counts."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for negate, regex in patterns:
        if any(regex.match(p) for p in prefixes):
            result = not negate
    return result


def check_dockerignore():
    path = os.path.join(ROOT, ".dockerignore")
    if not os.path.isfile(path):
        fail(".dockerignore is missing at the repository root")
        return
    patterns = dockerignore_patterns(path)
    needed = ["Cargo.toml", "Cargo.lock"]
    cargo = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    members = re.search(r"members\s*=\s*\[(.*?)\]", cargo, re.S)
    for member in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
        needed.append(f"{member}/Cargo.toml")
        for source in glob.glob(os.path.join(ROOT, member, "**", "*.rs"), recursive=True):
            needed.append(rel(source))
            text = open(source, encoding="utf-8").read()
            for included in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', text):
                needed.append(rel(os.path.normpath(os.path.join(os.path.dirname(source), included))))
            for migrations in re.findall(r'migrate!\(\s*"([^"]+)"', text):
                folder = os.path.normpath(os.path.join(ROOT, member, migrations))
                needed.extend(rel(p) for p in glob.glob(os.path.join(folder, "*.sql")))
    needed = sorted(set(needed))
    excluded = [p for p in needed if ignored(patterns, p)]
    if excluded:
        fail(".dockerignore excludes files the build needs: " + ", ".join(excluded[:10]))
    else:
        ok(f".dockerignore keeps all {len(needed)} files the build reads (sources, manifests, "
           "migrations, include_str! targets)")
    must_ignore = [".env", "target/release/x", ".data/jwt-secret", ".git/config", "deploy/.env"]
    kept = [p for p in must_ignore if not ignored(patterns, p)]
    if kept:
        fail(".dockerignore lets these into the build context: " + ", ".join(kept))
    else:
        ok(".dockerignore keeps secrets and build output out of the context (.env, .data, target, .git)")


check_dockerfile()
check_dockerignore()

# --- Kubernetes ------------------------------------------------------------------------------


def name_of(obj):
    return (obj.get("metadata") or {}).get("name")


def group_of(obj):
    api = str(obj.get("apiVersion", ""))
    return api.split("/")[0] if "/" in api else ""


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_kubernetes():
    kustomization_path = os.path.join(K8S, "kustomization.yaml")
    if kustomization_path not in documents:
        fail("deploy/k8s/kustomization.yaml is missing or does not parse")
        return
    kustomization = documents[kustomization_path][0]
    resources = kustomization.get("resources") or []
    for resource in resources:
        if not os.path.exists(os.path.join(K8S, resource)):
            fail(f"kustomization.yaml: resource {resource} does not exist")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml")))
    for f in files:
        if f == "kustomization.yaml" or f in resources:
            continue
        if f in OUT_OF_BAND:
            ok(f"k8s/{f} is outside the kustomization on purpose ({OUT_OF_BAND[f]})")
        else:
            fail(f"k8s/{f} is neither in kustomization.yaml nor a known out-of-band file")
    ok(f"kustomization.yaml lists {len(resources)} resources, all present")

    objects = []  # (file, object)
    for f in files:
        if f in ("kustomization.yaml", "nats-values.yaml"):
            continue
        for obj in documents.get(os.path.join(K8S, f), []):
            missing = [k for k in ("apiVersion", "kind") if not obj.get(k)]
            if not name_of(obj):
                missing.append("metadata.name")
            if missing:
                fail(f"k8s/{f}: an object without {', '.join(missing)}")
            else:
                objects.append((f, obj))
    ok(f"{len(objects)} Kubernetes objects, each with apiVersion, kind and metadata.name")

    by_kind = {}
    for f, obj in objects:
        by_kind.setdefault(obj["kind"], {})[name_of(obj)] = obj
    applied = [obj for f, obj in objects if f in resources]
    configmaps = by_kind.get("ConfigMap", {})
    secrets = {n: set((s.get("stringData") or {}).keys()) | set((s.get("data") or {}).keys())
               for n, s in by_kind.get("Secret", {}).items()}
    for cluster in by_kind.get("Cluster", {}):
        secrets[f"{cluster}-app"] = CNPG_APP_SECRET_KEYS
    deployments = by_kind.get("Deployment", {})

    def pod_labels(obj):
        return ((obj["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}

    # Workloads: selectors, commands, environment, probes, references.
    workloads = [o for o in applied if o["kind"] in ("Deployment", "Job")]
    hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind.get("HorizontalPodAutoscaler", {}).values()}
    for obj in workloads:
        where = f"{obj['kind']} {name_of(obj)}"
        spec = obj["spec"]
        if obj["kind"] == "Deployment":
            selector = (spec.get("selector") or {}).get("matchLabels") or {}
            if not matches(selector, pod_labels(obj)):
                fail(f"{where}: selector {selector} does not match its pod labels")
            if "replicas" not in spec and name_of(obj) not in hpa_targets:
                fail(f"{where}: no replicas and no HorizontalPodAutoscaler")
        pod = spec["template"]["spec"]
        security = pod.get("securityContext") or {}
        if not security.get("runAsNonRoot"):
            fail(f"{where}: pod securityContext lacks runAsNonRoot")
        for container in pod.get("containers") or []:
            cwhere = f"{where} container {container.get('name')}"
            check_command(cwhere, (container.get("command") or []) + (container.get("args") or []))
            names = set()
            for source in container.get("envFrom") or []:
                if "configMapRef" in source:
                    ref = source["configMapRef"]["name"]
                    if ref not in configmaps:
                        fail(f"{cwhere}: envFrom ConfigMap {ref} is not defined")
                    else:
                        names.update((configmaps[ref].get("data") or {}).keys())
                if "secretRef" in source:
                    ref = source["secretRef"]["name"]
                    if ref not in secrets:
                        fail(f"{cwhere}: envFrom Secret {ref} is not defined")
                    else:
                        names.update(secrets[ref])
            for var in container.get("env") or []:
                names.add(var["name"])
                ref = ((var.get("valueFrom") or {}).get("secretKeyRef")) or None
                if ref:
                    keys = secrets.get(ref["name"])
                    if keys is None:
                        fail(f"{cwhere}: {var['name']} reads Secret {ref['name']}, which is not defined")
                    elif ref["key"] not in keys and not ref.get("optional"):
                        fail(f"{cwhere}: {var['name']} reads key {ref['key']} missing from Secret {ref['name']}")
                ref = ((var.get("valueFrom") or {}).get("configMapKeyRef")) or None
                if ref and ref["name"] not in configmaps:
                    fail(f"{cwhere}: {var['name']} reads ConfigMap {ref['name']}, which is not defined")
            check_env_names(cwhere, names)
            if "DATABASE_URL" not in names:
                fail(f"{cwhere}: no DATABASE_URL")
            ports = {p.get("name") for p in container.get("ports") or []} | \
                    {p.get("containerPort") for p in container.get("ports") or []}
            probes = {k: container.get(k) for k in ("readinessProbe", "livenessProbe", "startupProbe")}
            for kind, probe in probes.items():
                if probe and "httpGet" in probe and probe["httpGet"].get("port") not in ports:
                    fail(f"{cwhere}: {kind} port {probe['httpGet'].get('port')} is not a container port")
            if obj["kind"] == "Deployment":  # long-running: the API or a health listener
                ready = (probes["readinessProbe"] or {}).get("httpGet", {}).get("path")
                alive = (probes["livenessProbe"] or {}).get("httpGet", {}).get("path")
                if ready != "/ready" or alive != "/health":
                    fail(f"{cwhere}: expected readiness /ready and liveness /health, got {ready} and {alive}")
                else:
                    ok(f"{cwhere}: readiness /ready, liveness /health")
                command = (container.get("command") or [None])[0]
                if command in ("projections", "notifier") and "CAREOPS_HEALTH_PORT" not in names:
                    fail(f"{cwhere}: probes a health listener, but CAREOPS_HEALTH_PORT is not set")
            if not (container.get("resources") or {}).get("requests"):
                fail(f"{cwhere}: no resource requests")
            csec = container.get("securityContext") or {}
            if csec.get("allowPrivilegeEscalation") is not False:
                fail(f"{cwhere}: allowPrivilegeEscalation is not false")

    # The processes' topology, as deploy/README.md explains it.
    roles = {}
    for d in deployments.values():
        for c in d["spec"]["template"]["spec"]["containers"]:
            roles[(c.get("command") or [None])[0]] = d
    projections = roles.get("projections")
    if not projections or projections["spec"].get("replicas") != 1 or \
            (projections["spec"].get("strategy") or {}).get("type") != "Recreate":
        fail("the projections Deployment must have replicas: 1 and strategy Recreate")
    else:
        ok("projections: one replica, strategy Recreate")
    notifier = roles.get("notifier")
    if not notifier or (notifier["spec"].get("replicas") or 0) < 2:
        fail("the notifier Deployment should run 2 or more replicas")
    else:
        ok(f"notifier: {notifier['spec']['replicas']} replicas")
    api = roles.get("command-api")
    if api:
        env = {v["name"]: v.get("value") for c in api["spec"]["template"]["spec"]["containers"]
               for v in c.get("env") or []}
        if env.get("CAREOPS_RUN_PROJECTIONS") != "false":
            fail("command-api must set CAREOPS_RUN_PROJECTIONS=false (projections run apart)")
        else:
            ok("command-api: projections disabled in-process, relay candidate")
    if not any(o["kind"] == "Job" and "migrate" in str(o["spec"]) for o in applied):
        fail("no migration Job")

    # Services, Ingress, HPA, PDB resolve to what exists.
    for svc in by_kind.get("Service", {}).values():
        where = f"Service {name_of(svc)}"
        selector = svc["spec"].get("selector") or {}
        targets = [d for d in deployments.values() if matches(selector, pod_labels(d))]
        if not targets:
            fail(f"{where}: selector {selector} matches no Deployment")
            continue
        port_names = {p.get("name") for d in targets for c in d["spec"]["template"]["spec"]["containers"]
                      for p in c.get("ports") or []}
        for port in svc["spec"].get("ports") or []:
            if isinstance(port.get("targetPort"), str) and port["targetPort"] not in port_names:
                fail(f"{where}: targetPort {port['targetPort']} is not a container port name")
        ok(f"{where}: selects Deployment {name_of(targets[0])}")
    services = by_kind.get("Service", {})
    for ing in by_kind.get("Ingress", {}).values():
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"]["service"]
                svc = services.get(backend["name"])
                if not svc:
                    fail(f"Ingress {name_of(ing)}: backend Service {backend['name']} is not defined")
                    continue
                port = backend.get("port") or {}
                names = {p.get("name") for p in svc["spec"]["ports"]} | {p.get("port") for p in svc["spec"]["ports"]}
                if port.get("name", port.get("number")) not in names:
                    fail(f"Ingress {name_of(ing)}: Service {backend['name']} has no port {port}")
                if path["path"] in ("/", "/metrics"):
                    fail(f"Ingress {name_of(ing)}: routes {path['path']}, which exposes /metrics")
        ok(f"Ingress {name_of(ing)}: backends resolve")
    for hpa in by_kind.get("HorizontalPodAutoscaler", {}).values():
        target = hpa["spec"]["scaleTargetRef"]["name"]
        cpu = [m for m in hpa["spec"].get("metrics") or [] if (m.get("resource") or {}).get("name") == "cpu"]
        if hpa["apiVersion"] != "autoscaling/v2" or target not in deployments or not cpu:
            fail(f"HorizontalPodAutoscaler {name_of(hpa)}: needs autoscaling/v2, a CPU metric and an existing target")
        else:
            ok(f"HorizontalPodAutoscaler {name_of(hpa)}: {target}, CPU "
               f"{cpu[0]['resource']['target'].get('averageUtilization')} %, "
               f"{hpa['spec'].get('minReplicas')}-{hpa['spec']['maxReplicas']} replicas")
    for pdb in by_kind.get("PodDisruptionBudget", {}).values():
        selector = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
        if not any(matches(selector, pod_labels(d)) for d in deployments.values()):
            fail(f"PodDisruptionBudget {name_of(pdb)}: selector matches no Deployment")
        else:
            ok(f"PodDisruptionBudget {name_of(pdb)}: selects a Deployment")

    # PostgreSQL (CloudNativePG) and NATS (Helm values, stream).
    for cluster in by_kind.get("Cluster", {}).values():
        spec = cluster["spec"]
        backup = (spec.get("backup") or {}).get("barmanObjectStore") or {}
        creds = backup.get("s3Credentials") or {}
        problems = []
        if (spec.get("instances") or 0) < 3:
            problems.append("fewer than 3 instances")
        if not backup.get("destinationPath"):
            problems.append("no barman object store backup")
        for ref in creds.values():
            if ref["name"] not in secrets or ref["key"] not in secrets[ref["name"]]:
                problems.append(f"backup credentials {ref['name']}/{ref['key']} not in a Secret")
        if problems:
            fail(f"Cluster {name_of(cluster)}: " + "; ".join(problems))
        else:
            ok(f"Cluster {name_of(cluster)}: {spec['instances']} instances, barman backups")
    values = (documents.get(os.path.join(K8S, "nats-values.yaml")) or [{}])[0]
    config = values.get("config") or {}
    cluster = config.get("cluster") or {}
    jetstream = config.get("jetstream") or {}
    if cluster.get("enabled") and cluster.get("replicas") == 3 and jetstream.get("enabled") and \
            ((jetstream.get("fileStore") or {}).get("pvc") or {}).get("enabled"):
        ok("nats-values.yaml: 3-node cluster, JetStream on file storage with PVCs")
    else:
        fail("nats-values.yaml: expected config.cluster (enabled, 3 replicas) and JetStream file storage on PVCs")
    stream_name = (configmaps.get("careops-config", {}).get("data") or {}).get("CAREOPS_NATS_STREAM")
    prefix = (configmaps.get("careops-config", {}).get("data") or {}).get("CAREOPS_NATS_SUBJECT_PREFIX")
    for stream in by_kind.get("Stream", {}).values():
        spec = stream["spec"]
        if spec.get("replicas") != 3 or spec.get("name") != stream_name or \
                spec.get("subjects") != [f"{prefix}.>"] or spec.get("denyDelete"):
            fail(f"Stream {name_of(stream)}: expected {stream_name} on {prefix}.> with 3 replicas, deletes allowed")
        else:
            ok(f"Stream {name_of(stream)}: {stream_name}, {prefix}.>, 3 replicas")
    values_text = open(os.path.join(K8S, "nats-values.yaml"), encoding="utf-8").read()
    if "--replicas 3" not in values_text:
        fail("nats-values.yaml: does not give the command that creates the stream with 3 replicas")

    # Schemas of the built-in kinds, on what kubectl would apply.
    try:
        import kubernetes_validate
    except ImportError:
        skip("Kubernetes schema validation (kubernetes-validate not available)")
        return
    to_validate = []
    if RENDERED:
        to_validate += [("kustomize output", o) for o in load_all(RENDERED)]
    else:
        to_validate += [(f"k8s/{f}", o) for f, o in objects if f in resources]
    to_validate += [(f"k8s/{f}", o) for f, o in objects if f in OUT_OF_BAND]
    custom = set()
    for where, obj in to_validate:
        if group_of(obj) in CRD_GROUPS:
            custom.add(obj["kind"])
            continue
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
            ok(f"{obj['kind']} {name_of(obj)} ({where}) is valid for Kubernetes {K8S_VERSION} (strict)")
        except Exception as error:  # ValidationError, SchemaNotFoundError, ...
            fail(f"{obj['kind']} {name_of(obj)} ({where}) is invalid for Kubernetes {K8S_VERSION}: "
                 + str(error).splitlines()[0])
    if custom:
        skip(f"schemas of the custom resources {', '.join(sorted(custom))} (CRDs not available offline)")
    if RENDERED:
        for obj in load_all(RENDERED):
            if obj["kind"] != "Namespace" and obj["metadata"].get("namespace") != "careops":
                fail(f"kustomize output: {obj['kind']} {name_of(obj)} is not in namespace careops")
            pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
            for c in pod.get("containers") or []:
                if c.get("image") == "careops":
                    fail(f"kustomize output: {obj['kind']} {name_of(obj)} keeps the placeholder image")
        ok("kustomize output: every object in namespace careops, images set")


check_kubernetes()

# --- Report ----------------------------------------------------------------------------------

with open(os.environ["CAREOPS_EXTERNAL"], encoding="utf-8") as f:
    for block in f.read().split("\n"):
        if "\t" in block:
            status, msg = block.split("\t", 1)
            results.append((status, msg))
        elif block and results:
            results[-1] = (results[-1][0], results[-1][1] + "\n" + block)

for status, msg in results:
    print(f"{status:4}  {msg}")
counts = {s: sum(1 for r in results if r[0] == s) for s in ("ok", "FAIL", "skip")}
print(f"validate: {counts['ok']} passed, {counts['FAIL']} failed, {counts['skip']} skipped")
sys.exit(1 if counts["FAIL"] else 0)
PYTHON
exit "$status"
