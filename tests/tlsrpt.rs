//! The TLS-RPT report (RFC 8460) the lab makes from a session: it validates
//! against a JSON Schema written from RFC 8460 §4.4, and its policy and
//! failure types are the ones the session's steps show.

use smtp_lab::outcome::{matrix::CellId, tlsrpt::report};
use smtp_lab::sim::{world::Pki, Trace};

fn trace(cell: &str) -> Trace {
    cell.parse::<CellId>().unwrap().scenario().unwrap().run(&Pki::lab())
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/tlsrpt.schema.json")).unwrap();
    jsonschema::options().should_validate_formats(true).build(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// The report of a cell, validated, as JSON: policy type and failure types.
fn reported(cell: &str) -> (String, Vec<String>, serde_json::Value) {
    let r = report(&trace(cell)).unwrap_or_else(|| panic!("{cell}: no report"));
    assert_eq!(r.rua, "mailto:tlsrpt@example.test", "{cell}: sent where the domain's record says");
    let json = serde_json::to_value(&r).unwrap();
    let errors: Vec<String> = schema().iter_errors(&json).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{cell}: {errors:?}\n{json:#}");
    let policy = &json["policies"][0];
    let kind = policy["policy"]["policy-type"].as_str().unwrap().to_owned();
    let types =
        policy["failure-details"].as_array().map_or(vec![], |d| d.iter().map(|f| f["result-type"].as_str().unwrap().to_owned()).collect());
    (kind, types, json)
}

#[test]
fn every_report_validates_and_names_what_the_session_ran_into() {
    let cases: [(&str, &str, &[&str]); 14] = [
        // Delivered as the policy asks: a success, no failure.
        ("refuse-454@sts-testing", "sts", &["starttls-not-supported"]),
        ("strip@sts-enforce", "sts", &["starttls-not-supported"]),
        ("mitm-cert@sts-enforce", "sts", &["certificate-not-trusted"]),
        ("mitm-cert@sts-testing", "sts", &["certificate-not-trusted"]),
        ("mitm-cert-trusted@sts-cached", "sts", &[]),
        ("mx-spoof@sts-enforce", "sts", &["validation-failure"]),
        ("sts-block@sts-enforce", "no-policy-found", &["sts-policy-fetch-error", "starttls-not-supported"]),
        ("sts-strip@sts-enforce", "no-policy-found", &["starttls-not-supported"]),
        ("sts-block@sts-cached", "sts", &["starttls-not-supported"]),
        ("mitm-cert-trusted@dane", "tlsa", &["tlsa-invalid"]),
        ("mx-spoof@dane", "no-policy-found", &["dnssec-invalid"]),
        ("tlsa-strip@dane", "no-policy-found", &["dnssec-invalid"]),
        ("strip@dane", "tlsa", &["starttls-not-supported"]),
        ("strip@dane-unsigned", "no-policy-found", &["starttls-not-supported"]),
    ];
    for (cell, kind, types) in cases {
        let (got_kind, got_types, json) = reported(cell);
        assert_eq!(
            (got_kind.as_str(), got_types.iter().map(String::as_str).collect::<Vec<_>>().as_slice()),
            (kind, types),
            "{cell}:\n{json:#}"
        );
        let summary = &json["policies"][0]["summary"];
        let failed = summary["total-failure-session-count"].as_u64().unwrap();
        let delivered_securely = cell == "mitm-cert-trusted@sts-cached";
        // A misissued certificate passes every check MTA-STS makes: the report sees a success.
        assert_eq!(failed, u64::from(!delivered_securely), "{cell}");
        assert_eq!(summary["total-successful-session-count"].as_u64().unwrap(), u64::from(delivered_securely), "{cell}");
    }
}

#[test]
fn an_sts_report_carries_the_policy_and_a_tlsa_report_the_records() {
    let (_, _, json) = reported("strip@sts-enforce");
    let policy = &json["policies"][0]["policy"];
    assert_eq!(policy["policy-domain"], "example.test");
    assert_eq!(policy["mx-host"], serde_json::json!(["mail.example.test"]));
    assert_eq!(policy["policy-string"][1], "mode: enforce");
    let detail = &json["policies"][0]["failure-details"][0];
    assert_eq!(
        (detail["receiving-mx-hostname"].as_str(), detail["receiving-ip"].as_str()),
        (Some("mail.example.test"), Some("198.51.100.25"))
    );
    let (_, _, json) = reported("strip@dane");
    assert!(json["policies"][0]["policy"]["policy-string"][0].as_str().unwrap().starts_with("3 1 1 "));
    // The schema is not a rubber stamp.
    let mut bad = json.clone();
    bad["policies"][0]["failure-details"][0]["result-type"] = "tls-broken".into();
    assert!(!schema().is_valid(&bad));
    bad = json;
    bad.as_object_mut().unwrap().remove("report-id");
    assert!(!schema().is_valid(&bad));
}

#[test]
fn no_record_no_report() {
    // The opportunistic column's domain publishes no _smtp._tls record, and that sender looks none up.
    assert!(report(&trace("strip@dns-opportunistic")).is_none());
}
