"""Files over the row limit or the request body limit get a clear error and write nothing."""
import pytest

from rapport.models import Account

from .support import records, upload


@pytest.fixture
def app_config():
    return {"IMPORT_MAX_ROWS": 3, "MAX_CONTENT_LENGTH": 4096}


def test_too_many_rows_is_a_clear_error(owner, acme):
    response = upload(owner, "accounts", "name\nA\nB\nC\nD\n")
    assert response.status_code == 422
    assert "The file has more than 3 rows. Split it into smaller files." in response.get_data(as_text=True)
    assert records(acme, Account) == []


def test_rows_up_to_the_limit_are_fine(owner, acme):
    assert upload(owner, "accounts", "name\nA\nB\nC\n").status_code == 200
    assert len(records(acme, Account)) == 3


def test_a_file_over_the_body_limit_is_a_clear_error(owner, acme):
    response = upload(owner, "accounts", "name\n" + "Northwind\n" * 1000)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is larger than the limit of 4 KB." in page and 'id="e-file"' in page
    assert records(acme, Account) == []


def test_cli_import_has_the_same_row_limit(runner, acme, tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("name\nA\nB\nC\nD\n")
    result = runner.invoke(args=["import", "acme", "accounts", str(path)])
    assert result.exit_code == 1 and "more than 3 rows" in result.stderr
