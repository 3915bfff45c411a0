"""Turn an OpenAPI document into plain data for the server-rendered docs page (no scripts, no CDN)."""
from __future__ import annotations

METHODS = ("get", "post", "put", "patch", "delete")


def page_context(spec: dict) -> dict:
    schemas = spec.get("components", {}).get("schemas", {})
    return {
        "spec": spec,
        "base_url": spec["servers"][0]["url"],
        "sections": _sections(spec),
        "schemas": [{"name": name, "fields": _fields(schema), "parts": type_parts(schema)}
                    for name, schema in sorted(schemas.items())],
    }


def _sections(spec: dict) -> list[dict]:
    by_tag: dict[str, list] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            for tag in op.get("tags", ["other"]):
                by_tag.setdefault(tag, []).append(_operation(path, method, op))
    return [{"tag": tag, "operations": ops} for tag, ops in sorted(by_tag.items())]


def _operation(path: str, method: str, op: dict) -> dict:
    body = op.get("requestBody", {}).get("content", {})
    return {
        "id": op.get("operationId", f"{method}-{path}"),
        "method": method.upper(),
        "path": path,
        "summary": op.get("summary", ""),
        "parameters": [
            {"name": p["name"], "in": p["in"], "required": p.get("required", False),
             "parts": type_parts(p.get("schema", {})), "description": p.get("description", "")}
            for p in op.get("parameters", [])
        ],
        "body": [{"media": media, "parts": type_parts(content.get("schema", {}))} for media, content in body.items()],
        "responses": [
            {"status": status, "description": response.get("description", ""),
             "content": [{"media": media, "parts": type_parts(c.get("schema", {}))}
                         for media, c in response.get("content", {}).items()]}
            for status, response in sorted(op.get("responses", {}).items())
        ],
    }


def _fields(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    return [
        {"name": name, "required": name in required, "parts": type_parts(prop),
         "description": prop.get("description", "")}
        for name, prop in schema.get("properties", {}).items()
    ]


def type_parts(schema: dict) -> list[tuple[str, str | None]]:
    """A type as ``(text, schema name to link or None)`` pieces, e.g. ``array of`` + ``Account``."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [(name, name)]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            parts: list = []
            for index, sub in enumerate(schema[combinator]):
                if index:
                    parts.append((" or ", None))
                parts.extend(type_parts(sub))
            return parts
    kind = schema.get("type", "any")
    kinds = [k for k in kind if k != "null"] if isinstance(kind, list) else [kind]
    text = " or ".join(kinds) or "null"
    if "array" in kinds and "items" in schema:
        return [(text + " of ", None), *type_parts(schema["items"]), *_nullable(kind)]
    if schema.get("format"):
        text += f" ({schema['format']})"
    if schema.get("enum"):
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return [(text, None), *_nullable(kind)]


def _nullable(kind) -> list:
    return [(", nullable", None)] if isinstance(kind, list) and "null" in kind else []
