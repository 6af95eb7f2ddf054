//! How the table of settings (`settings.rs`) becomes code. The `settings!` macro turns one
//! row per key into: the field of its all-`Option` layer struct, its default, its merge,
//! its checked value, and a [`Setting`] in [`SETTINGS`](super::SETTINGS), which the
//! environment mapping, the reload classification and the help text read.
//!
//! A row reads `key: Type = Some(default) | None, check, Live | Restart => field.in.Config;`
//! under a one-line `///` doc. The check is any callable `Fn(&Type) -> Result<(), String>`
//! (the message, without the key); the functions below cover the common ones.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use super::{Config, ConfigError, Layer};

/// Whether a reload (SIGHUP) applies a changed key at once or only logs it until a
/// restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    Live,
    Restart,
}

/// One configuration key, as its row in the table declares it.
pub struct Setting {
    /// The name in the file: `feed_size`, or `feed.title` for `title` in `[feed]`. Errors
    /// and reload logs name the key this way.
    pub key: &'static str,
    /// One line for `--help` and the generated layer field.
    pub doc: &'static str,
    pub reload: Reload,
    pub(super) default: fn() -> Option<String>,
    pub(super) set_env: fn(&mut Layer, &str) -> Result<(), String>,
    pub(super) changed: fn(&Config, &Config) -> bool,
    pub(super) take: fn(&mut Config, &Config),
}

impl std::fmt::Debug for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setting").field("key", &self.key).finish()
    }
}

impl Setting {
    /// The setting with this key (`feed.title` for `title` in `[feed]`).
    pub fn named(key: &str) -> Option<&'static Setting> {
        super::SETTINGS.iter().find(|setting| setting.key == key)
    }

    /// The built-in default, shown as a flag would take it; `None` where there is none
    /// (the doc line says what happens then).
    pub fn default_text(&self) -> Option<String> {
        (self.default)()
    }

    /// The doc line as clap shows a help line: without its final period.
    pub fn help_line(&self) -> &'static str {
        self.doc.trim().trim_end_matches('.')
    }
}

