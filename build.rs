//! Makes the simulated world's certificates once, at build time: Ed25519 keys
//! from fixed seeds and Ed25519 signatures (deterministic, RFC 8032 §5.1.6),
//! so the bytes are the same on every build, natively and in the browser, and
//! the page carries no certificate generator.

use std::fmt::Write as _;

#[path = "src/sim/world/pki/make.rs"]
#[allow(dead_code)]
mod make;
#[path = "src/sim/world/names.rs"]
#[allow(dead_code)]
mod names;

/// A PKCS#8 (v1) Ed25519 private key for a 32-byte seed (RFC 8410 §7).
fn ed25519_pkcs8(seed: &[u8]) -> Vec<u8> {
    let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    der.extend_from_slice(seed);
    der
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/sim/world/pki/make.rs");
    println!("cargo:rerun-if-changed=src/sim/world/names.rs");
    let key = |prefix: &str| {
        let prefix = prefix.to_owned();
        move |label: &str| {
            // The CAs' labels ("ca", "rogue-ca") are shared, so one trusted root and one
            // rogue CA serve every host; the first host's own labels stay bare, as they were.
            let label = if prefix.is_empty() || label.ends_with("ca") { label.to_owned() } else { format!("{prefix}/{label}") };
            let seed = ring::digest::digest(&ring::digest::SHA256, format!("smtp-lab fixed key: {label}").as_bytes());
            rcgen::KeyPair::try_from(ed25519_pkcs8(seed.as_ref()).as_slice())
        }
    };
    let bytes = |b: &[u8]| format!("&{b:?}");
    let mut out = String::from("// Made by build.rs.\n");
    out.push_str(
        "/// (kind id, chain leaf first, PKCS#8 key)\npub(super) type Made = (&'static str, &'static [&'static [u8]], &'static [u8]);\n",
    );
    out.push_str("/// (host name, its identities)\npub(super) const HOSTS: &[(&str, &[Made])] = &[\n");
    let mut ca_der = Vec::new();
    for (i, host) in names::LAB_HOSTS.iter().enumerate() {
        let prefix = if i == 0 { String::new() } else { host.to_string() };
        // One CA key signs every host's certificates, so one trusted root serves the whole world.
        let (ca, made) = make::make(host, names::SIM_EPOCH_UNIX, key(&prefix)).expect("the lab's certificates");
        if i == 0 {
            ca_der = ca;
        }
        writeln!(out, "    ({host:?}, &[").unwrap();
        for m in &made {
            let chain: Vec<String> = m.chain.iter().map(|c| bytes(c)).collect();
            writeln!(out, "        ({:?}, &[{}], {}),", m.id, chain.join(", "), bytes(&m.key)).unwrap();
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    writeln!(out, "pub(super) const CA: &[u8] = {};", bytes(&ca_der)).unwrap();
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("lab_pki.rs");
    std::fs::write(path, out).unwrap();
}
