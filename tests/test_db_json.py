"""JSON columns are decoded by orjson, with the standard library as a fallback for what orjson refuses."""
import math

from sqlalchemy import text

from rapport.db import db, json_loads


def test_json_loads_reads_what_orjson_refuses():
    value = json_loads('{"nan": NaN, "big": 123456789012345678901234567890, "text": "伟 ✓"}')
    assert math.isnan(value["nan"]) and value["big"] == 123456789012345678901234567890 and value["text"] == "伟 ✓"
    assert json_loads(b'{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}


def test_the_engine_decodes_json_columns_with_it(app, monkeypatch):
    assert db.engine.dialect._json_deserializer is json_loads
    seen = []
    monkeypatch.setattr("rapport.db.orjson.loads", lambda raw: seen.append(raw) or {"decoded": True})
    from sqlalchemy import JSON, bindparam
    row = db.session.execute(text("SELECT :v AS v").bindparams(bindparam("v", type_=JSON)).columns(v=JSON),
                             {"v": {"k": 1}}).one()
    assert row.v == {"decoded": True} and seen
