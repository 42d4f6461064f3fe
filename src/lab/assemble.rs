//! The one place that turns [`Settings`] into a [`Scenario`], in a declared
//! order: the starting point (a lesson, a matrix cell, or a port's usual
//! setup), then the attack, then every setting given explicitly. Nothing set
//! explicitly is overwritten afterwards; a setting that cannot be honoured
//! together with another is an error that names both.

use crate::lab::lessons::Lesson;
use crate::lab::settings::{ClientSettings, DomainSettings, JourneySettings, ServerSettings, Settings, SettingsError, Validation};
use crate::proto::policy::sender::{SenderPolicy, SenderSetup};
use crate::proto::smtp::client::TlsPolicy;
use crate::proto::smtp::codec::EndOfData;
use crate::proto::smtp::server::Role;
use crate::sim::attack::Attack;
use crate::sim::scenario::{Drive, Scenario, ServerTls};
use crate::sim::world::people;
use crate::vocab::Named;

fn conflict(first: String, second: &str, why: impl Into<String>) -> SettingsError {
    SettingsError::Conflict { first, second: second.to_owned(), why: why.into() }
}

/// The scenario the settings describe.
pub fn scenario(settings: &Settings) -> Result<Scenario, SettingsError> {
    // 1. The starting point, and what brought its attack (for error messages).
    let (mut s, mut origin) = match (settings.preset, settings.cell) {
        (Some(lesson), Some(cell)) => {
            return Err(conflict(format!("--preset {lesson}"), &format!("--cell {cell}"), "a lesson already names its starting point"))
        }
        (Some(lesson), None) => (scenario(&lesson.recipe())?, format!("--preset {lesson}")),
        // Parsing a cell checked that it applies, so it has a scenario.
        (None, Some(cell)) => {
            (cell.scenario().ok_or_else(|| conflict(format!("--cell {cell}"), "the matrix", "no such cell"))?, format!("--cell {cell}"))
        }
        (None, None) if settings.journey.is_set() => {
            let port = settings.port.unwrap_or(587);
            if port == 25 {
                return Err(conflict("--port 25".into(), "--journey", "hop 1 of a journey is submission (587, 465 or 2525); 25 is hop 2"));
            }
            (Scenario::journey(port), String::new())
        }
        (None, None) => (Scenario::for_port(settings.port.unwrap_or(587)), String::new()),
    };
    if settings.journey.is_set() && s.relay.is_none() {
        return Err(conflict(origin, "the hop-2 settings", "that starting point is one connection, not a journey"));
    }
    // 2. The attack.
    if let Some(attack) = settings.attack {
        match s.attack {
            Some(existing) if existing != attack => {
                return Err(conflict(format!("--attack {attack}"), &origin, format!("that already puts {existing} on the wire")));
            }
            Some(_) => {}
            None => {
                s = s.with_attack(attack);
                origin = format!("--attack {attack}");
            }
        }
    }
    // 3. Everything set explicitly.
    if let Some(port) = settings.port {
        s.port = port;
    }
    if let Some(seed) = settings.seed {
        s.seed = seed;
    }
    if let Some(drive) = settings.drive {
        match s.attack {
            Some(a) if drive == Drive::Mallory && a.on_the_wire() => {
                return Err(conflict(
                    "--drive mallory".into(),
                    &origin,
                    format!("Mallory is you, so {a} cannot also be on the wire (its moves are a button in Mallory mode)"),
                ));
            }
            Some(a) if drive == Drive::Client && a.smuggle_sequence().is_some() => {
                return Err(conflict(
                    "--drive client".into(),
                    &origin,
                    format!("{a} is a client that writes its own bytes; you cannot type them too"),
                ));
            }
            _ => s.drive = drive,
        }
    }
    apply_server(&settings.server, &mut s, &origin, "")?;
    apply_client(&settings.client, &mut s, &origin, "")?;
    apply_journey(&settings.journey, &mut s)?;
    apply_domain(&settings.domain, &mut s)?;
    Ok(s)
}

