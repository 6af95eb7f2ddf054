//! How the table of settings (`settings.rs`) becomes code. The `settings!` macro turns one
//! row per key into: the field of its all-`Option` layer struct, its default, its merge,
//! its checked value, and a [`Setting`] in [`SETTINGS`](super::SETTINGS), which the
//! environment mapping, the reload classification and the help text read.
//!
//! A row reads `key: Type = Some(default) | None, check, Live | Restart => field.in.Config;`
//! under a one-line `///` doc. After the tables, `maps { name: Type; }` declares the maps
//! of tables (`[authors.{key}]`), which are read and checked by their own module. The check is any callable `Fn(&Type) -> Result<(), String>`
//! (the message, without the key); the functions below cover the common ones.
//!
//! A value of the wrong type, in the file or the environment, is refused in words: the
//! type's ([`Value::EXPECTED`]), with the unit of a number from `settings.rs`
//! ([`Setting::expects`]): "a whole number of milliseconds", not "expected u64".

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
    /// What a value of the key's type is, in words ([`Value::EXPECTED`]).
    pub(super) expected: &'static str,
    /// Sets the key from a variable's text; false when the text is no value of its type.
    pub(super) set_env: fn(&mut Layer, &str) -> bool,
    /// Sets the key from the file's value; `Err` when it is no value of its type, with
    /// the value as it would be written if there is one (`500` for `"500"`).
    pub(super) set_toml: fn(&mut Layer, &toml::Value) -> Result<(), Option<String>>,
    /// Whether a layer says something of the key.
    pub(super) is_set: fn(&Layer) -> bool,
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

    /// What a value of this key is, in words: the type's, and a number's unit
    /// ("a whole number of milliseconds").
    pub fn expects(&self) -> String {
        match super::settings::unit(self.key) {
            Some(unit) => format!("{} of {unit}", self.expected),
            None => self.expected.to_owned(),
        }
    }

    /// Sets this key in `layer` from a `SEEDFEED_*` variable's text; the error says what
    /// the text is and what is expected.
    pub(super) fn set_from_env(&self, layer: &mut Layer, text: &str) -> Result<(), String> {
        if (self.set_env)(layer, text) {
            Ok(())
        } else {
            Err(format!("{text:?} is not {}", self.expects()))
        }
    }

    /// Sets this key in `layer` from the file's value; the error says what the value is,
    /// what is expected, and how to write it when it was only quoted where it must not be.
    pub(super) fn set_from_toml(
        &self,
        layer: &mut Layer,
        value: &toml::Value,
    ) -> Result<(), String> {
        (self.set_toml)(layer, value).map_err(|unquoted| {
            let name = self.key.rsplit('.').next().unwrap_or(self.key);
            let mut message = format!("{value} is not {}", self.expects());
            if let Some(unquoted) = unquoted {
                message.push_str(&format!("; write it without quotes: {name} = {unquoted}"));
            }
            message
        })
    }
}

/// A type a key can hold: what it is in words, how an environment variable and the file
/// spell it, and how `--help` shows its default.
pub trait Value: Sized + serde::Serialize {
    /// What a value of the type is, for error messages: "a whole number", "true or false".
    const EXPECTED: &'static str;
    /// Reads the text of a `SEEDFEED_*` variable; `None` when it is no value of the type.
    fn from_env(text: &str) -> Option<Self>;
    /// Reads a value of the file; `None` when it is of another type.
    fn from_toml(value: &toml::Value) -> Option<Self>;
    fn show(&self) -> String;

    /// Reads a value of the file; when it is of another type, `Err` with how it would be
    /// written if it is this type's in quotes (`"500"` for a number: `500`).
    fn from_toml_or_hint(value: &toml::Value) -> Result<Self, Option<String>> {
        Self::from_toml(value).ok_or_else(|| {
            let text = value.as_str()?;
            let unquoted = Self::from_env(text)?;
            toml::Value::try_from(unquoted).ok().map(|v| v.to_string())
        })
    }
}

