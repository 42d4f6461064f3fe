//! What each lesson runs, as settings: a matrix cell (named by typed keys,
//! so a typo does not compile) or a port and an attack, plus what the lesson
//! changes. The lesson's id, title and description are in [`crate::lesson`].

use serde::Serialize;

use crate::attack::Attack;
use crate::client::TlsPolicy;
use crate::lesson::Lesson;
use crate::matrix::{CellId, Column, Row};
use crate::server::AuthPolicy;
use crate::settings::{ClientSettings, HopSettings, ServerSettings, Settings};
use crate::vocab::Choice;

fn cell(row: Row, column: Column) -> Settings {
    Settings { cell: Some(CellId::new(row, column)), ..Settings::default() }
}

fn port(port: u16) -> Settings {
    Settings { port: Some(port), ..Settings::default() }
}

/// A journey from a 587 submission.
fn journey(hop2: HopSettings) -> Settings {
    Settings { hop2: HopSettings { journey: true, ..hop2 }, ..port(587) }
}

/// The settings a lesson starts from.
pub fn recipe(lesson: Lesson) -> Settings {
    use Column::*;
    match lesson {
        Lesson::Submission587 => port(587),
        Lesson::Submissions465 => port(465),
        Lesson::Tls12Submission587 => Settings {
            client: ClientSettings { client_tls_versions: Some(crate::tls::TlsVersions::Tls12), ..ClientSettings::default() },
            ..port(587)
        },
        Lesson::Relay25 => port(25),
        Lesson::Strip587Opportunistic => cell(Row::Strip, Opportunistic),
        Lesson::Strip587Required => cell(Row::Strip, RequireStarttls),
        Lesson::Strip465 => Settings { attack: Some(Attack::Strip), ..port(465) },
        Lesson::Refuse454Opportunistic => Settings {
            server: ServerSettings { auth: Some(AuthPolicy::Always), ..ServerSettings::default() },
            ..cell(Row::Refuse454, Opportunistic)
        },
        Lesson::HideEhloMta => cell(Row::HideEhlo, MtaOpportunistic),
        Lesson::MtaStsFirstContact => cell(Row::Strip, StsEnforce),
        Lesson::MtaStsTofu => cell(Row::StsBlock, StsEnforce),
        Lesson::MtaStsCached => cell(Row::StsBlock, StsCached),
        Lesson::MtaStsMisissued => cell(Row::MitmCertTrusted, StsCached),
        Lesson::DaneMisissued => cell(Row::MitmCertTrusted, Dane),
        Lesson::DaneUnsigned => cell(Row::Strip, DaneUnsigned),
        Lesson::RequireTlsStrip => cell(Row::Strip, RequireTls),
        Lesson::MitmNoValidation => cell(Row::MitmCert, Opportunistic),
        Lesson::MitmValidating => cell(Row::MitmCert, RequireStarttls),
        Lesson::Cve20110411Unpatched => cell(Row::CmdInjectUnpatched, RequireStarttls),
        Lesson::Cve20110411Patched => cell(Row::CmdInjectPatched, RequireStarttls),
        Lesson::RespInjectUnpatched => cell(Row::RespInjectUnpatched, RequireStarttls),
        Lesson::StateCarryUnpatched => cell(Row::StateCarryUnpatched, RequireStarttls),
        Lesson::AuthCleartext => cell(Row::AuthCleartextOffered, Plain),
        Lesson::TooLate530 => Settings {
            server: ServerSettings { auth: Some(AuthPolicy::Always), require_tls: true, ..ServerSettings::default() },
            client: ClientSettings { policy: Some(TlsPolicy::Plain), ..ClientSettings::default() },
            ..port(587)
        },
        Lesson::Journey587 => journey(HopSettings::default()),
        Lesson::JourneyStripHop2 => journey(HopSettings { hop2_attack: Some(Attack::Strip), ..HopSettings::default() }),
        Lesson::Journey587BetweenMtas => journey(HopSettings { hop2_port: Some(587), ..HopSettings::default() }),
        Lesson::Smuggling => cell(Row::SmuggleLfDotCrlfPassLenient, MtaOpportunistic),
        Lesson::SmugglingNormalised => cell(Row::SmuggleLfDotCrlfNormaliseLenient, MtaOpportunistic),
        Lesson::Port25Blocked => cell(Row::PortBlock, MtaOpportunistic),
        Lesson::Port587Open => cell(Row::PortBlockSubmission, MtaOpportunistic),
        Lesson::WrongModeImplicit587 => cell(Row::WrongModeImplicitTo587, ImplicitTls),
        Lesson::WrongModeStarttls465 => cell(Row::WrongModeStarttlsTo465, RequireStarttls),
    }
}

/// A lesson as menus and listings show it.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
}

/// Every lesson, in teaching order.
pub fn all() -> Vec<Preset> {
    Lesson::ALL.iter().map(|&l| Preset { id: l.id(), title: l.title(), description: l.description() }).collect()
}
