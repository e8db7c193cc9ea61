"""X.509 names in OpenSSL's slash form (`/C=UK/O=eScience/CN=host.example.org`), the form
GOCDB stores host DNs in and APEL's SSM gives a signer's DN: shared by the gateway (client
certificates) and the domains (signed accounting messages)."""

from __future__ import annotations

from collections.abc import Mapping

from cryptography import x509

# OpenSSL's short names (`openssl x509 -subject -nameopt compat`); other OIDs dotted
_SHORT_NAMES: Mapping[str, str] = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.15": "businessCategory",
    "2.5.4.16": "postalAddress",
    "2.5.4.17": "postalCode",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}


def _escape(value: str) -> str:
    out = []
    for byte in value.encode("utf-8"):
        if byte < 0x20 or byte >= 0x7F:
            out.append(f"\\x{byte:02X}")
        elif byte in b"/+":
            out.append("\\" + chr(byte))
        else:
            out.append(chr(byte))
    return "".join(out)


def slash_dn(name: x509.Name) -> str:
    """`name` as `openssl x509 -subject -nameopt compat` prints it (OpenSSL 3): RDNs in
    the certificate's order, each `/`-prefixed, the values of a multi-valued RDN joined
    by `+`; `/` and `+` in values backslash-escaped, other bytes outside printable ASCII
    as `\\xHH` of their UTF-8 encoding."""
    parts = []
    for rdn in name.rdns:
        parts.append(
            "+".join(
                f"{_SHORT_NAMES.get(a.oid.dotted_string, a.oid.dotted_string)}="
                f"{_escape(a.value if isinstance(a.value, str) else a.value.decode('latin-1'))}"
                for a in rdn
            )
        )
    return "".join("/" + part for part in parts)
