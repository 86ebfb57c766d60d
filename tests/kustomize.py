"""The Kustomize overlays in deploy/k8s, rendered with `kubectl kustomize` and
validated against a current Kubernetes's schemas."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).parent.parent / "deploy"
KUBERNETES = kubernetes_validate.latest_version()
KUBECTL = shutil.which("kubectl")


def render(overlay: str) -> dict[str, dict]:
    """The overlay's documents by kind."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: cannot render the Kustomize overlays")
    output = subprocess.run(
        [KUBECTL, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(output) if doc]
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)
    return {document["kind"]: document for document in documents}


def gateway_container(deployment: dict) -> dict:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container
