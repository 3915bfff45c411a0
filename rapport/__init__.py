"""Rapport's public API for plugins: ``hookimpl`` and the names a plugin may rely on.

A plugin module implements hooks from :mod:`rapport.hookspecs` and registers itself under the
``rapport`` entry-point group of its distribution.
"""
from .hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]


def create_app(test_config=None):
    from .app import create_app as factory

    return factory(test_config)
