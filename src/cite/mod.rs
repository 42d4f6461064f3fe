//! Citations of RFC sections, as the lab writes them in its prose
//! (`RFC 3207 §4`, `RFC 8461 §5.1, §10.2`, `RFC 8446 Appendix D.4`, a whole
//! `RFC 6409`): found in a text, resolved against the table of the sections
//! the lab cites (`cited.tsv`: number, section, heading), and given a link to
//! the section at the RFC Editor and its heading.
//!
//! The table is generated: `src/cite/rfc_sections.tsv` holds every section of
//! every RFC in the project's library (`cargo xtask rfc-sections` writes it
//! from the texts), and `tests/citations.rs` checks every citation in the
//! tree against it and writes `cited.tsv`, the rows the tree cites, which is
//! all the library carries.
//!
//! [`Prose`] is a text that may cite: it serializes as the text when it cites
//! nothing, and otherwise as a list of pieces, text and links, which the page
//! renders as they come; [`Prose::with_headings`] is the terminal's form.

use std::borrow::Cow;
use std::fmt;

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, recognize, verify};
use nom::multi::many0;
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

/// The sections the lab cites, with their headings (one row per section; an
/// empty section is the RFC's title). Written by `tests/citations.rs`.
const CITED: &str = include_str!("cited.tsv");

/// One cited place: an RFC, and a section of it unless the whole RFC is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Citation<'a> {
    pub rfc: u16,
    /// `4.1.3`, `A`, `B.4`; `None` for the whole RFC.
    pub section: Option<&'a str>,
}

impl Citation<'_> {
    /// The section's heading (or the RFC's title), when the table has it.
    pub fn heading(&self) -> Option<&'static str> {
        let section = self.section.unwrap_or("");
        CITED.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
            let mut cols = line.splitn(3, '\t');
            let (n, s, h) = (cols.next()?, cols.next()?, cols.next()?);
            (n.parse() == Ok(self.rfc) && s == section).then_some(h)
        })
    }

    /// The section at the RFC Editor: `#section-4.1` for a section, `#appendix-A.1` for an appendix.
    pub fn url(&self) -> String {
        match self.section {
            None => format!("https://www.rfc-editor.org/rfc/rfc{}", self.rfc),
            Some(s) if s.starts_with(|c: char| c.is_ascii_uppercase()) => {
                format!("https://www.rfc-editor.org/rfc/rfc{}#appendix-{s}", self.rfc)
            }
            Some(s) => format!("https://www.rfc-editor.org/rfc/rfc{}#section-{s}", self.rfc),
        }
    }
}

impl fmt::Display for Citation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.section {
            Some(s) => write!(f, "RFC {} §{s}", self.rfc),
            None => write!(f, "RFC {}", self.rfc),
        }
    }
}

/// A piece of a text: words, or a citation as written (`RFC 3207 §4`, or `§6` after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Cite { written: &'a str, citation: Citation<'a> },
}

/// A section number: `4`, `4.1.3`, `A`, `B.4` (a trailing full stop is the sentence's).
fn section(input: &str) -> IResult<&str, &str> {
    let part = verify(digit1, |d: &str| d.len() <= 3);
    let first = alt((part, recognize(satisfy(|c| c.is_ascii_uppercase()))));
    let part = verify(digit1, |d: &str| d.len() <= 3);
    let number = recognize((first, many0(preceded(char('.'), part))));
    // Not a word that starts with a capital ("Section Foo" after an RFC number is no section).
    verify(number, |n: &str| !n.is_empty()).parse(input).and_then(|(rest, n)| match rest.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() => Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Verify))),
        _ => Ok((rest, n)),
    })
}

/// `RFC 3207`, then optionally ` §4` / ` section 4` / ` Appendix A`.
fn first(input: &str) -> IResult<&str, (u16, Option<&str>)> {
    let number = verify(digit1, |d: &str| (3..=4).contains(&d.len()));
    let (rest, (_, _, n)) = (tag("RFC"), opt(char(' ')), number).parse(input)?;
    if rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(nom::Err::Error(nom::error::Error::new(input, nom::error::ErrorKind::Digit)));
    }
    let lead = alt((tag(" §"), tag(", §"), tag(" section "), tag(" Section "), tag(", section "), tag(" Appendix "), tag(", Appendix ")));
    let (rest, s) = opt(preceded(lead, section)).parse(rest)?;
    Ok((rest, (n.parse().unwrap_or(0), s)))
}