/// What the recipient's domain publishes, as the sending MTA (of the one
/// connection, or of hop 2) will find it.
fn apply_domain(k: &DomainSettings, s: &mut Scenario) -> Result<(), SettingsError> {
    if *k == DomainSettings::default() {
        return Ok(());
    }
    let sender = match (s.sender.as_mut(), s.relay.as_mut().and_then(|r| r.next.sender.as_mut())) {
        (Some(sender), _) | (None, Some(sender)) => sender,
        (None, None) => {
            let knob = match (k.sts.is_some(), k.unsigned_zone, k.no_tlsa) {
                (true, _, _) => "--sts",
                (_, true, _) => "--unsigned-zone",
                (_, _, true) => "--no-tlsa",
                _ => "--tlsa-ta",
            };
            return Err(conflict(
                knob.into(),
                "this setup",
                "that describes the recipient's domain as a sending MTA looks it up: set --sender (or --hop2-sender) too",
            ));
        }
    };
    if let Some(mode) = k.sts {
        sender.domain.sts = Some(mode);
    }
    sender.domain.dnssec &= !k.unsigned_zone;
    sender.domain.tlsa &= !k.no_tlsa;
    sender.domain.tlsa_trust_anchor |= k.tlsa_ta;
    Ok(())
}

/// A sending MTA with `policy`, facing a domain that publishes everything
/// (MTA-STS enforce, TLSA, a signed zone, TLS-RPT): the domain knobs
/// (`--sts`, `--unsigned-zone`, `--no-tlsa`) take things away from it.
fn sender_setup(policy: SenderPolicy, cached: bool) -> SenderSetup {
    SenderSetup { policy, sts_cached: cached, domain: Default::default() }
}

/// The journey's knobs: the relay's behaviour, then hop 2's own (where it
/// connects, who is on its wire), then the same server and client knobs as
/// hop 1's, applied to hop 2.
fn apply_journey(k: &JourneySettings, s: &mut Scenario) -> Result<(), SettingsError> {
    let Some(relay) = s.relay.as_mut() else { return Ok(()) };
    if let Some(outbound) = k.outbound {
        relay.outbound = outbound;
    }
    let (k, next) = (&k.hop2, &mut relay.next);
    if let Some(port) = k.port {
        // A submission port is a submission server, whatever host it is on (RFC 6409 §4.3).
        if let Some(role) = [Role::Submission, Role::Submissions].into_iter().find(|r| r.default_port() == port) {
            next.server = people::server(role);
            next.set_server_tls(ServerTls::for_role(role));
            if role == Role::Submissions {
                next.client.policy = TlsPolicy::Implicit;
            }
        }
        next.port = port;
    }
    if let Some(attack) = k.attack {
        if next.sender.is_none() {
            // An attack on the MTA's lookups meets the sender it defeats, unless --hop2-sender says otherwise.
            next.sender = attack.sender_it_defeats().map(Box::new);
        }
        if !attack.on_the_wire() && !attack.on_the_senders_path() {
            return Err(conflict(
                format!("--hop2-attack {attack}"),
                "hop 2",
                "only attacks on the wire apply to hop 2 (a smuggler submits on hop 1: use --attack)",
            ));
        }
        next.attack = Some(attack);
    }
    if k.mallory {
        if let Some(a) = next.attack {
            return Err(conflict(
                "--hop2-mallory".into(),
                &format!("--hop2-attack {a}"),
                "Mallory is you, so no other attacker sits on hop 2 (her moves are buttons in Mallory mode)",
            ));
        }
        next.drive = Drive::Mallory;
    }
    if k.client.policy == Some(TlsPolicy::Implicit) {
        return Err(conflict(
            "--hop2-policy implicit".into(),
            "hop 2",
            "hop 2 is port 25, where TLS is STARTTLS (RFC 3207); implicit TLS (RFC 8314 §3.3) is for submission",
        ));
    }
    apply_server(&k.server, next, "", HOP2)?;
    apply_client(&k.client, next, "", HOP2)
}

/// How hop 2's knobs are named.
const HOP2: &str = "hop2-";

