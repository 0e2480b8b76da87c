"""Validate the CI workflow examples against the GitHub workflow JSON schema, offline.

The schema is the copy pinned next to this file (.ci/github-workflow.schema.json, from
SchemaStore's src/schemas/json/github-workflow.json at commit 3b6446ad8a07, 2026-08-07,
unmodified); nothing is downloaded. YAML is read as
YAML 1.2 reads it: `on:` is a key, not the boolean PyYAML's YAML 1.1 rules would make of it.
Usage: python3 .ci/validate-workflows.py FILE.yml...
"""

import json
import pathlib
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true and false."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|false)$"),
    list("tf"),
)

schema_path = pathlib.Path(__file__).with_name("github-workflow.schema.json")
schema = json.loads(schema_path.read_text())
validator = jsonschema.Draft7Validator(schema)
failed = False
for name in sys.argv[1:]:
    workflow = yaml.load(pathlib.Path(name).read_text(), Loader=Yaml12Loader)
    errors = sorted(validator.iter_errors(workflow), key=lambda e: list(e.path))
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        print(f"{name}: {where}: {error.message[:300]}", file=sys.stderr)
    failed |= bool(errors)
    if not errors:
        print(f"{name}: valid")
sys.exit(1 if failed else 0)
