"""The service files a self-hoster uses: the systemd unit passes `systemd-analyze verify`, and
compose.yaml and the Dockerfile describe Memoria, MariaDB and coturn consistently. (No container
engine runs here, so the image is not built in the tests; see README "Run it as a service".)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    # the unit names /opt/memoria; verify a copy pointing at this checkout's install instead
    unit = (ROOT / "deploy" / "memoria.service").read_text()
    assert "Restart=on-failure" in unit and "User=memoria" in unit and "ReadWritePaths=/var/lib/memoria" in unit
    memoria = ROOT / ".venv" / "bin" / "memoria"
    if not memoria.exists():
        pytest.skip("memoria is not installed in .venv")
    copy = tmp_path / "memoria.service"
    copy.write_text(unit.replace("/opt/memoria/.venv/bin/memoria", str(memoria)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "memoria.service" in line]
    assert result.returncode == 0 and problems == [], result.stdout + result.stderr


def test_compose_runs_memoria_on_mariadb_with_optional_coturn_and_gpu() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"memoria", "memoria-gpu", "mariadb", "coturn"}
    for name in ("memoria", "memoria-gpu"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith("mysql+aiomysql://memoria:")
        assert service["depends_on"]["mariadb"]["condition"] == "service_healthy"
        assert "127.0.0.1:8000:8000" in service["ports"] and "8443:8443" in service["ports"]
        assert "memoria-data:/data" in service["volumes"]
    assert "profiles" not in services["memoria"] and services["memoria-gpu"]["profiles"] == ["gpu"]
    assert services["memoria-gpu"]["build"]["args"]["EXTRAS"] == "neural"
    assert services["memoria-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert services["coturn"]["profiles"] == ["turn"] and services["coturn"]["network_mode"] == "host"
    db = services["mariadb"]["environment"]
    assert db["MARIADB_DATABASE"] == "memoria" and db["MARIADB_USER"] == "memoria"
    assert set(compose["volumes"]) == {"memoria-data", "mariadb-data"}


def test_the_dockerfile_installs_this_checkout_and_serves_the_lan() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "COPY . /app" in dockerfile and 'pip install ".${EXTRAS:+[$EXTRAS]}"' in dockerfile
    assert "USER memoria" in dockerfile and 'CMD ["memoria", "serve", "--lan"]' in dockerfile
    assert "MEMORIA_HOST=0.0.0.0" in dockerfile and "EXPOSE 8000 8443" in dockerfile
