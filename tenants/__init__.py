"""Tenant lifecycle for the operator: create, list, suspend, resume, delete, and the demo tenant."""