/// A type a key can hold: how an environment variable spells it, and how `--help` shows
/// its default.
pub trait Value: Sized {
    /// Reads the text of a `SEEDFEED_*` variable; the error says what is wrong with it.
    fn from_env(text: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

impl Value for String {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl Value for PathBuf {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl Value for bool {
    fn from_env(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(format!("{text:?} is not true or false")),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

macro_rules! number_values {
    ($($ty:ty),*) => {$(
        impl Value for $ty {
            fn from_env(text: &str) -> Result<Self, String> {
                text.trim()
                    .parse()
                    .map_err(|e| format!("{text:?} is not a number ({e})"))
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

number_values!(u32, u64, usize);

/// A list in one variable: items separated by commas or spaces (URLs hold neither).
impl Value for Vec<String> {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text
            .split([',', ' '])
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect())
    }
    fn show(&self) -> String {
        if self.is_empty() {
            "none".to_owned()
        } else {
            self.join(", ")
        }
    }
}

/// No check beyond the type.
pub(super) fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

pub(super) fn min<T: PartialOrd + Display>(min: T) -> impl Fn(&T) -> Result<(), String> {
    move |value| {
        if *value >= min {
            Ok(())
        } else {
            Err(format!("{value} is below the minimum of {min}"))
        }
    }
}

pub(super) fn range<T: PartialOrd + Display>(
    range: RangeInclusive<T>,
) -> impl Fn(&T) -> Result<(), String> {
    move |value| {
        if range.contains(value) {
            Ok(())
        } else {
            Err(format!(
                "{value} is outside {}..={}",
                range.start(),
                range.end()
            ))
        }
    }
}

/// Text that must say something: blanks alone do not.
pub(super) fn nonempty<S: AsRef<str>>(text: &S) -> Result<(), String> {
    if text.as_ref().trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// The value of a key that has a default: the merged layers always hold one.
pub(super) fn required<T>(
    key: &'static str,
    value: Option<T>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<T, ConfigError> {
    let value = value.ok_or_else(|| ConfigError::Invalid {
        key,
        message: "must be set".into(),
    })?;
    check(&value).map_err(|message| ConfigError::Invalid { key, message })?;
    Ok(value)
}

/// The value of a key without a default, checked when it is set.
pub(super) fn optional<T>(
    key: &'static str,
    value: Option<T>,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Option<T>, ConfigError> {
    if let Some(value) = &value {
        check(value).map_err(|message| ConfigError::Invalid { key, message })?;
    }
    Ok(value)
}

/// Declares the settings: see the module documentation and `settings.rs`.
macro_rules! settings {
    (
        $(#[doc = $doc:literal])*
        $Layer:ident / $Values:ident {$(
            #[doc = $kdoc:literal]
            $key:ident : $ty:ty = $some:ident $(($default:expr))?, $check:expr,
                $reload:ident => $($to:ident).+;
        )*}
        $(
            $(#[doc = $sdoc:literal])*
            [$sec:ident] $SecLayer:ident / $SecValues:ident {$(
                #[doc = $skdoc:literal]
                $skey:ident : $sty:ty = $ssome:ident $(($sdefault:expr))?, $scheck:expr,
                    $sreload:ident => $($sto:ident).+;
            )*}
        )*
    ) => {
        settings!(@structs $(#[doc = $doc])* $Layer / $Values
            { $( [$kdoc] $key (stringify!($key)): $ty = $some $(($default))?, $check; )* }
            { $( $sec: $SecLayer / $SecValues; )* });
        $(
            settings!(@structs $(#[doc = $sdoc])* $SecLayer / $SecValues
                { $( [$skdoc] $skey (concat!(stringify!($sec), ".", stringify!($skey))):
                    $sty = $ssome $(($sdefault))?, $scheck; )* }
                {});
        )*

        /// Every key, in the order of the table: the top level, then each table's.
        pub static SETTINGS: &[$crate::config::table::Setting] = &[
            $( settings!(@setting $Layer, stringify!($key), [$key], $ty, $kdoc,
                $reload, [$($to).+]), )*
            $($( settings!(@setting $Layer, concat!(stringify!($sec), ".", stringify!($skey)),
                [$sec . $skey], $sty, $skdoc, $sreload, [$($sto).+]), )*)*
        ];
    };

    // One layer struct (all `Option`, unknown keys rejected), its checked values, and
    // `defaults`, `over` and `resolve`; `$sec` are the tables it holds.
    (@structs $(#[doc = $doc:literal])* $Layer:ident / $Values:ident
        { $( [$kdoc:literal] $key:ident ($name:expr): $ty:ty = $some:ident
            $(($default:expr))?, $check:expr; )* }
        { $( $sec:ident : $SecLayer:ident / $SecValues:ident; )* }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $Layer {
            $( #[doc = $kdoc] pub $key: Option<$ty>, )*
            $( #[serde(default)] pub $sec: $SecLayer, )*
        }

        /// The merged layers, checked key by key: what `validate` converts into a
        /// `Config`. A key with a default always holds a value here.
        #[derive(Debug)]
        pub(crate) struct $Values {
            $( pub(crate) $key: settings!(@value_type $some $ty), )*
            $( pub(crate) $sec: $SecValues, )*
        }

        impl $Layer {
            /// The built-in defaults, which make `seedfeed serve` work from a fresh clone.
            pub fn defaults() -> Self {
                Self {
                    $( $key: $some $(($default))?, )*
                    $( $sec: $SecLayer::defaults(), )*
                }
            }

            /// `self` wins wherever it says something; `lower` fills the rest.
            pub fn over(self, lower: Self) -> Self {
                Self {
                    $( $key: self.$key.or(lower.$key), )*
                    $( $sec: self.$sec.over(lower.$sec), )*
                }
            }

            /// Each key's own check; the first that fails names its key.
            pub(crate) fn resolve(
                self,
            ) -> Result<$Values, $crate::config::ConfigError> {
                Ok($Values {
                    $( $key: settings!(@resolve $some, self.$key, $name, $check), )*
                    $( $sec: self.$sec.resolve()?, )*
                })
            }
        }
    };

    (@value_type Some $ty:ty) => { $ty };
    (@value_type None $ty:ty) => { Option<$ty> };

    (@resolve Some, $value:expr, $key:expr, $check:expr) => {
        $crate::config::table::required($key, $value, $check)?
    };
    (@resolve None, $value:expr, $key:expr, $check:expr) => {
        $crate::config::table::optional($key, $value, $check)?
    };

    (@setting $Layer:ident, $key:expr, [$($path:ident).+], $ty:ty, $doc:literal,
        $reload:ident, [$($to:ident).+]) => {
        $crate::config::table::Setting {
            key: $key,
            doc: $doc,
            reload: $crate::config::table::Reload::$reload,
            default: || {
                $Layer::defaults()
                    .$($path).+
                    .as_ref()
                    .map(<$ty as $crate::config::table::Value>::show)
            },
            set_env: |layer, text| {
                layer.$($path).+ = Some(<$ty as $crate::config::table::Value>::from_env(text)?);
                Ok(())
            },
            changed: |running, reloaded| running.$($to).+ != reloaded.$($to).+,
            take: |now, reloaded| now.$($to).+.clone_from(&reloaded.$($to).+),
        }
    };
}

pub(super) use settings;
