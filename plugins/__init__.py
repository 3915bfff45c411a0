"""Built-in plugins. Each is registered under the ``rapport`` entry-point group in pyproject.toml,
exactly as a third-party package registers its own, and each is switched on per tenant."""
