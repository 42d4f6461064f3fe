//! What the learner did in a session they drive: the lines they typed at
//! the console and Mallory's decisions, each with the step it was taken at.
//! A session is a pure function of its settings and these, so they travel
//! in its link (`acts=`) and in its exported file, and a reload, a shared
//! link and an opened file re-run the same session byte for byte.
//!
//! In a link each action is `<at><kind>[~<arg>]`, joined by `.`: `at` the
//! number of steps there were when it was taken; kind `t` (a typed line),
//! `p` (pass), `d` (drop), `r` (replace), `f` (flip a bit), `a` (a built-in
//! attack's move), `c`/`s` (a line injected towards the client or server);
//! `arg` is the bytes in unpadded base64url (`f`: the byte's offset; `a`:
//! the attack's id). Base64url keeps any byte, CR and LF included, and
//! needs no escaping in a URL.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::sim::{Attack, Decision, Direction};
use crate::vocab::{Named, UnknownName};

/// The most actions a link may carry: a session has at most
/// [`crate::sim::MAX_STEPS`] steps, and an action makes at least one.
pub(crate) const MAX_ACTIONS: usize = crate::sim::MAX_STEPS;

/// Something the learner did, replayed when the session is re-run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A line typed at the console (without CRLF).
    Type(Vec<u8>),
    /// Mallory's decision on the segment she held.
    Decide(Decision),
    /// Mallory's own bytes, sent as if from the other side.
    Inject(Direction, Vec<u8>),
}

/// An action and the number of steps there were when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    pub at: usize,
    pub action: Action,
}

/// Why a link's `acts=` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActsError {
    #[error("action {index}: {why}")]
    Bad { index: usize, why: BadAction },
    #[error("more than {MAX_ACTIONS} actions")]
    TooMany,
}

/// What is wrong with one action of a link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAction {
    #[error("it does not start with the step it was taken at")]
    NoStep,
    #[error("{0:?} is not an action (t, p, d, r, f, a, c or s)")]
    Kind(char),
    #[error("its bytes are not base64url")]
    Bytes,
    #[error("the byte to flip is not a number")]
    Offset,
    #[error(transparent)]
    Attack(#[from] UnknownName),
    #[error("its argument is missing")]
    Missing,
    #[error("this action takes no argument")]
    Extra,
}

impl Acted {
    /// The action as a link writes it.
    fn to_link(&self) -> String {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let (kind, arg) = match &self.action {
            Action::Type(line) => ('t', Some(b64(line))),
            Action::Decide(Decision::Pass) => ('p', None),
            Action::Decide(Decision::Drop) => ('d', None),
            Action::Decide(Decision::Replace(bytes)) => ('r', Some(b64(bytes))),
            Action::Decide(Decision::FlipBit(at)) => ('f', Some(at.to_string())),
            Action::Decide(Decision::Preset(attack)) => ('a', Some(attack.id().to_owned())),
            Action::Inject(Direction::ServerToClient, bytes) => ('c', Some(b64(bytes))),
            Action::Inject(Direction::ClientToServer, bytes) => ('s', Some(b64(bytes))),
        };
        match arg {
            Some(arg) => format!("{}{kind}~{arg}", self.at),
            None => format!("{}{kind}", self.at),
        }
    }

