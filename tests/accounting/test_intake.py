"""Signed APEL messages in, as SSM sends them: signed (and encrypted) with the `openssl`
command and a test CA, published to an AMS subscription, opened, the signer resolved to the
sites of its registered accounting services, loaded or rejected whole, and acknowledged in
the same transaction (so a crash before the commit loses nothing)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.accounting.models import JobRecord, RejectedMessage
from domains.accounting.service.intake import consume, receive_signed
from domains.accounting.service.loading import Outcome
from domains.accounting.service.senders import sites_for_dn
from domains.accounting.smime import CryptoConfig
from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.messaging import service as messaging
from domains.topology.models import Service, ServiceType, Site
from tests.accounting.test_formats import JOB, job_message
from tests.compat.tls import OPENSSL, Authority, Pki, make_pki
from workers import accounting as worker
from workers.accounting import AccountingConfig

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("accounting-pki"))


def register_apel_host(session: Session, dn: str, index: int = 0) -> str:
    """A gLite-APEL service with host DN `dn` at a demo site; the site's short name."""
    stype = session.execute(
        select(ServiceType).where(col(ServiceType.name) == "gLite-APEL")
    ).scalar_one_or_none()
    if stype is None:
        stype = ServiceType(name="gLite-APEL", description="APEL accounting")
        session.add(stype)
        session.flush()
    site = session.execute(select(Site).order_by(col(Site.id)).offset(index).limit(1)).scalar_one()
    session.add(
        Service(
            site_id=pk(site),
            service_type_id=pk(stype),
            host_name=f"apel{index}.example.org",
            host_dn=dn,
        )
    )
    session.flush()
    return str(site.short_name)


def sign(text: bytes, cert: Path, key: Path) -> bytes:
    """What SSM's sender does: `openssl smime -sign -text` with the host certificate."""
    done = subprocess.run(
        [OPENSSL, "smime", "-sign", "-inkey", str(key), "-signer", str(cert), "-text"],
        input=text, capture_output=True, check=True,
    )  # fmt: skip
    return done.stdout


def records(site: str, *ids: str) -> bytes:
    return job_message(
        *(
            JOB.replace("UKI-SOUTHGRID-OX-HEP", site).replace(
                "LocalJobId: 123456", f"LocalJobId: {i}"
            )
            for i in ids
        )
    ).encode()


def crypto(pki: Pki) -> CryptoConfig:
    return CryptoConfig(ca_path=str(pki.ca_dir))


def rejects(session: Session) -> list[RejectedMessage]:
    return list(
        session.execute(select(RejectedMessage).order_by(col(RejectedMessage.id))).scalars()
    )


