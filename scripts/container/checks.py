#!/usr/bin/env python3
"""Helpers for scripts/container-check.sh.

  checks.py image-field INSPECT_JSON env|user|workdir|argv|healthcheck
      Prints one item a line from `podman image inspect` output: the environment (NAME=value),
      the user, the working directory, ENTRYPOINT+CMD, or the HEALTHCHECK command (after CMD).
  checks.py image-assert INSPECT_JSON --version V --data-dir DIR --port N
      The image's configuration: labels, non-root user, exec-form entrypoint, health check,
      stop signal, data volume, and no secret in its environment.
  checks.py compose KIND FILE [OVERRIDE...]
      KIND customer|vendor. Parses the YAML (with compose's !reset/!override tags), validates
      every file and the merged result against the Compose specification's JSON schema, then
      checks what the issue asks of that file.
  checks.py env-example FILE
      The customer's .env.example: LICENSE_KEY (empty) and CENTRAL_URL (preset), nothing else.

The schema is the compose-spec.json that the PyPI package check-jsonschema vendors
(check_jsonschema/builtin_schemas/vendor/compose-spec.json); container-check.sh installs it into
a cached virtual environment.
"""
import json
import re
import sys
from importlib import resources

SECRET_NAMES = ("LICENSE_KEY", "ADMIN_TOKEN", "TLS_KEY", "MASTER_KEY", "API_KEY", "PASSWORD", "SECRET")


def fail(problems):
    for problem in problems:
        print(f"  - {problem}")
    sys.exit(1 if problems else 0)


# ---------------------------------------------------------------- images

def load_image(path):
    data = json.load(open(path))
    return data[0] if isinstance(data, list) else data


def healthcheck(image):
    # podman: top-level Healthcheck; docker: Config.Healthcheck.
    return image.get("Healthcheck") or image.get("HealthCheck") or image.get("Config", {}).get("Healthcheck") or {}


def image_field(path, field):
    image = load_image(path)
    config = image.get("Config", {})
    if field == "env":
        items = config.get("Env") or []
    elif field == "user":
        items = [config.get("User") or "root"]
    elif field == "workdir":
        items = [config.get("WorkingDir") or "/"]
    elif field == "argv":
        items = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    elif field == "healthcheck":
        test = healthcheck(image).get("Test") or []
        items = test[1:] if test[:1] == ["CMD"] else (["/bin/sh", "-c", test[1]] if test[:1] == ["CMD-SHELL"] else [])
    else:
        raise SystemExit(f"unknown field {field}")
    for item in items:
        print(item)


def image_assert(path, version, data_dir, port):
    image = load_image(path)
    config = image.get("Config", {})
    problems = []
    labels = config.get("Labels") or {}
    if labels.get("org.opencontainers.image.version") != version:
        problems.append(f"label org.opencontainers.image.version is {labels.get('org.opencontainers.image.version')!r}, expected {version!r}")
    if not labels.get("org.opencontainers.image.source"):
        problems.append("no org.opencontainers.image.source label")
    user = (config.get("User") or "").split(":")[0]
    if user in ("", "root", "0"):
        problems.append(f"runs as root (USER {config.get('User')!r})")
    entrypoint = config.get("Entrypoint") or []
    if not entrypoint or not entrypoint[0].startswith("/") or entrypoint[:2] in (["/bin/sh", "-c"], ["sh", "-c"]):
        problems.append(f"entrypoint is not exec form with an absolute path: {entrypoint}")
    check = healthcheck(image)
    test = check.get("Test") or []
    if test[:1] not in (["CMD"], ["CMD-SHELL"]):
        problems.append(f"no HEALTHCHECK (Test {test})")
    elif not check.get("Interval") or not check.get("Timeout"):
        problems.append("HEALTHCHECK without interval or timeout")
    if (config.get("StopSignal") or "SIGTERM") not in ("SIGTERM", "15"):
        problems.append(f"stop signal {config.get('StopSignal')}")
    if data_dir not in (config.get("Volumes") or {}):
        problems.append(f"{data_dir} is not a volume")
    if f"{port}/tcp" not in (config.get("ExposedPorts") or {}):
        problems.append(f"port {port} not exposed")
    for entry in config.get("Env") or []:
        name = entry.split("=", 1)[0]
        if any(secret in name for secret in SECRET_NAMES):
            problems.append(f"secret-looking variable baked into the image: {name}")
    fail(problems)


# ---------------------------------------------------------------- compose

class Tagged:
    """A value carrying compose's !reset or !override tag."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def load_yaml(path):
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def constructor(tag):
        def construct(loader, node):
            if isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node, deep=True)
            elif isinstance(node, yaml.MappingNode):
                value = loader.construct_mapping(node, deep=True)
            else:
                value = loader.construct_scalar(node)
            return Tagged(tag, value)
        return construct

    Loader.add_constructor("!reset", constructor("reset"))
    Loader.add_constructor("!override", constructor("override"))
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=Loader)


def plain(value):
    """The document as the schema sees it: tags dropped (a !reset value is still typed)."""
    if isinstance(value, Tagged):
        return plain(value.value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def merge(base, override):
    """Compose's merge, enough for these files: mappings merge, sequences append, tags win."""
    if isinstance(override, Tagged):
        return None if override.tag == "reset" else plain(override.value)
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base.get(key), value)
            if merged[key] is None and isinstance(value, Tagged) and value.tag == "reset":
                del merged[key]
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in plain(override) if item not in base]
    return plain(override)


def schema_errors(document, label):
    import jsonschema
    schema_text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    schema = json.loads(schema_text)
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{label}: {'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
            for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))]


