//! What the generated `Debug` of a model or builder shows for a field that
//! carries a secret (`openapi/secret-fields.md`): whether it is set, never
//! the value.
//!
//! The fields stay plain `String`s, so reading, setting and encoding them
//! work as for any other field; only `{:?}`, the one way a value reaches a
//! log without being asked for, hides them.

use std::fmt;

/// A secret field as `Debug` shows it: `<redacted>`, `Some(<redacted>)`,
/// `None`, or in a builder `Ok(Some(<redacted>))` (a builder's error text
/// names the field, never its value).
pub(crate) struct Redacted<'a, T: ?Sized>(pub(crate) &'a T);

/// A type whose values a [`Redacted`] hides. Text only: the generator
/// refuses a secret field of any other type.
pub(crate) trait Redact {
    /// Writes the value's shape with the secret replaced.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Shown in place of a secret.
const REDACTED: &str = "<redacted>";

impl Redact for String {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Redact> Redact for Option<T> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(value) => f.debug_tuple("Some").field(&Redacted(value)).finish(),
            None => f.write_str("None"),
        }
    }
}

/// A builder's field: the value, or the error text naming the field.
impl<T: Redact> Redact for Result<T, String> {
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ok(value) => f.debug_tuple("Ok").field(&Redacted(value)).finish(),
            Err(error) => f.debug_tuple("Err").field(error).finish(),
        }
    }
}

impl<T: Redact + ?Sized> fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shows_whether_it_is_set_and_never_its_value() {
        let secret = "hunter2".to_string();
        assert_eq!(format!("{:?}", Redacted(&secret)), "<redacted>");
        assert_eq!(
            format!("{:?}", Redacted(&Some(secret.clone()))),
            "Some(<redacted>)"
        );
        assert_eq!(format!("{:?}", Redacted(&None::<String>)), "None");
        let set: Result<Option<String>, String> = Ok(Some(secret));
        assert_eq!(format!("{:?}", Redacted(&set)), "Ok(Some(<redacted>))");
        assert_eq!(
            format!("{:#?}", Redacted(&set)),
            "Ok(\n    Some(\n        <redacted>,\n    ),\n)"
        );
        let unset: Result<String, String> = Err("no value supplied for password".into());
        assert_eq!(
            format!("{:?}", Redacted(&unset)),
            "Err(\"no value supplied for password\")"
        );
    }
}