def test_a_signed_message_of_a_registered_apel_host_loads_under_its_dn(
    session: Session, pki: Pki
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    assert sites_for_dn(session, pki.valid.dn) == {site}
    signed = sign(records(site, "1", "2"), pki.valid.cert_file, pki.valid.key_file)
    outcome = receive_signed(
        session, signed, message_id="e1", source="test", crypto=crypto(pki), now=NOW
    )
    assert (outcome.records, outcome.reject_id) == (2, None)
    publishers = session.execute(select(col(JobRecord.publisher))).scalars().all()
    assert publishers == [pki.valid.dn, pki.valid.dn]
    # the CA given as a file works as a directory does
    again = receive_signed(
        session,
        signed,
        message_id="e1",
        source="test",
        crypto=CryptoConfig(ca_path=str(pki.ca_file)),
        now=NOW,
    )
    assert again.records == 2


@pytest.mark.parametrize("who", ["untrusted", "expired", "tampered", "unsigned", "no-ca"])
def test_what_cannot_be_verified_is_rejected_as_received(
    session: Session, pki: Pki, who: str
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    body = records(site, "1")
    config = crypto(pki)
    if who in ("untrusted", "expired"):
        credential = getattr(pki, who)
        data = sign(body, credential.cert_file, credential.key_file)
    elif who == "tampered":
        data = sign(body, pki.valid.cert_file, pki.valid.key_file).replace(
            b"LocalJobId: 1", b"LocalJobId: 7"
        )
    elif who == "unsigned":
        data = body
    else:
        data, config = (
            sign(body, pki.valid.cert_file, pki.valid.key_file),
            CryptoConfig(ca_path=None),
        )
    outcome = receive_signed(session, data, message_id="m", source="test", crypto=config, now=NOW)
    assert outcome.rule == "ACCOUNTING_SIGNATURE_INVALID"
    [row] = rejects(session)
    assert (row.body, row.sender, row.rule) == (data, "", "ACCOUNTING_SIGNATURE_INVALID")
    assert session.execute(select(JobRecord)).first() is None


def test_a_signer_of_no_accounting_service_is_rejected_with_the_message_kept(
    session: Session, pki: Pki
) -> None:
    register_apel_host(session, pki.valid.dn)
    other_site = str(
        session.execute(select(col(Site.short_name)).order_by(col(Site.id)).offset(1))
        .scalars()
        .first()
    )
    body = records(other_site, "1")
    signed = sign(body, pki.other.cert_file, pki.other.key_file)
    outcome = receive_signed(
        session,
        signed,
        message_id="m",
        source="t",
        crypto=crypto(pki),
        now=NOW,
    )
    assert outcome.rule == "ACCOUNTING_SIGNER_NOT_VALID"
    [row] = rejects(session)
    # kept as received, to be verified again when loaded again
    assert (row.sender, row.body, row.signed) == (pki.other.dn, signed, True)
    # a registered APEL host sending another site's records
    outcome = receive_signed(
        session,
        sign(body, pki.valid.cert_file, pki.valid.key_file),
        message_id="n",
        source="t",
        crypto=crypto(pki),
        now=NOW,
    )
    assert outcome.rule == "ACCOUNTING_SITE_NOT_SENDERS"


def ca_with_crls(pki: Pki, directory: Path) -> Path:
    """The test CA as fetch-crl leaves an IGTF directory: `<hash>.0` and `<hash>.r0`."""
    shutil.copytree(pki.ca_dir, directory)
    for crl in pki.crl_dir.iterdir():
        shutil.copy(crl, directory)
    return directory


def test_a_revoked_signer_is_rejected_where_its_ca_publishes_a_crl(
    session: Session, pki: Pki, tmp_path: Path
) -> None:
    valid_site = register_apel_host(session, pki.valid.dn)
    revoked_site = register_apel_host(session, pki.revoked.dn, index=1)
    with_crls = CryptoConfig(ca_path=str(ca_with_crls(pki, tmp_path / "certificates")))

    def receive(site: str, who: str, config: CryptoConfig) -> Outcome:
        credential = getattr(pki, who)
        data = sign(records(site, who), credential.cert_file, credential.key_file)
        return receive_signed(session, data, message_id=who, source="t", crypto=config, now=NOW)

    assert receive(valid_site, "valid", with_crls).records == 1
    outcome = receive(revoked_site, "revoked", with_crls)
    assert (outcome.records, outcome.rule) == (0, "ACCOUNTING_SIGNER_REVOKED")
    assert "revoked" in (outcome.reason or "")
    # a CA file holding the CRL is read as the directory is
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.ca_file.read_bytes() + (pki.directory / "ca.crl.pem").read_bytes())
    assert receive(revoked_site, "revoked", CryptoConfig(ca_path=str(bundle))).rule == (
        "ACCOUNTING_SIGNER_REVOKED"
    )
    # a CA without a CRL: taken (the default), refused when CRLs are required
    assert receive(revoked_site, "revoked", crypto(pki)).records == 1
    required = CryptoConfig(ca_path=str(pki.ca_dir), crl_required=True)
    outcome = receive(valid_site, "valid", required)
    assert outcome.rule == "ACCOUNTING_SIGNATURE_INVALID"
    assert "unable to get certificate CRL" in (outcome.reason or "")
    assert receive(valid_site, "valid", replace(with_crls, crl_required=True)).records == 1


def test_a_message_encrypted_to_the_server_is_decrypted_then_verified(
    session: Session, pki: Pki, tmp_path: Path
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    # SSM encrypts with `openssl smime -encrypt`, which needs an RSA recipient
    server_ca = Authority.make("/DC=org/DC=example/CN=server CA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounting.example.org")])
    cert = server_ca.issue(subject, key)  # type: ignore[arg-type]  # an RSA key signs as well
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signed = sign(records(site, "1"), pki.valid.cert_file, pki.valid.key_file)
    encrypted = subprocess.run(
        [OPENSSL, "smime", "-encrypt", "-aes128", str(cert_file)],
        input=signed,
        capture_output=True,
        check=True,
    ).stdout
    config = CryptoConfig(
        ca_path=str(pki.ca_dir), server_cert=str(cert_file), server_key=str(key_file)
    )
    assert (
        receive_signed(
            session, encrypted, message_id="m", source="t", crypto=config, now=NOW
        ).records
        == 1
    )
    # without the server's key it cannot be opened
    outcome = receive_signed(
        session, encrypted, message_id="m2", source="t", crypto=crypto(pki), now=NOW
    )
    assert outcome.rule == "ACCOUNTING_SIGNATURE_INVALID"
    assert "no server certificate" in (outcome.reason or "")


