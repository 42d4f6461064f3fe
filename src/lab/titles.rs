//! The titles of the protocol's named values, as the lab's menus and the
//! CLI's help show them: the layer that defines the values knows no menus.

use crate::vocab::titles;

titles!(crate::proto::smtp::client::TlsPolicy {
    Plain: "never uses TLS",
    Opportunistic: "uses STARTTLS if the server offers it, otherwise carries on in cleartext",
    RequireStartTls: "STARTTLS or nothing: quits unless the upgrade succeeds",
    Implicit: "TLS from the first byte, as on port 465",
});

titles!(crate::proto::smtp::server::Role {
    Relay: "an MX on port 25: takes mail for its own domains from other servers",
    Submission: "submission on port 587 (RFC 6409): takes mail from its own users, offers STARTTLS",
    Submissions: "submission on port 465 with implicit TLS (RFC 8314 §3.3)",
});

titles!(crate::proto::smtp::server::AuthPolicy {
    Never: "no AUTH at all, as on an MX",
    AfterTls: "AUTH offered and accepted only inside TLS",
    Always: "AUTH offered in cleartext too (unsafe)",
});

titles!(crate::proto::smtp::codec::Mechanism {
    Plain: "the name and password in one base64 string (RFC 4616 §2)",
    Login: "the name and the password as two base64 lines",
});

titles!(crate::proto::smtp::codec::EodVariant {
    LfDotCrlf: "\\n.\\r\\n: a dot line after a bare LF",
    LfDotLf: "\\n.\\n: bare LF on both sides of the dot",
    CrDotCrlf: "\\r.\\r\\n: a dot line after a bare CR",
    CrlfDotLf: "\\r\\n.\\n: a bare LF after the dot",
    All: "every variant above",
});

titles!(crate::proto::tls::TlsVersions {
    Both: "TLS 1.2 and 1.3 (1.3 when both sides have it)",
    Tls13: "TLS 1.3 only",
    Tls12: "TLS 1.2 only, as older software",
});

titles!(crate::proto::policy::dns::Qtype {
    A: "an IPv4 address",
    Aaaa: "an IPv6 address",
    Mx: "a mail exchanger (RFC 5321 §5.1)",
    Txt: "text: SPF (RFC 7208), MTA-STS (RFC 8461 §3.1), TLS-RPT (RFC 8460 §3)",
    Tlsa: "a certificate association (RFC 6698 §2)",
});

titles!(crate::proto::policy::dns::Dnssec {
    Secure: "signed, with a chain of signatures from a trust anchor (RFC 4035 §4.3)",
    Insecure: "unsigned: nothing in the answer can be checked (RFC 4035 §4.3)",
    Bogus: "signed, but the signatures do not check out; the resolver answers SERVFAIL (RFC 4035 §4.3, §5.5)",
});

titles!(crate::proto::policy::dns::Rcode {
    NoError: "an answer, possibly with no records of the type asked for",
    ServFail: "the resolver could not give a trustworthy answer",
});

titles!(crate::proto::policy::sender::SenderPolicy {
    Opportunistic: "STARTTLS when offered, no certificate check, cleartext otherwise (RFC 7435 §4, RFC 3207 §4)",
    MtaSts: "looks up and applies the domain's MTA-STS policy (RFC 8461 §5)",
    Dane: "looks up TLSA records and applies them when DNSSEC validates them (RFC 7672 §2)",
});

titles!(crate::proto::policy::sender::ResultType {
    StarttlsNotSupported: "the MX did not support STARTTLS",
    CertificateHostMismatch: "the certificate does not name the MX host",
    CertificateExpired: "the certificate has expired",
    CertificateNotTrusted: "the certificate does not chain to a trusted CA, or its chain is broken",
    ValidationFailure: "a failure of no other type",
    TlsaInvalid: "no TLSA record of the RRset matched",
    DnssecInvalid: "the resolver returned no valid records",
    DaneRequired: "the sender requires DANE, and no DNSSEC-validated TLSA records were found",
    StsPolicyFetchError: "the MTA-STS policy could not be fetched",
    StsPolicyInvalid: "the MTA-STS policy did not validate",
    StsWebpkiInvalid: "the MTA-STS policy could not be authenticated with PKIX validation",
});

titles!(crate::proto::policy::mta_sts::StsMode {
    Enforce: "deliver only to a listed MX, over TLS with a valid certificate",
    Testing: "deliver as before, and report what would have failed (TLS-RPT, RFC 8460)",
    None: "the domain has withdrawn its policy",
});