def required_variables(path):
    text = open(path, encoding="utf-8").read()
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)(?::?\?)", text))


def all_variables(path):
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", open(path, encoding="utf-8").read()))


def compose(kind, files):
    problems = []
    documents = []
    for path in files:
        try:
            document = load_yaml(path)
        except Exception as error:  # noqa: BLE001 - report any parse error as a finding
            problems.append(f"{path}: YAML does not parse: {error}")
            continue
        if not isinstance(document, dict):
            problems.append(f"{path}: not a mapping")
            continue
        documents.append(document)
        problems += schema_errors(plain(document), path)
    if problems:
        fail(problems)
    merged = plain(documents[0])
    for document in documents[1:]:
        merged = merge(merged, document)
    if len(documents) > 1:
        problems += schema_errors(merged, "merged " + " + ".join(files))

    main = files[0]
    services = merged.get("services", {})
    if kind == "customer":
        problems += customer_checks(main, files, plain(documents[0]), merged, services)
    elif kind == "vendor":
        problems += vendor_checks(main, plain(documents[0]), services)
    fail(problems)


def customer_checks(main, files, base, merged, services):
    problems = []
    if list(base.get("services", {})) != ["edge"]:
        problems.append(f"{main}: services are {list(base.get('services', {}))}, expected the edge alone")
    edge = base.get("services", {}).get("edge", {})
    required = required_variables(main)
    if required != {"LICENSE_KEY"}:
        problems.append(f"{main}: required variables are {sorted(required)}, expected LICENSE_KEY only")
    environment = edge.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    if "LICENSE_KEY" not in environment or "CENTRAL_URL" not in environment:
        problems.append(f"{main}: the edge's environment lacks LICENSE_KEY or CENTRAL_URL")
    for port in edge.get("ports") or []:
        text = port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port.get('published')}:{port.get('target')}"
        if not text.startswith("127.0.0.1:"):
            problems.append(f"{main}: port {text!r} is not published on 127.0.0.1 only")
    if not edge.get("ports"):
        problems.append(f"{main}: no published port")
    if not any(str(device).startswith("/dev/snd") for device in edge.get("devices") or []):
        problems.append(f"{main}: /dev/snd is not passed through")
    if edge.get("restart") not in ("unless-stopped", "always", "on-failure"):
        problems.append(f"{main}: no restart policy")
    volumes = base.get("volumes") or {}
    if not any(str(v).split(":")[0] in volumes and str(v).split(":")[1] == "/var/lib/edge" for v in edge.get("volumes") or []):
        problems.append(f"{main}: no named volume on /var/lib/edge (the device identity)")
    if "build" in edge:
        problems.append(f"{main}: the customer's file must not build")
    if len(files) > 1:
        merged_edge = services.get("edge", {})
        if any("browser-mic" in path for path in files) and merged_edge.get("devices"):
            problems.append("the browser-mic override leaves devices in place")
    return problems


def vendor_checks(main, base, services):
    problems = []
    central = services.get("central")
    if not central:
        return [f"{main}: no central service"]
    if central.get("profiles"):
        problems.append(f"{main}: central must start without a profile")
    if not any(str(v).split(":")[1] == "/var/lib/central" for v in central.get("volumes") or []):
        problems.append(f"{main}: no data volume on /var/lib/central")
    if not central.get("env_file"):
        problems.append(f"{main}: central has no env_file (ADMIN_TOKEN, provider keys)")
    if central.get("restart") not in ("unless-stopped", "always", "on-failure"):
        problems.append(f"{main}: central has no restart policy")
    postgres = services.get("postgres")
    if not postgres or "postgres" not in (postgres.get("profiles") or []):
        problems.append(f"{main}: no PostgreSQL service under a 'postgres' profile")
    text = open(main, encoding="utf-8").read()
    for name in ("TLS_CERT_FILE", "TLS_KEY_FILE"):
        if name not in text:
            problems.append(f"{main}: {name} is not mentioned (native TLS)")
    for name, value in (central.get("environment") or {}).items() if isinstance(central.get("environment"), dict) else []:
        if any(secret in name for secret in SECRET_NAMES) and value and "${" not in str(value):
            problems.append(f"{main}: secret {name} written into the compose file")
    required = required_variables(main)
    if required:
        problems.append(f"{main}: variables {sorted(required)} are required even without their profile")
    return problems


def env_example(path):
    problems = []
    settings = {}
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            problems.append(f"{path}:{number}: not NAME=value")
            continue
        name, value = line.split("=", 1)
        settings[name.strip()] = value.strip()
    if sorted(settings) != ["CENTRAL_URL", "LICENSE_KEY"]:
        problems.append(f"{path}: settings are {sorted(settings)}, expected LICENSE_KEY and CENTRAL_URL")
    if settings.get("LICENSE_KEY"):
        problems.append(f"{path}: LICENSE_KEY must be empty in the example")
    if not re.match(r"^https?://[^\s/]+", settings.get("CENTRAL_URL", "")):
        problems.append(f"{path}: CENTRAL_URL is not preset to an http(s) URL")
    fail(problems)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    command = argv[1]
    if command == "image-field":
        image_field(argv[2], argv[3])
    elif command == "image-assert":
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("inspect")
        parser.add_argument("--version", required=True)
        parser.add_argument("--data-dir", required=True)
        parser.add_argument("--port", required=True)
        options = parser.parse_args(argv[2:])
        image_assert(options.inspect, options.version, options.data_dir, options.port)
    elif command == "compose":
        compose(argv[2], argv[3:])
    elif command == "env-example":
        env_example(argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