/// `, §6`, ` and §6`, `, and §6`: a further section of the RFC just named.
fn more(input: &str) -> IResult<&str, (&str, &str)> {
    let (rest, gap) = recognize(alt((tag(", and "), tag(", "), tag(" and ")))).parse(input)?;
    let (rest, s) = preceded(alt((tag("§"), tag("Appendix "))), section).parse(rest)?;
    Ok((rest, (gap, s)))
}

/// The pieces of `text`, citations as written.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut plain = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find("RFC") {
        let start = at + found;
        let boundary = text[..start].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        let Ok((mut rest, (rfc, first_section))) = first(&text[start..]).map_err(|_: nom::Err<nom::error::Error<&str>>| ()) else {
            at = start + 3;
            continue;
        };
        if !boundary || rfc == 0 {
            at = start + 3;
            continue;
        }
        if plain < start {
            out.push(Piece::Text(&text[plain..start]));
        }
        let written_end = text.len() - rest.len();
        out.push(Piece::Cite { written: &text[start..written_end], citation: Citation { rfc, section: first_section } });
        if first_section.is_some() {
            while let Ok((after, (gap, s))) = more(rest) {
                let gap_start = text.len() - rest.len();
                let cite_start = gap_start + gap.len();
                let cite_end = text.len() - after.len();
                out.push(Piece::Text(&text[gap_start..cite_start]));
                out.push(Piece::Cite { written: &text[cite_start..cite_end], citation: Citation { rfc, section: Some(s) } });
                rest = after;
            }
        }
        plain = text.len() - rest.len();
        at = plain;
    }
    if plain < text.len() {
        out.push(Piece::Text(&text[plain..]));
    }
    out
}

/// Every citation in `text`.
pub fn citations(text: &str) -> impl Iterator<Item = Citation<'_>> {
    pieces(text).into_iter().filter_map(|p| match p {
        Piece::Cite { citation, .. } => Some(citation),
        Piece::Text(_) => None,
    })
}

/// A text the learner reads, which may cite RFC sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prose(Cow<'static, str>);

impl Prose {
    pub const fn new(text: &'static str) -> Self {
        Prose(Cow::Borrowed(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its citations that the table does not hold (the citation test keeps this empty).
    pub fn unresolved(&self) -> Vec<Citation<'_>> {
        citations(&self.0).filter(|c| c.heading().is_none()).collect()
    }

    /// The text with each citation's heading after it: `RFC 3207 §4 (The STARTTLS Command)`.
    pub fn with_headings(&self) -> WithHeadings<'_> {
        WithHeadings(self.as_str())
    }
}

impl From<&'static str> for Prose {
    fn from(text: &'static str) -> Self {
        Prose(Cow::Borrowed(text))
    }
}

impl From<String> for Prose {
    fn from(text: String) -> Self {
        Prose(Cow::Owned(text))
    }
}

impl PartialEq<str> for Prose {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Prose {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::ops::Deref for Prose {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Prose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// [`Prose`] for a terminal: every resolved citation followed by its heading in parentheses.
pub struct WithHeadings<'a>(&'a str);

impl fmt::Display for WithHeadings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in pieces(self.0) {
            match piece {
                Piece::Text(t) => f.write_str(t)?,
                Piece::Cite { written, citation } => match citation.heading() {
                    Some(h) => write!(f, "{written} ({h})")?,
                    None => f.write_str(written)?,
                },
            }
        }
        Ok(())
    }
}

/// A link as the page receives it.
#[derive(Serialize)]
struct Link<'a> {
    /// The citation as written.
    cite: &'a str,
    href: String,
    /// "RFC 3207 §4: The STARTTLS Command".
    title: String,
}

