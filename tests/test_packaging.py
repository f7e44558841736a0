"""What ``pip install jwtkit[…]`` promises: extras that match deployments, the licence, one version."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

import jwtkit
from jwtkit.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirement_names(requirements):
    return {re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_core_depends_on_cryptography_alone(project):
    assert requirement_names(project["dependencies"]) == {"cryptography"}


def test_the_server_extra_brings_the_http_stack_the_sqlite_driver_and_argon2(project):
    assert {"fastapi", "uvicorn", "sqlalchemy", "aiosqlite", "argon2-cffi"} <= requirement_names(
        project["optional-dependencies"]["server"]
    )


@pytest.mark.parametrize(("extra", "driver"), [("postgres", "asyncpg"), ("redis", "redis"),
                                               ("metrics", "prometheus-client")])
def test_each_backend_has_its_own_extra_and_the_server_extra_does_not_carry_it(project, extra, driver):
    extras = project["optional-dependencies"]
    assert driver in requirement_names(extras[extra])
    assert driver not in requirement_names(extras["server"])


def test_all_is_the_whole_server_and_the_dev_install_takes_every_extra(project):
    extras = project["optional-dependencies"]
    assert extras["all"] == ["jwtkit[server,postgres,redis,metrics]"]
    reached, todo = set(), ["dev"]
    while todo:
        for requirement in extras[todo.pop()]:
            if requirement.startswith("jwtkit["):
                for name in requirement[len("jwtkit["):-1].split(","):
                    if name not in reached:
                        reached.add(name)
                        todo.append(name)
    assert set(extras) - {"dev", "bench"} <= reached  # the suite tests every optional piece


def test_the_licence_is_an_spdx_expression_backed_by_a_license_file(project):
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_version_has_one_source(project):
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert importlib.metadata.version("jwtkit") == jwtkit.__version__


def test_jwtkit_version_prints_the_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"jwtkit {jwtkit.__version__}"
