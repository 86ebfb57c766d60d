"""deploy/: the Kustomize overlays render and pass strict schema validation
for a current Kubernetes, with the probes, limits and hardening we rely on."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from gateway.settings import load_settings

from .kustomize import DEPLOY, KUBERNETES, gateway_container, render


@pytest.mark.parametrize("overlay", ["local-disk", "s3"])
def test_overlay_is_valid_and_hardened(overlay: str) -> None:
    rendered = render(overlay)
    assert {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} <= set(rendered)
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    container = gateway_container(rendered["Deployment"])
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    hardening = container["securityContext"]
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    # The grace Kubernetes gives must cover the gateway's drain and grace.
    settings = rendered["ConfigMap"]["data"]
    load_settings([], settings)  # every value is one the gateway accepts
    budget = float(settings["GATEWAY_DRAIN_SECONDS"]) + float(settings["GATEWAY_SHUTDOWN_GRACE"])
    assert budget < pod["terminationGracePeriodSeconds"]
    secret_refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e]
    assert "file-gateway" in secret_refs


def test_local_disk_is_one_replica_on_a_claim() -> None:
    rendered = render("local-disk")
    spec = rendered["Deployment"]["spec"]
    assert (spec["replicas"], spec["strategy"]["type"]) == (1, "Recreate")
    container = gateway_container(rendered["Deployment"])
    data = next(m for m in container["volumeMounts"] if m["mountPath"] == "/data")
    claim = next(v for v in spec["template"]["spec"]["volumes"] if v["name"] == data["name"])
    assert claim["persistentVolumeClaim"]["claimName"] == rendered["PersistentVolumeClaim"]["metadata"]["name"]
    assert rendered["ConfigMap"]["data"]["GATEWAY_STORAGE"] == "file:///data"


def test_s3_is_several_replicas_with_autoscaling_and_rolling_updates() -> None:
    rendered = render("s3")
    spec = rendered["Deployment"]["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert rendered["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    assert rendered["ConfigMap"]["data"]["GATEWAY_STORAGE"].startswith("s3://")
    names = {e["name"] for e in gateway_container(rendered["Deployment"])["env"]}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GATEWAY_API_KEYS"} <= names


def test_ingress_example_streams_uploads() -> None:
    ingress = yaml.safe_load((DEPLOY / "k8s" / "examples" / "ingress-nginx.yaml").read_text())
    kubernetes_validate.validate(ingress, KUBERNETES, strict=True)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "2g"
