//! Named values, written once. Every enum a learner picks from (a client
//! policy, a server role, an attack, a lesson) is declared with [`choice!`],
//! which gives it one id (the CLI's flag value, the link's value, the JSON
//! name) and one title (the CLI's help, the page's menu label). The CLI, the
//! links, the page's menus and the exports all read these, so they cannot
//! drift apart.

use serde::Serialize;

/// A value from a fixed list, with its id and a title for people.
pub trait Choice: Copy + Eq + 'static {
    /// Every value, in the order menus show them.
    const ALL: &'static [Self];
    fn id(self) -> &'static str;
    fn title(self) -> &'static str;

    /// The value with this id (ASCII case ignored, as in `--mechanism login`).
    fn from_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.id().eq_ignore_ascii_case(id))
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

/// The error for an id that names no value, listing the ones that exist.
pub fn unknown<C: Choice>(what: &str, id: &str) -> String {
    let ids: Vec<&str> = C::ALL.iter().map(|c| c.id()).collect();
    format!("no {what} {id:?}; one of: {}", ids.join(", "))
}

/// Declares a [`Choice`] enum: `Variant = "id": "Title",` per value. Adds
/// serde (as the id), `FromStr`, `Display`, and clap's `ValueEnum` under the
/// `cli` feature.
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $id:literal : $title:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $crate::vocab::Choice for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)*];
            fn id(self) -> &'static str {
                match self { $($name::$variant => $id,)* }
            }
            fn title(self) -> &'static str {
                match self { $($name::$variant => $title,)* }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::vocab::Choice::id(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let id = <String as ::serde::Deserialize>::deserialize(d)?;
                id.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(id: &str) -> Result<Self, String> {
                <Self as $crate::vocab::Choice>::from_id(id).ok_or_else(|| $crate::vocab::unknown::<Self>($what, id))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::vocab::Choice::id(*self))
            }
        }

        #[cfg(feature = "cli")]
        impl ::clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                <Self as $crate::vocab::Choice>::ALL
            }
            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                Some(::clap::builder::PossibleValue::new($crate::vocab::Choice::id(*self)).help($crate::vocab::Choice::title(*self)))
            }
        }
    };
}
pub(crate) use choice;

#[cfg(test)]
mod tests {
    use super::*;

    choice! {
        enum Colour ("colour") {
            Red = "red": "Red as a brick",
            DarkBlue = "dark-blue": "Blue as the night",
        }
    }

    #[test]
    fn ids_titles_serde_and_parsing_agree() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).unwrap(), "\"dark-blue\"");
        assert_eq!(serde_json::from_str::<Colour>("\"red\"").unwrap(), Colour::Red);
        assert_eq!("DARK-BLUE".parse::<Colour>(), Ok(Colour::DarkBlue));
        assert_eq!("green".parse::<Colour>().unwrap_err(), "no colour \"green\"; one of: red, dark-blue");
        assert_eq!(Colour::options()[1], MenuItem { id: "dark-blue", title: "Blue as the night" });
        assert_eq!(Colour::Red.to_string(), "red");
    }
}
