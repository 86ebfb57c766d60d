"""The container image (deploy/Dockerfile), built with podman from this
checkout and run as the Kubernetes manifests run it: read-only root
filesystem, a tmpfs /tmp, a data volume, uid 10001, no capabilities, the
settings of the overlay's ConfigMap and Secret.

No image registry is reachable here, so the base is made the way the public
Debian slim image is: ``debootstrap --variant=minbase`` without docs, man
pages and locales, then ``podman import``. Slow (one to two minutes to build),
so marked ``image`` and left out of the default run: ``python -m pytest -m
image`` (``.ci/run`` runs it as a step of its own). Needs root, ``podman``,
``runc``, ``debootstrap`` and ``kubectl``; skipped without them, except under
CI, where ``.ci/run`` installs them and a skip would hide a missing install.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from letta_client import Letta
from mix_python_sdk import Mix
from PIL import Image

from .folders.documents import pdf_of
from .kustomize import gateway_container, render
from .letta_client import processed
from .mix_client import NO_RETRIES, upload
from .seaweedfs import SeaweedFS
from .server import free_port
from .thumbnails.media import encode, gradient, video

pytestmark = pytest.mark.image

ROOT = Path(__file__).parent.parent
TOOLS = ("podman", "runc", "debootstrap", "kubectl")
#: Bearer key given through the Secret's ``api-keys``.
API_KEY = "image-test-key-0123456789"
#: Where the host's CA bundle is mounted into the build, for pip (see the Dockerfile).
BUILD_CA = "/run/build-ca/ca-certificates.crt"
#: podman would ask runc for the kernel's maximum open files and processes,
#: which a host without CAP_SYS_RESOURCE (this one) refuses; a pod gets its
#: node's limits, so any workable values do.
ULIMITS = ("--ulimit=nofile=4096:4096", "--ulimit=nproc=4096:4096")
#: The image's size limit (measured: 296 MB, mostly PyAV's FFmpeg and the base).
MAX_IMAGE_BYTES = 300 * 10**6


def podman(*args: str, timeout: float = 120) -> str:
    """Run podman (with runc: the default crun cannot set rlimits here)."""
    result = subprocess.run(
        ["podman", "--runtime=runc", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:2])} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return result.stdout


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    reason = f"not installed: {', '.join(missing)}" if missing else None
    if os.geteuid() != 0:
        reason = "needs root (rootful podman, debootstrap)"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"image test: {reason}")  # .ci/run installs them: CI must not skip
        pytest.skip(f"image test: {reason}")


def debian_base(folder: Path, tag: str) -> None:
    """A Debian bookworm base like the public slim image, as image ``tag``."""
    rootfs = folder / "rootfs"
    made = subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(rootfs)], capture_output=True, text=True, timeout=600
    )
    assert made.returncode == 0, f"debootstrap exited {made.returncode}:\n{(made.stdout + made.stderr)[-4000:]}"
    # What the slim image leaves out, now and in packages installed later.
    for path in ("var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info"):
        for child in (rootfs / path).iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for child in (rootfs / "usr/share/locale").iterdir():
        if child.name != "locale.alias":
            shutil.rmtree(child)
    (rootfs / "etc/dpkg/dpkg.cfg.d/slim").write_text(
        "path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n"
        "path-exclude /usr/share/locale/*\npath-include /usr/share/locale/locale.alias\n"
    )
    archive = folder / "rootfs.tar"
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True, timeout=300)
    shutil.rmtree(rootfs)
    podman("import", str(archive), tag, timeout=300)
    archive.unlink()


def host_ca_bundle() -> Path | None:
    path = Path(os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    """The image built from this checkout on a fresh base; removed afterwards."""
    require_tools()
    name = f"localhost/file-gateway-test-{uuid.uuid4().hex[:12]}"
    base, tag = f"{name}-base:latest", f"{name}:latest"
    build = ["build", "--format=docker", "--layers=false", "--network=host", f"--build-arg=BASE={base}"]
    if (bundle := host_ca_bundle()) is not None:
        build += [f"--volume={bundle}:{BUILD_CA}:ro", f"--build-arg=CA_BUNDLE={BUILD_CA}"]
    try:
        started = time.monotonic()
        debian_base(tmp_path_factory.mktemp("base"), base)
        based = time.monotonic()
        podman(*build, f"--tag={tag}", f"--file={ROOT / 'deploy' / 'Dockerfile'}", str(ROOT), timeout=900)
        built = time.monotonic()
        size = json.loads(podman("image", "inspect", tag))[0]["Size"]
        plugins = request.config.pluginmanager
        reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():  # shown in CI's log, not captured
                reporter.write_line(
                    f"image: base {based - started:.0f} s, build {built - based:.0f} s, "
                    f"{size / 1e6:.0f} MB ({size / 2**20:.0f} MiB)"
                )
        yield tag
    finally:
        for leftover in (tag, base):
            subprocess.run(["podman", "rmi", "--force", leftover], capture_output=True, check=False, timeout=120)


def deployment_env(rendered: dict[str, dict], secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The container's environment as the overlay sets it: the ConfigMap,
    then its own ``env``, with ``secrets[(secret, key)]`` for secret refs;
    an optional ref not in ``secrets`` is left unset, as Kubernetes does
    when the Secret has no such key."""
    container = gateway_container(rendered["Deployment"])
    assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [
        rendered["ConfigMap"]["metadata"]["name"]
    ]
    env = dict(rendered["ConfigMap"]["data"])
    for entry in container.get("env", []):
        ref = entry["valueFrom"]["secretKeyRef"]
        if ref.get("optional") and (ref["name"], ref["key"]) not in secrets:
            continue
        env[entry["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def pod_flags(deployment: dict, data: Path | None) -> list[str]:
    """``podman run`` flags for what the Deployment's pod spec asks."""
    pod = deployment["spec"]["template"]["spec"]
    container = gateway_container(deployment)
    # Exactly what the flags below reproduce: extend them with the manifests.
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    user = pod["securityContext"]
    flags = [
        f"--user={user['runAsUser']}:{user['runAsGroup']}",
        "--read-only",
        "--read-only-tmpfs=false",  # podman would add a writable /run and /var/tmp; a pod has none
        "--cap-drop=all",
        "--security-opt=no-new-privileges",
    ]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "emptyDir" in volume:
            flags.append(f"--tmpfs={mount['mountPath']}")
        else:
            assert "persistentVolumeClaim" in volume and data is not None
            flags.append(f"--volume={data}:{mount['mountPath']}")
    return flags


def data_volume(folder: Path) -> Path:
    """A host folder for the claim, owned as the pod's fsGroup would make it."""
    folder.mkdir()
    os.chown(folder, 10001, 10001)
    return folder


class Container:
    """The image run as the overlay's Deployment runs it. On the host's
    network (the tests' S3 listens on its loopback), so the gateway listens
    on a free loopback port rather than the pod's own 0.0.0.0:8088."""

    def __init__(self, image: str, rendered: dict[str, dict], env: dict[str, str], data: Path | None) -> None:
        self.name = f"file-gateway-test-{uuid.uuid4().hex[:12]}"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.grace = rendered["Deployment"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        self.env = {**env, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port)}
        self._run = [
            "run", "--detach", f"--name={self.name}", "--network=host", *ULIMITS,
            *pod_flags(rendered["Deployment"], data), *(f"--env={k}={v}" for k, v in self.env.items()), image,
        ]  # fmt: skip

    def __enter__(self) -> Container:
        podman(*self._run)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.state()["Status"] == "exited":
                break
            time.sleep(0.2)
        logs = self.logs()
        self.__exit__()
        raise AssertionError(f"the container did not become healthy:\n{logs}")

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["podman", "rm", "--force", "--time=0", self.name], capture_output=True, check=False, timeout=120
        )

    def state(self) -> dict:
        return json.loads(podman("container", "inspect", self.name))[0]["State"]

    def logs(self) -> str:
        result = subprocess.run(["podman", "logs", self.name], capture_output=True, text=True, timeout=60)
        return result.stdout + result.stderr

    def exec(self, *command: str) -> str:
        return podman("exec", self.name, *command)

    def mix(self) -> Mix:
        auth = httpx.Client(headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60)
        return Mix(server_url=self.url, retry_config=NO_RETRIES, client=auth)

    def letta(self) -> Letta:
        return Letta(base_url=self.url, api_key=API_KEY, max_retries=0)


@pytest.fixture(scope="module")
def local_disk() -> dict[str, dict]:
    return render("local-disk")


@pytest.fixture(scope="module")
def local(image: str, local_disk: dict[str, dict], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    env = deployment_env(local_disk, {("file-gateway", "api-keys"): API_KEY})
    with Container(image, local_disk, env, data_volume(tmp_path_factory.mktemp("local") / "data")) as container:
        yield container


@pytest.fixture(scope="module")
def s3(image: str, s3_server: SeaweedFS) -> Iterator[Container]:
    """The s3 overlay's settings, its bucket made in the tests' SeaweedFS;
    only the endpoint (an in-cluster address in the overlay) is the tests'."""
    rendered = render("s3")
    credentials = s3_server.environment()
    env = deployment_env(
        rendered,
        {
            ("file-gateway", "api-keys"): API_KEY,
            ("file-gateway-s3", "access-key-id"): credentials["AWS_ACCESS_KEY_ID"],
            ("file-gateway-s3", "secret-access-key"): credentials["AWS_SECRET_ACCESS_KEY"],
        },
    )
    client = s3_server.client()
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=urlsplit(env["GATEWAY_STORAGE"]).netloc)
    with Container(image, rendered, {**env, "AWS_ENDPOINT_URL": credentials["AWS_ENDPOINT_URL"]}, None) as container:
        yield container


@pytest.fixture(params=["local", "s3"])
def deployed(request: pytest.FixtureRequest) -> Container:
    return request.getfixturevalue(request.param)


def test_image_settings_and_metadata(image: str) -> None:
    [inspected] = json.loads(podman("image", "inspect", image))
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["python", "-m", "gateway"]
    env = dict(entry.split("=", 1) for entry in config["Env"])
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert (env["GATEWAY_HOST"], env["GATEWAY_PORT"], env["GATEWAY_STORAGE"]) == ("0.0.0.0", "8088", "file:///data")
    assert "/healthz" in " ".join(inspected["Healthcheck"]["Test"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == project["version"]
    assert {f"org.opencontainers.image.{key}" for key in ("source", "revision", "licenses")} <= set(labels)
    assert inspected["Size"] < MAX_IMAGE_BYTES


def test_health_readiness_and_the_healthcheck(deployed: Container) -> None:
    for path in ("/health", "/healthz"):
        health = httpx.get(f"{deployed.url}{path}")
        assert (health.status_code, health.json()["status"]) == (200, "ok")
    ready = httpx.get(f"{deployed.url}/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    # The Secret's key is in force: the APIs need it.
    assert httpx.get(f"{deployed.url}/api/sessions").status_code == 401
    # /docs and every file it loads, from what the build kept of Swagger UI.
    page = httpx.get(f"{deployed.url}/docs")
    assert page.status_code == 200
    for asset in re.findall(r'(?:src|href)="(docs/[^"]+)"', page.text):
        assert httpx.get(f"{deployed.url}/{asset}").status_code == 200, asset
    podman("healthcheck", "run", deployed.name)  # the image's HEALTHCHECK, exit 0 when healthy


def test_session_file_round_trip(deployed: Container) -> None:
    mix = deployed.mix()
    session = mix.sessions.create(browser_mode="local-browser-service", title="image")
    data = os.urandom(9 * 2**20 + 7)  # past one 8 MiB part: a multipart upload on S3
    info = upload(mix, session.id, "blob.bin", data)
    assert info.size == len(data)
    downloaded = mix.files.get_session_file(id=session.id, filename="blob.bin").read()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(data).hexdigest()
    assert [f.name for f in mix.files.list_session_files(id=session.id)] == ["blob.bin"]


def test_folder_file_is_processed(deployed: Container) -> None:
    letta = deployed.letta()
    folder = letta.folders.create(name=f"image-{uuid.uuid4().hex[:8]}")
    pdf = pdf_of(["The container reads PDFs.", "A second page."])
    uploaded = letta.folders.files.upload(folder.id, file=("paper.pdf", io.BytesIO(pdf)))
    meta = processed(letta, folder.id, uploaded.id)
    assert (meta.processing_status, meta.error_message) == ("completed", None)
    assert meta.content is not None and "The container reads PDFs." in meta.content


def test_thumbnails_of_an_image_and_a_video(deployed: Container) -> None:
    mix = deployed.mix()
    session = mix.sessions.create(browser_mode="local-browser-service", title="thumbnails")
    upload(mix, session.id, "picture.png", encode(gradient(400, 200), "PNG"))
    thumbnail = mix.files.get_session_file(id=session.id, filename="picture.png", thumb="w100")
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.read())).size == (100, 50)
    upload(mix, session.id, "clip.mp4", video(2.0))  # PyAV's FFmpeg in the image decodes it
    frame = mix.files.get_session_file(id=session.id, filename="clip.mp4", thumb="w64", time=1.5)
    picture = Image.open(io.BytesIO(frame.read())).convert("RGB")
    assert picture.width == 64
    pixel = picture.getpixel((48, picture.height // 2))
    assert isinstance(pixel, tuple) and pixel[1] > 200 and pixel[0] < 60 and pixel[2] < 60  # second 1 is green


def test_s3_objects_land_in_the_overlays_bucket(s3: Container, s3_server: SeaweedFS) -> None:
    mix = s3.mix()
    session = mix.sessions.create(browser_mode="local-browser-service", title="s3")
    data = os.urandom(123_457)
    upload(mix, session.id, "where.bin", data)
    url = urlsplit(s3.env["GATEWAY_STORAGE"])
    listed = s3_server.client().list_objects_v2(Bucket=url.netloc, Prefix=url.path.lstrip("/") + "/")
    assert len(data) in {item["Size"] for item in listed.get("Contents", [])}


def test_runs_as_10001_without_capabilities(local: Container) -> None:
    status = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{local.state()['Pid']}/status").read_text().splitlines()
    )
    assert status["Name"].startswith("python")
    assert status["Uid"].split() == ["10001"] * 4
    assert status["Gid"].split() == ["10001"] * 4
    for kind in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[kind], 16) == 0, kind
    assert status["NoNewPrivs"] == "1"


#: Every directory the gateway's process can write to, found by walking the
#: container's whole filesystem: the data volume and /tmp, and the kernel's
#: IPC mounts every container (and pod) has.
WRITABLE = r"""
import os, sys
writable = []
for root, dirs, _ in os.walk("/"):
    if root in ("/proc", "/sys"):
        dirs.clear()
    elif os.access(root, os.W_OK):
        writable.append(root)
for folder in ("/", "/etc", "/opt/gateway", "/usr/lib", "/var/tmp", "/nonexistent"):
    try:
        open(os.path.join(folder, "probe"), "w").close()
        writable.append("wrote " + folder)
    except OSError:
        pass
print("\n".join(writable))
"""


def test_writes_only_to_the_data_volume_and_tmp(local: Container) -> None:
    writable = local.exec("python", "-c", WRITABLE).split()
    assert "/data" in writable and "/tmp" in writable
    outside = [path for path in writable if not path.startswith(("/data", "/tmp", "/dev/shm", "/dev/mqueue"))]
    assert outside == []
    local.exec("python", "-c", "open('/tmp/probe', 'w').write('ok'); open('/data/probe', 'w').write('ok')")


def test_no_build_tools_or_pip(local: Container) -> None:
    tools = "for t in gcc cc c++ make ld as pip pip3; do command -v $t || true; done"
    assert local.exec("sh", "-c", tools).split() == []
    assert local.exec("python", "-c", "import importlib.util as u; print(u.find_spec('pip'))").strip() == "None"


class SlowBody(io.RawIOBase):
    """A file the client reads slowly: one chunk every ``pause`` seconds."""

    def __init__(self, chunks: list[bytes], pause: float) -> None:
        self.chunks = list(chunks)
        self.pause = pause
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            if not self.chunks:
                return 0
            time.sleep(self.pause)
            self._pending = self.chunks.pop(0)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def test_sigterm_during_an_upload(image: str, local_disk: dict[str, dict], tmp_path: Path) -> None:
    """``podman stop`` with the pod's grace mid-upload: readiness turns 503
    (the ConfigMap's drain), the upload still completes, the process exits 0;
    the file is there for the next container on the same volume."""
    env = deployment_env(local_disk, {("file-gateway", "api-keys"): API_KEY})
    data = data_volume(tmp_path / "data")
    chunks = [os.urandom(256 * 1024) for _ in range(32)]
    # Sent from 1 s before the SIGTERM to about 3 s past the ConfigMap's drain:
    # it ends in the shutdown grace, after the gateway stopped listening.
    body = SlowBody(chunks, pause=(float(env["GATEWAY_DRAIN_SECONDS"]) + 4) / len(chunks))
    with Container(image, local_disk, env, data) as container:
        mix = container.mix()
        session = mix.sessions.create(browser_mode="local-browser-service", title="sigterm")
        pool = ThreadPoolExecutor(1)
        sent = pool.submit(
            mix.files.upload_session_file,
            id=session.id,
            file={"file_name": "slow.bin", "content": io.BufferedReader(body)},
        )
        time.sleep(1)
        assert 0 < len(body.chunks) < len(chunks), "the upload is not under way"
        stopping = subprocess.Popen(["podman", "stop", f"--time={container.grace}", container.name])
        deadline = time.monotonic() + float(env["GATEWAY_DRAIN_SECONDS"])
        while httpx.get(f"{container.url}/readyz").status_code != 503:
            assert time.monotonic() < deadline, "readiness did not turn 503"
            time.sleep(0.1)
        assert sent.result(timeout=container.grace).size == 32 * 256 * 1024
        pool.shutdown()
        assert stopping.wait(timeout=container.grace + 10) == 0
        state = container.state()
        assert (state["Status"], state["ExitCode"]) == ("exited", 0), container.logs()

    with Container(image, local_disk, env, data) as again:
        downloaded = again.mix().files.get_session_file(id=session.id, filename="slow.bin").read()
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
