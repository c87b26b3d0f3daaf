//! Stable string codes for the crate's enums. Every enum that crosses a boundary (proto, storage,
//! configuration, JWT claims) is declared through `code_enum!`, which gives it one stable
//! snake_case code per variant, `as_str`, `FromStr`, `Display`, an `ALL` list and serde as that
//! code. Unknown codes fail with [`UnknownCode`].

use thiserror::Error;

/// A string that is not the code of any variant of the named enum.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {kind} code {value:?}")]
pub struct UnknownCode {
    /// The enum that was being parsed, e.g. `Role`.
    pub kind: &'static str,
    /// The rejected input (cut to 64 characters).
    pub value: String,
}

impl UnknownCode {
    /// Builds the error, keeping at most 64 characters of the rejected input.
    pub fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.chars().take(64).collect(),
        }
    }
}

/// Declares a fieldless enum whose variants map one-to-one onto stable string codes.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable snake_case code of this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $code => Ok($name::$variant), )+
                    _ => Err($crate::codes::UnknownCode::new(stringify!($name), s)),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::codes::UnknownCode;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::UnknownCode;

    code_enum! {
        /// A test enum.
        pub enum Colour {
            /// Red.
            Red => "red",
            /// Dark blue.
            DarkBlue => "dark_blue",
        }
    }

    #[test]
    fn codes_round_trip_through_str_and_serde() {
        for c in Colour::ALL {
            assert_eq!(c.as_str().parse::<Colour>(), Ok(*c));
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), *c);
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
    }

    #[test]
    fn unknown_code_is_rejected_and_truncated() {
        let err = "Red".parse::<Colour>().unwrap_err();
        assert_eq!(err, UnknownCode::new("Colour", "Red"));
        assert_eq!(err.to_string(), "unknown Colour code \"Red\"");
        let long = "x".repeat(500);
        assert_eq!(UnknownCode::new("Colour", &long).value.len(), 64);
    }

    #[test]
    fn serde_rejects_unknown_code() {
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
    }
}