def _subscription(session: Session) -> None:
    messaging.create_project(session, PLATFORM, name="accounting")
    messaging.create_topic(session, PLATFORM, project="accounting", topic="gLite-APEL")
    messaging.create_subscription(
        session,
        PLATFORM,
        project="accounting",
        subscription="loader",
        topic="projects/accounting/topics/gLite-APEL",
    )


def _publish(session: Session, *bodies: bytes) -> None:
    messages = [
        {"data": base64.b64encode(b).decode(), "attributes": {"empaid": f"e{i}"}}
        for i, b in enumerate(bodies)
    ]
    messaging.publish(
        session, PLATFORM, project="accounting", topic="gLite-APEL", messages=messages
    )


def test_the_subscription_is_consumed_and_acknowledged_with_the_load(
    session: Session, pki: Pki
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    assert (
        consume(
            session,
            project="accounting",
            subscription="loader",
            crypto=crypto(pki),
            limit=10,
            now=NOW,
        )
        is None
    )
    _subscription(session)
    good = sign(records(site, "1", "2"), pki.valid.cert_file, pki.valid.key_file)
    _publish(session, good, b"not signed at all")
    # a worker that dies before its commit: everything it did is rolled back, nothing acked
    with session.begin_nested() as crashed:
        batch = consume(
            session,
            project="accounting",
            subscription="loader",
            crypto=crypto(pki),
            limit=10,
            now=NOW,
        )
        assert batch is not None
        assert batch.messages == 2
        crashed.rollback()
    assert session.execute(select(JobRecord)).first() is None
    batch = consume(
        session, project="accounting", subscription="loader", crypto=crypto(pki), limit=10, now=NOW
    )
    assert batch is not None
    assert (batch.messages, [o.records for o in batch.outcomes]) == (2, [2, 0])
    assert [r.message_id for r in rejects(session)] == ["e1"]
    assert len(session.execute(select(JobRecord)).all()) == 2
    # acknowledged: nothing comes again
    again = consume(
        session, project="accounting", subscription="loader", crypto=crypto(pki), limit=10, now=NOW
    )
    assert again is not None
    assert again.messages == 0


def test_the_worker_drains_the_subscription_a_batch_per_transaction(
    session: Session,
    session_factory: sessionmaker[Session],
    pki: Pki,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = register_apel_host(session, pki.valid.dn)
    config = AccountingConfig(crypto=crypto(pki))
    assert worker.consume(session_factory, config, clock=lambda: NOW) == 0  # no subscription
    _subscription(session)
    good = sign(records(site, "1"), pki.valid.cert_file, pki.valid.key_file)
    _publish(session, *[good] * (worker.BATCH + 1), b"not signed")
    session.commit()
    # bounded: one batch per run at most here, the rest waits for the next run
    assert worker.consume(session_factory, config, clock=lambda: NOW, max_batches=1) == (
        worker.BATCH
    )
    with caplog.at_level("WARNING", logger="opsgraph.workers.accounting"):
        assert worker.consume(session_factory, config, clock=lambda: NOW) == 2
    assert "accounting/loader: message rejected" in caplog.text
    assert [r.message_id for r in rejects(session)] == [f"e{worker.BATCH + 1}"]
    assert len(session.execute(select(JobRecord)).all()) == 1  # the same record, replaced
    assert worker.consume(session_factory, config, clock=lambda: NOW) == 0
