"""On an Object Lock bucket every object and ledger segment carries COMPLIANCE retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from minio.error import S3Error

from kouan.domain import utcnow
from kouan.evidence.keys import KeySigner
from kouan.evidence.layout import PUBLIC_KEY_KEY, object_key
from kouan.evidence.service import EvidenceService, run_verify
from kouan.services import Services
from tests.fixtures.s3 import WeedServer
from tests.unit.evidence.helpers import populate

pytestmark = pytest.mark.integration


def test_objects_and_segments_get_compliance_retention(
        s3_server: WeedServer, s3_locked_bucket: str, services: Services) -> None:
    store = s3_server.store(s3_locked_bucket)
    assert store.object_lock
    svc = EvidenceService(store, KeySigner(), services.sessions, retention_days=3)
    pop = populate(svc, cases=1, captures=1)
    segments = svc.seal()
    keys = [object_key(pop.captures["psg-0"][0]), *segments, PUBLIC_KEY_KEY,
            *store.list("cases/")]
    for key in keys:
        ret = store.retention_of(key)
        assert ret is not None and ret.mode == "COMPLIANCE", key
        remaining = ret.retain_until_date - utcnow()
        assert timedelta(days=2, hours=23) < remaining <= timedelta(days=3), key
    # The locked version cannot be removed, even by the bucket's admin.
    version = next(o.version_id for o in store.client.list_objects(
        s3_locked_bucket, prefix=segments[0], include_version=True))
    with pytest.raises(S3Error) as err:
        store.client.remove_object(s3_locked_bucket, segments[0], version_id=version)
    assert err.value.code == "AccessDenied"
    assert run_verify(store, svc.signer, services.sessions).ok


def test_plain_bucket_has_no_retention(s3_server: WeedServer, s3_bucket: str,
                                       services: Services) -> None:
    store = s3_server.store(s3_bucket)
    assert not store.object_lock
    svc = EvidenceService(store, KeySigner(), services.sessions, retention_days=3)
    sha = svc.put_capture("psg-x", b"plain", "image/png")
    assert store.retention_of(object_key(sha)) is None


def test_health_of_a_reachable_bucket(s3_server: WeedServer, s3_locked_bucket: str,
                                      tmp_path: Path) -> None:
    from kouan.config import Settings
    from kouan.evidence.health import evidence_health
    from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY

    settings = Settings(data_dir=tmp_path, evidence_url=s3_server.url(s3_locked_bucket),
                        s3_access_key=ACCESS_KEY, s3_secret_key=SECRET_KEY)
    h = evidence_health(settings)
    assert (h.backend, h.ok) == ("external", True) and "Object Lock on" in h.detail
    missing = Settings(data_dir=tmp_path, evidence_url=s3_server.url("no-such-bucket"),
                       s3_access_key=ACCESS_KEY, s3_secret_key=SECRET_KEY)
    assert not evidence_health(missing).ok