    fn from_link(text: &str) -> Result<Acted, BadAction> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let at = text[..digits].parse().map_err(|_| BadAction::NoStep)?;
        let rest = &text[digits..];
        let (kind, arg) = match rest.split_once('~') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (rest, None),
        };
        let mut chars = kind.chars();
        let kind = match (chars.next(), chars.next()) {
            (Some(k), None) => k,
            (Some(k), Some(_)) => return Err(BadAction::Kind(k)),
            (None, _) => return Err(BadAction::Kind(' ')),
        };
        let bytes = || URL_SAFE_NO_PAD.decode(arg.ok_or(BadAction::Missing)?).map_err(|_| BadAction::Bytes);
        let action = match kind {
            't' => Action::Type(bytes()?),
            'r' => Action::Decide(Decision::Replace(bytes()?)),
            'c' => Action::Inject(Direction::ServerToClient, bytes()?),
            's' => Action::Inject(Direction::ClientToServer, bytes()?),
            'f' => Action::Decide(Decision::FlipBit(arg.ok_or(BadAction::Missing)?.parse().map_err(|_| BadAction::Offset)?)),
            'a' => Action::Decide(Decision::Preset(arg.ok_or(BadAction::Missing)?.parse::<Attack>()?)),
            'p' | 'd' if arg.is_some() => return Err(BadAction::Extra),
            'p' => Action::Decide(Decision::Pass),
            'd' => Action::Decide(Decision::Drop),
            other => return Err(BadAction::Kind(other)),
        };
        Ok(Acted { at, action })
    }

    /// What the learner did, in a sentence (for the page and the exported file).
    pub fn describe(&self) -> String {
        let text = |b: &[u8]| String::from_utf8_lossy(b).trim_end_matches(['\r', '\n']).replace("\r\n", "⏎").replace('\n', "⏎");
        let what = match &self.action {
            Action::Type(line) => format!("typed {:?}", text(line)),
            Action::Decide(Decision::Pass) => "Mallory passed the segment on".to_owned(),
            Action::Decide(Decision::Drop) => "Mallory dropped the segment".to_owned(),
            Action::Decide(Decision::Replace(bytes)) => format!("Mallory replaced the segment with {:?}", text(bytes)),
            Action::Decide(Decision::FlipBit(at)) => format!("Mallory flipped a bit of byte {at}"),
            Action::Decide(Decision::Preset(attack)) => format!("Mallory did what the {} attack does", attack.id()),
            Action::Inject(Direction::ServerToClient, bytes) => format!("Mallory injected {:?} towards the client", text(bytes)),
            Action::Inject(Direction::ClientToServer, bytes) => format!("Mallory injected {:?} towards the server", text(bytes)),
        };
        format!("after step {}: {what}", self.at)
    }
}

/// Actions as a link's `acts=` value (empty for none).
pub(crate) fn to_link(actions: &[Acted]) -> String {
    actions.iter().map(Acted::to_link).collect::<Vec<_>>().join(".")
}

/// Reads a link's `acts=` value.
pub(crate) fn from_link(text: &str) -> Result<Vec<Acted>, ActsError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > MAX_ACTIONS {
        return Err(ActsError::TooMany);
    }
    parts.into_iter().enumerate().map(|(index, p)| Acted::from_link(p).map_err(|why| ActsError::Bad { index, why })).collect()
}

/// An action as the exported session file lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ActedView {
    pub at: usize,
    pub text: String,
}

impl From<&Acted> for ActedView {
    fn from(a: &Acted) -> Self {
        ActedView { at: a.at, text: a.describe() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_as_written() {
        let all = vec![
            Acted { at: 2, action: Action::Type(b"EHLO me.example.test".to_vec()) },
            Acted { at: 4, action: Action::Decide(Decision::Pass) },
            Acted { at: 5, action: Action::Decide(Decision::Drop) },
            Acted { at: 6, action: Action::Decide(Decision::Replace(b"250-x\r\n250 OK\r\n".to_vec())) },
            Acted { at: 7, action: Action::Decide(Decision::FlipBit(17)) },
            Acted { at: 8, action: Action::Decide(Decision::Preset(Attack::Strip)) },
            Acted { at: 9, action: Action::Inject(Direction::ServerToClient, b"250 OK\r\n".to_vec()) },
            Acted { at: 10, action: Action::Inject(Direction::ClientToServer, vec![0, 255, b'.']) },
        ];
        let link = to_link(&all);
        assert!(link.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)), "{link}");
        assert_eq!(from_link(&link).unwrap(), all);
        assert_eq!(from_link("").unwrap(), vec![]);
    }

    #[test]
    fn a_bad_action_is_an_error_that_says_which() {
        let bad = |t: &str| match from_link(t) {
            Err(ActsError::Bad { index, why }) => (index, why),
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(bad("p"), (0, BadAction::NoStep));
        assert_eq!(bad("2p.3x"), (1, BadAction::Kind('x')));
        assert_eq!(bad("2t"), (0, BadAction::Missing));
        assert_eq!(bad("2t~!!"), (0, BadAction::Bytes));
        assert_eq!(bad("2p~x"), (0, BadAction::Extra));
        assert_eq!(bad("2f~x"), (0, BadAction::Offset));
        assert!(matches!(bad("2a~stripp").1, BadAction::Attack(u) if u.nearest() == Some("strip")));
        assert_eq!(from_link(&vec!["1p"; MAX_ACTIONS + 1].join(".")), Err(ActsError::TooMany));
    }
}