impl Value for String {
    const EXPECTED: &'static str = "text in quotes";
    fn from_env(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
    fn from_toml(value: &toml::Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl Value for PathBuf {
    const EXPECTED: &'static str = "a path in quotes";
    fn from_env(text: &str) -> Option<Self> {
        Some(PathBuf::from(text))
    }
    fn from_toml(value: &toml::Value) -> Option<Self> {
        value.as_str().map(PathBuf::from)
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl Value for bool {
    const EXPECTED: &'static str = "true or false";
    fn from_env(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        }
    }
    fn from_toml(value: &toml::Value) -> Option<Self> {
        value.as_bool()
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

macro_rules! number_values {
    ($($ty:ty),*) => {$(
        impl Value for $ty {
            const EXPECTED: &'static str = "a whole number";
            fn from_env(text: &str) -> Option<Self> {
                text.trim().parse().ok()
            }
            fn from_toml(value: &toml::Value) -> Option<Self> {
                value.as_integer().and_then(|n| n.try_into().ok())
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
    const EXPECTED: &'static str = "a list of texts in quotes, like [\"https://hub.example/\"]";
    fn from_env(text: &str) -> Option<Self> {
        Some(
            text.split([',', ' '])
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
    fn from_toml(value: &toml::Value) -> Option<Self> {
        value
            .as_array()?
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect()
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
                "{value} is not between {} and {}",
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
        maps {$(
            #[doc = $mdoc:literal]
            $map:ident : $MapLayer:ty;
        )*}
    ) => {
        settings!(@structs $(#[doc = $doc])* $Layer / $Values
            { $( [$kdoc] $key (stringify!($key)): $ty = $some $(($default))?, $check; )* }
            { $( $sec: $SecLayer / $SecValues; )* }
            { $( [$mdoc] $map: $MapLayer; )* });
        $(
            settings!(@structs $(#[doc = $sdoc])* $SecLayer / $SecValues
                { $( [$skdoc] $skey (concat!(stringify!($sec), ".", stringify!($skey))):
                    $sty = $ssome $(($sdefault))?, $scheck; )* }
                {}
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
    // `defaults`, `over` and `resolve`; `$sec` are the tables it holds, `$map` its maps
    // of tables (a layer that has one replaces the lower layers' whole; none by default;
    // `validate` checks their contents).
    (@structs $(#[doc = $doc:literal])* $Layer:ident / $Values:ident
        { $( [$kdoc:literal] $key:ident ($name:expr): $ty:ty = $some:ident
            $(($default:expr))?, $check:expr; )* }
        { $( $sec:ident : $SecLayer:ident / $SecValues:ident; )* }
        { $( [$mdoc:literal] $map:ident : $MapLayer:ty; )* }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, ::serde::Deserialize, ::serde::Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct $Layer {
            $( #[doc = $kdoc] pub $key: Option<$ty>, )*
            $( #[serde(default)] pub $sec: $SecLayer, )*
            $( #[doc = $mdoc] #[serde(default)] pub $map: Option<$MapLayer>, )*
        }

        /// The merged layers, checked key by key: what `validate` converts into a
        /// `Config`. A key with a default always holds a value here.
        #[derive(Debug)]
        pub(crate) struct $Values {
            $( pub(crate) $key: settings!(@value_type $some $ty), )*
            $( pub(crate) $sec: $SecValues, )*
            $( pub(crate) $map: $MapLayer, )*
        }

        impl $Layer {
            /// The built-in defaults, which make `seedfeed serve` work from a fresh clone.
            pub fn defaults() -> Self {
                Self {
                    $( $key: $some $(($default))?, )*
                    $( $sec: $SecLayer::defaults(), )*
                    $( $map: None, )*
                }
            }

            /// `self` wins wherever it says something; `lower` fills the rest.
            pub fn over(self, lower: Self) -> Self {
                Self {
                    $( $key: self.$key.or(lower.$key), )*
                    $( $sec: self.$sec.over(lower.$sec), )*
                    $( $map: self.$map.or(lower.$map), )*
                }
            }

            /// Each key's own check; the first that fails names its key.
            pub(crate) fn resolve(
                self,
            ) -> Result<$Values, $crate::config::ConfigError> {
                Ok($Values {
                    $( $key: settings!(@resolve $some, self.$key, $name, $check), )*
                    $( $sec: self.$sec.resolve()?, )*
                    $( $map: self.$map.unwrap_or_default(), )*
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
            expected: <$ty as $crate::config::table::Value>::EXPECTED,
            set_env: |layer, text| {
                match <$ty as $crate::config::table::Value>::from_env(text) {
                    Some(value) => {
                        layer.$($path).+ = Some(value);
                        true
                    }
                    None => false,
                }
            },
            set_toml: |layer, value| {
                let value = <$ty as $crate::config::table::Value>::from_toml_or_hint(value)?;
                layer.$($path).+ = Some(value);
                Ok(())
            },
            is_set: |layer| layer.$($path).+.is_some(),
            changed: |running, reloaded| running.$($to).+ != reloaded.$($to).+,
            take: |now, reloaded| now.$($to).+.clone_from(&reloaded.$($to).+),
        }
    };
}

pub(super) use settings;
