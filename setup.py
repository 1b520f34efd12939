"""Packages are found, not listed; the one addition is conf/, shipped inside the wheel.

conf/ stays at the top level of the checkout (Hydra's configs beside the code)
and ships as bench/conf, where bench.config.compose reads it when installed.
hydra_plugins is a namespace (no __init__.py): found as one, an editable
install maps it to this checkout, which is where Hydra's plugin scan looks.
Everything else about the project is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(include=["bench", "bench.*", "hydra_plugins", "hydra_plugins.*"])

setup(
    packages=[*PACKAGES, "bench.conf"],
    package_dir={"bench.conf": "conf"},
    package_data={"bench.conf": ["*.yaml", "**/*.yaml"]},
)
