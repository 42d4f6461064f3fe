//! Named values, written once. An enum whose values have names (a TLS
//! policy, a DNS record type, an attack, a lesson) is declared with
//! `named!`, which gives each value one id: its text everywhere (the
//! CLI's flag value, the link's value, the JSON). What a learner picks from a
//! menu also has a title, for the CLI's help and the page's menus
//! ([`Choice`]): declared with `choice!` where the enum is the lab's own,
//! and added with `titles!` in the lab for the protocol's enums, whose
//! layer knows nothing of menus.

use std::fmt::Display;

use serde::{Serialize, Serializer};

/// Serializes a typed value as its text: in the JSON trace a fact is written
/// as it reads (`"TLS 1.3"`, `"pass"`, a sentence for a cause).
pub fn as_text<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// [`as_text`] for an optional value (`null` when absent).
pub fn as_optional_text<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// A value from a fixed list, with a name.
pub trait Named: Copy + Eq + 'static {
    /// Every value, in the order lists show them.
    const ALL: &'static [Self];
    /// What the list is of, for errors ("client policy").
    const WHAT: &'static str;
    fn id(self) -> &'static str;

    /// The value with this id (ASCII case ignored, as in `--mechanism login`).
    fn from_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(id))
    }

    /// The value with this id, or an error that lists the ones that exist.
    fn parse_id(id: &str) -> Result<Self, UnknownName> {
        Self::from_id(id).ok_or_else(|| UnknownName {
            what: Self::WHAT,
            id: id.to_owned(),
            ids: Self::ALL.iter().map(|c| c.id()).collect(),
        })
    }
}

/// A named value a learner picks from a menu: it has a title too.
pub trait Choice: Named {
    fn title(self) -> &'static str;

    /// The value a bare flag stands for, when there is one (`--validate` alone enforces).
    fn bare() -> Option<Self> {
        None
    }

    /// Every value as id and title, for a menu.
    fn options() -> Vec<MenuItem> {
        Self::ALL.iter().map(|c| MenuItem { id: c.id(), title: c.title() }).collect()
    }
}

/// One entry of a menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MenuItem {
    pub id: &'static str,
    pub title: &'static str,
}

/// An id that names no value of a list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} {id:?}{}; one of: {}", self.nearest().map(|n| format!(" (did you mean {n}?)")).unwrap_or_default(), ids.join(", "))]
pub struct UnknownName {
    pub what: &'static str,
    pub id: String,
    /// The ids that exist, in order.
    pub ids: Vec<&'static str>,
}

impl UnknownName {
    /// The id the writer most likely meant: [`nearest`] of the ids.
    pub fn nearest(&self) -> Option<&'static str> {
        nearest(&self.id, self.ids.iter().copied())
    }
}

/// Of `candidates`, the one `typed` most likely meant, if any is close: of
/// those it begins or ends (`strip-587` for `strip-587-opportunistic`), the
/// first in their order; else the most similar by Jaro-Winkler (strsim),
/// above 0.8 (`stripp` for `strip`).
pub fn nearest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let typed = typed.trim().to_ascii_lowercase();
    if typed.is_empty() {
        return None;
    }
    if let Some(first) = candidates.clone().find(|c| c.starts_with(&typed) || c.ends_with(&typed)) {
        return Some(first);
    }
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&typed, c);
        if score > 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Declares a [`Named`] enum: `Variant = "id",` per value. Adds serde (as
/// the id), `FromStr` and `Display`.
macro_rules! named {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $crate::vocab::Named for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)*];
            const WHAT: &'static str = $what;
            fn id(self) -> &'static str {
                match self { $($name::$variant => $id,)* }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::vocab::Named::id(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let id = <String as ::serde::Deserialize>::deserialize(d)?;
                id.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::vocab::UnknownName;
            fn from_str(id: &str) -> Result<Self, $crate::vocab::UnknownName> {
                <Self as $crate::vocab::Named>::parse_id(id)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::vocab::Named::id(*self))
            }
        }
    };
}
pub(crate) use named;

/// Declares a [`Choice`] enum: `Variant = "id": "Title",` per value; as
/// [`named!`], with the titles.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal : $title:literal, )*
        }
    ) => {
        $crate::vocab::named! {
            $(#[$meta])*
            $vis enum $name ($what) {
                $( $(#[$vmeta])* $variant = $id, )*
            }
        }

        impl $crate::vocab::Choice for $name {
            fn title(self) -> &'static str {
                match self { $($name::$variant => $title,)* }
            }
        }
    };
}
pub(crate) use choice;

/// Gives a [`Named`] enum of another layer its titles: `Type { Variant: "Title", … }`.
macro_rules! titles {
    ($name:ty { $( $variant:ident : $title:literal ),* $(,)? }) => {
        impl $crate::vocab::Choice for $name {
            fn title(self) -> &'static str {
                match self { $(<$name>::$variant => $title,)* }
            }
        }
    };
}
pub(crate) use titles;

#[cfg(test)]
mod tests {
    use super::*;

    choice! {
        enum Colour ("colour") {
            Red = "red": "Red as a brick",
            DarkBlue = "dark-blue": "Blue as the night",
        }
    }

    named! {
        enum Shape ("shape") {
            Round = "round",
            Square = "square",
        }
    }

    titles!(Shape { Round: "like a ball", Square: "like a box" });

    #[test]
    fn ids_titles_serde_and_parsing_agree() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).unwrap(), "\"dark-blue\"");
        assert_eq!(serde_json::from_str::<Colour>("\"red\"").unwrap(), Colour::Red);
        assert_eq!("DARK-BLUE".parse::<Colour>(), Ok(Colour::DarkBlue));
        assert_eq!("green".parse::<Colour>().unwrap_err().to_string(), "no colour \"green\"; one of: red, dark-blue");
        assert_eq!(Colour::options()[1], MenuItem { id: "dark-blue", title: "Blue as the night" });
        assert_eq!(Colour::Red.to_string(), "red");
        assert_eq!(Shape::options()[1], MenuItem { id: "square", title: "like a box" });
        assert_eq!("circle".parse::<Shape>().unwrap_err().ids, ["round", "square"]);
    }
}

#[cfg(test)]
mod nearest_tests {
    use super::nearest;

    #[test]
    fn a_typo_finds_what_was_meant() {
        let lessons = ["submission-587", "strip-587-opportunistic", "strip-587-required", "strip-465"];
        assert_eq!(nearest("strip-587", lessons.iter().copied()), Some("strip-587-opportunistic"));
        assert_eq!(nearest("opportunistic", lessons.iter().copied()), Some("strip-587-opportunistic"));
        assert_eq!(nearest("stripp", ["eavesdrop", "strip", "mitm-cert"].into_iter()), Some("strip"));
        assert_eq!(nearest("zzz", ["eavesdrop", "strip"].into_iter()), None);
        assert_eq!(nearest("", ["strip"].into_iter()), None);
    }
}