impl Serialize for Prose {
    /// The text, when it cites nothing; otherwise its pieces in order: strings, and a
    /// `{cite, href, title}` object for each citation the table holds.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        as_prose(&self.0, s)
    }
}

/// Serializes a text field as [`Prose`] does (`#[serde(serialize_with = "crate::cite::as_prose")]`).
pub fn as_prose<T: AsRef<str> + ?Sized, S: Serializer>(text: &T, s: S) -> Result<S::Ok, S::Error> {
    let text = text.as_ref();
    // Each citation resolved once: its heading decides both the shape and the link.
    let pieces: Vec<(Piece<'_>, Option<&'static str>)> = pieces(text)
        .into_iter()
        .map(|p| match p {
            Piece::Cite { citation, .. } => (p, citation.heading()),
            Piece::Text(_) => (p, None),
        })
        .collect();
    if pieces.iter().all(|(_, heading)| heading.is_none()) {
        return s.serialize_str(text);
    }
    let mut seq = s.serialize_seq(Some(pieces.len()))?;
    for (piece, heading) in pieces {
        match (piece, heading) {
            (Piece::Cite { written, citation }, Some(h)) => {
                seq.serialize_element(&Link { cite: written, href: citation.url(), title: format!("{citation}: {h}") })?
            }
            (Piece::Cite { written, .. }, None) | (Piece::Text(written), _) => seq.serialize_element(written)?,
        }
    }
    seq.end()
}

/// [`as_prose`] for an optional text (`null` when absent).
pub fn as_optional_prose<T: AsRef<str>, S: Serializer>(text: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => as_prose(t.as_ref(), s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cites(text: &str) -> Vec<(u16, Option<&str>, &str)> {
        pieces(text)
            .into_iter()
            .filter_map(|p| match p {
                Piece::Cite { written, citation } => Some((citation.rfc, citation.section, written)),
                Piece::Text(_) => None,
            })
            .collect()
    }

    #[test]
    fn finds_the_forms_the_lab_writes() {
        assert_eq!(cites("see RFC 3207 §4."), [(3207, Some("4"), "RFC 3207 §4")]);
        assert_eq!(cites("(RFC 8461 §5.1, §10.2)"), [(8461, Some("5.1"), "RFC 8461 §5.1"), (8461, Some("10.2"), "§10.2")]);
        assert_eq!(cites("RFC 8446 Appendix D.4 and §B.4"), [(8446, Some("D.4"), "RFC 8446 Appendix D.4"), (8446, Some("B.4"), "§B.4")]);
        assert_eq!(cites("RFC 6409; RFC 3207 §4"), [(6409, None, "RFC 6409"), (3207, Some("4"), "RFC 3207 §4")]);
        assert_eq!(cites("RFC 5321 section 4.5.3.2"), [(5321, Some("4.5.3.2"), "RFC 5321 section 4.5.3.2")]);
        assert_eq!(cites("RFC 5321's limit"), [(5321, None, "RFC 5321")]);
        assert!(cites("RFC 12, RFCs, XRFC 3207, RFC 32077").is_empty());
    }

    #[test]
    fn pieces_rebuild_the_text() {
        let text = "Forget it (RFC 3207 §4.2, §6); then RFC 8314 Appendix A. Done";
        let joined: String = pieces(text)
            .iter()
            .map(|p| match p {
                Piece::Text(t) => *t,
                Piece::Cite { written, .. } => *written,
            })
            .collect();
        assert_eq!(joined, text);
    }

    #[test]
    fn links_name_the_section_or_appendix() {
        assert_eq!(Citation { rfc: 8314, section: Some("3.3") }.url(), "https://www.rfc-editor.org/rfc/rfc8314#section-3.3");
        assert_eq!(Citation { rfc: 8314, section: Some("A") }.url(), "https://www.rfc-editor.org/rfc/rfc8314#appendix-A");
        assert_eq!(Citation { rfc: 6409, section: None }.url(), "https://www.rfc-editor.org/rfc/rfc6409");
    }
}