/// The server's knobs, on top of whatever the scenario had. `origin` names
/// the setting that brought the scenario's attack; `prefix` is the knobs'
/// (`hop2-` on hop 2), for the messages.
pub fn apply_server(k: &ServerSettings, s: &mut Scenario, origin: &str, prefix: &str) -> Result<(), SettingsError> {
    // The role replaces the whole server setup, so it comes before the knobs that adjust it.
    if let Some(role) = k.role {
        s.server = people::server(role);
        s.set_server_tls(ServerTls::for_role(role));
        if k.server_tls.is_none() {
            check_attack(s.attack, None, Some(ServerTls::for_role(role)), format!("--{prefix}role {role}"), origin)?;
        }
    }
    if let Some(tls) = k.server_tls {
        check_attack(s.attack, None, Some(tls), format!("--{prefix}server-tls {tls}"), origin)?;
        s.set_server_tls(tls);
    }
    if let Some(auth) = k.auth {
        s.server.auth = auth;
    }
    s.server.require_tls |= k.require_tls;
    if let Some(versions) = k.server_tls_versions {
        s.server_tls_versions = versions;
    }
    if let Some(cert) = k.cert {
        s.server_identity = cert;
    }
    s.server_keeps_buffer_across_tls |= k.server_keeps_buffer;
    s.server.reset_on_tls &= !k.server_keeps_state;
    s.server.requiretls |= k.offer_requiretls;
    if !k.lenient_end_of_data.is_empty() {
        s.server.end_of_data = EndOfData::accepting(&k.lenient_end_of_data);
    }
    Ok(())
}

/// The client's knobs, on top of whatever the scenario had (see [`apply_server`]).
pub fn apply_client(k: &ClientSettings, s: &mut Scenario, origin: &str, prefix: &str) -> Result<(), SettingsError> {
    let this = if origin.is_empty() { "this setup" } else { origin };
    if let Some(policy) = k.policy {
        check_attack(s.attack, Some(policy), None, format!("--{prefix}policy {policy}"), origin)?;
        s.client.policy = policy;
    }
    if let Some(versions) = k.client_tls_versions {
        s.client_tls_versions = versions;
    }
    if let Some(check) = k.validate {
        s.client.validate_certificate = check == Validation::Enforce;
    }
    if let Some(m) = k.mechanism {
        if k.no_auth {
            return Err(conflict(
                format!("--{prefix}mechanism {m}"),
                &format!("--{prefix}no-auth"),
                "a client that does not authenticate uses no mechanism",
            ));
        }
        match &mut s.client.credentials {
            Some(c) => c.mechanism = m,
            None => {
                return Err(conflict(
                    format!("--{prefix}mechanism {m}"),
                    this,
                    "the client here does not authenticate (an MTA relaying to an MX)",
                ))
            }
        }
    }
    if k.no_auth {
        s.client.credentials = None;
    }
    s.client.pipelining &= !k.no_pipelining;
    s.client_keeps_buffer_across_tls |= k.client_keeps_buffer;
    s.client.reuse_pre_tls_capabilities |= k.client_reuses_capabilities;
    s.client.require_tls |= k.requiretls;
    if let Some(policy) = k.sender {
        if s.relay.is_some() || s.server.role != Role::Relay {
            return Err(conflict(
                format!("--{prefix}sender {policy}"),
                this,
                "a sender policy is for an MTA relaying to an MX on 25 (in a journey, use --hop2-sender)",
            ));
        }
        s.sender = Some(Box::new(sender_setup(policy, k.sts_cached)));
    } else if k.sts_cached {
        match s.sender.as_mut() {
            Some(sender) => sender.sts_cached = true,
            None => {
                return Err(conflict(
                    format!("--{prefix}sts-cached"),
                    if prefix.is_empty() { "this setup" } else { "hop 2" },
                    format!("only a sending MTA with --{prefix}sender caches a policy"),
                ))
            }
        }
    }
    Ok(())
}

/// An explicit client policy or server TLS mode that would turn the attack into something else.
fn check_attack(
    attack: Option<Attack>,
    policy: Option<TlsPolicy>,
    tls: Option<ServerTls>,
    setting: String,
    origin: &str,
) -> Result<(), SettingsError> {
    match attack.and_then(|a| a.misfit(policy, tls).map(|why| (a, why))) {
        Some((a, why)) => Err(conflict(setting, if origin.is_empty() { a.id() } else { origin }, why)),
        None => Ok(()),
    }
}

