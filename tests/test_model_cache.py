"""botocore's service models through the user's cache (module `deploy.model_cache`)."""

from __future__ import annotations

import marshal

import botocore.session
import pytest

from sfn_builder.deploy import model_cache


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def operations(session: botocore.session.Session, service: str) -> list[str]:
    return list(session.get_service_model(service).operation_names)


def test_a_second_session_reads_the_models_from_copies_equal_to_botocores(cache_home):
    expected = operations(botocore.session.get_session(), "stepfunctions")
    assert operations(model_cache.session(), "stepfunctions") == expected  # decoded, then kept
    copies = list(cache_home.glob("sfn-build/botocore-*/*.marshal"))
    assert copies
    assert operations(model_cache.session(), "stepfunctions") == expected  # read from the copies
    client = model_cache.session().create_client("stepfunctions", region_name="us-east-1")
    assert client.meta.service_model.service_name == "stepfunctions"


def test_a_copy_others_may_write_or_that_is_unreadable_is_not_used_and_is_replaced(cache_home):
    expected = operations(botocore.session.get_session(), "sns")
    operations(model_cache.session(), "sns")
    copies = sorted(cache_home.glob("sfn-build/botocore-*/*.marshal"))
    for copy in copies:  # data another user could have planted
        copy.write_bytes(marshal.dumps({"metadata": {}, "operations": {}, "shapes": {}}))
        copy.chmod(0o666)
    assert operations(model_cache.session(), "sns") == expected
    assert all(copy.stat().st_mode & 0o077 == 0 for copy in copies)
    for copy in copies:
        copy.write_bytes(b"not marshal data")
    assert operations(model_cache.session(), "sns") == expected