/// A matrix cell placed on its hop of a whole journey: a submission column's
/// session is hop 1, an MTA column's is hop 2; then the journey's knobs. The
/// cells' attacks are the rows', so `--hop2-attack` has no place here.
pub fn journey_cell(cell: crate::outcome::matrix::CellId, k: &JourneySettings) -> Result<Option<Scenario>, SettingsError> {
    if let Some(a) = k.hop2.attack {
        return Err(conflict(format!("--hop2-attack {a}"), "the matrix", "each row puts its own attack on its hop"));
    }
    if k.hop2.mallory {
        return Err(conflict("--hop2-mallory".into(), "the matrix", "the matrix runs every session by itself"));
    }
    if let Some(o) = k.outbound {
        return Err(conflict(format!("--outbound {o}"), "the matrix", "the smuggling rows set the relay's behaviour themselves"));
    }
    if !k.hop2.server.lenient_end_of_data.is_empty() {
        return Err(conflict("--hop2-lenient-end-of-data".into(), "the matrix", "the smuggling rows set the MX's end of data themselves"));
    }
    let Some(s) = cell.scenario() else { return Ok(None) };
    let mut j = if s.relay.is_some() || cell.column.is_submission() { s.into_journey() } else { s.as_hop2() };
    apply_journey(k, &mut j)?;
    Ok(Some(j))
}

/// A lesson's scenario.
pub fn lesson(lesson: Lesson) -> Result<Scenario, SettingsError> {
    scenario(&lesson.recipe())
}

/// The role a server setup plays, for the CLI's `serve` (which starts from a role, not a port).
pub fn server_for(k: &ServerSettings) -> Result<Scenario, SettingsError> {
    let role = k.role.unwrap_or(Role::Submission);
    let mut s = Scenario::for_port(role.default_port());
    apply_server(k, &mut s, "", "")?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::matrix::{CellId, Column, Row};
    use crate::sim::world::pki::IdentityKind;

    fn link(text: &str) -> Result<Scenario, SettingsError> {
        scenario(&Settings::from_link(text).unwrap().settings)
    }

    #[test]
    fn empty_settings_are_the_587_submission() {
        assert_eq!(scenario(&Settings::default()).unwrap(), Scenario::submission());
    }

    #[test]
    fn a_cell_is_the_matrix_scenario() {
        assert_eq!(link("cell=strip@opportunistic").unwrap(), CellId::new(Row::Strip, Column::Opportunistic).scenario().unwrap());
    }

    #[test]
    fn the_port_survives_a_wrong_mode_attack() {
        let s = link("port=2525&attack=wrong-mode-implicit-to-587").unwrap();
        assert_eq!((s.port, s.client.policy, s.server_tls()), (2525, TlsPolicy::Implicit, ServerTls::Starttls));
    }

    #[test]
    fn conflicts_name_both_settings() {
        let err = link("policy=plain&attack=wrong-mode-implicit-to-587").unwrap_err().to_string();
        assert!(err.starts_with("--policy plain conflicts with --attack wrong-mode-implicit-to-587"), "{err}");
        let err = link("preset=wrong-mode-starttls-465&server-tls=starttls").unwrap_err().to_string();
        assert!(err.starts_with("--server-tls starttls conflicts with --preset wrong-mode-starttls-465"), "{err}");
        let err = link("preset=strip-465&attack=eavesdrop").unwrap_err().to_string();
        assert!(err.starts_with("--attack eavesdrop conflicts with --preset strip-465"), "{err}");
        assert!(link("port=25&mechanism=LOGIN").is_err());
        assert!(Settings::from_link("validate=1").is_err(), "the check is enforce or report, not a switch");
        assert!(link("preset=relay-25&cell=strip@plain").is_err());
    }

    #[test]
    fn explicit_settings_override_a_lesson() {
        let s = link("preset=submission-587&cert=self-signed&role=relay").unwrap();
        assert_eq!((s.server_identity, s.server.role), (IdentityKind::SelfSigned, Role::Relay));
        assert_eq!(scenario(&Settings { preset: Some(Lesson::Relay25), ..Settings::default() }).unwrap(), Scenario::relay());
    }
}
