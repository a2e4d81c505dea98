//! Building models by hand: the [`IntoField`] conversions every optional
//! field's setter takes, and shortcuts for the everyday messages.
//!
//! A model that cannot be built says why in one error that names every
//! required field not set and every value refused, each by the Rust name
//! of its setter: `missing required fields: first_name, last_name`.

use std::convert::Infallible;
use std::fmt::Display;

use crate::enums::EmailType;
use crate::recipients::{RecipientError, Recipients, check_list, reads_as_recipients};
use crate::types::{Email, Message, builder};

/// A value an optional field of a model builder takes: the value itself
/// (`.body("Your order shipped.")`), an `Option` of it (`.body(None)`), a
/// `&str` or `&String` for text, or the builder of a nested model (alone or
/// in a `Vec`), checked when the model is built.
pub trait IntoField<T> {
    /// Why the value cannot be used.
    type Error: Display;

    /// The field's value.
    fn into_field(self) -> Result<T, Self::Error>;
}

/// A model's builder: what [`IntoField`] takes in a list of that model.
/// Implemented by every generated builder, for its model only.
pub trait BuildsModel<M> {
    /// The model, or why the builder cannot make one.
    fn build_model(self) -> Result<M, crate::types::error::ConversionError>;
}

/// What every generated builder setter does with its converted value: the
/// value, or the error text naming the field (kept until the model is
/// built).
pub(crate) fn field<V, E: Display>(converted: Result<V, E>, name: &str) -> Result<V, String> {
    converted.map_err(|err| format!("{name}: {err}"))
}

/// What every generated operation-builder setter does with its converted
/// argument: the value, or the given error text, which says in plain words
/// what the parameter takes ("sort_order must be one of: asc, desc").
pub(crate) fn param<V, E>(converted: Result<V, E>, message: &str) -> Result<V, String> {
    converted.map_err(|_| message.to_string())
}

/// What the setter of a whole-number parameter with bounds in the spec
/// does: the value if it converts and lies in `range`, else the given
/// error text ("limit must be a whole number from 1 to 20"). The value is
/// refused when it is set, so nothing is sent.
pub(crate) fn whole_param<V: WholeNumber, E>(
    converted: Result<V, E>,
    range: std::ops::RangeInclusive<i128>,
    message: &str,
) -> Result<V, String> {
    match converted {
        Ok(value) if value.whole().is_none_or(|whole| range.contains(&whole)) => Ok(value),
        _ => Err(message.to_string()),
    }
}

/// A parameter value that is a whole number, or none (an unset optional).
pub(crate) trait WholeNumber {
    /// The number, `None` for an unset optional.
    fn whole(&self) -> Option<i128>;
}

impl<T: WholeNumber> WholeNumber for Option<T> {
    fn whole(&self) -> Option<i128> {
        self.as_ref().and_then(WholeNumber::whole)
    }
}

macro_rules! whole_numbers {
    ($($number:ty),*) => {$(
        impl WholeNumber for $number {
            fn whole(&self) -> Option<i128> {
                Some(i128::from(*self))
            }
        }
    )*};
}
whole_numbers!(u8, u16, u32, u64, i8, i16, i32, i64);

macro_rules! non_zero_numbers {
    ($($number:ty),*) => {$(
        impl WholeNumber for $number {
            fn whole(&self) -> Option<i128> {
                Some(i128::from(self.get()))
            }
        }
    )*};
}
non_zero_numbers!(
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64
);

/// The text a model builder holds for a required field never set; the
/// generator checks that every builder's `Default` writes it this way.
const NEVER_SET: &str = "no value supplied for ";

/// Why a model builder cannot make its model, naming every field at once:
/// `fields` holds each field's Rust name (the name of its setter) and its
/// error, if any, in field order. Required fields never set come first
/// ("missing required fields: first_name, last_name"), then the error of
/// each field whose value was refused, separated by `; `.
pub(crate) fn unbuilt(fields: &[(&str, Option<String>)]) -> String {
    let mut missing = Vec::new();
    let mut refused = Vec::new();
    for (name, error) in fields {
        let Some(error) = error else { continue };
        if error.strip_prefix(NEVER_SET) == Some(*name) {
            missing.push(*name);
        } else {
            refused.push(error.as_str());
        }
    }
    crate::runtime::call::missing_fields(&missing)
        .into_iter()
        .chain(refused.into_iter().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An operation's request body as its builder holds it until `send()`:
/// not set yet (the model's defaults), a finished model (`.body(model)`),
/// or a model builder (after `.body_map(f)`). A finished model is sent as
/// it is, without a round trip through its builder; the box keeps the
/// operation builder one pointer wide, and nothing is allocated until a
/// body is given.
#[derive(Debug, Clone, Default)]
pub(crate) enum Body<B, T> {
    /// No body given: the model built from its builder's defaults.
    #[default]
    Unset,
    /// A finished model.
    Model(Box<T>),
    /// A model builder, checked when the request is sent.
    Builder(Box<B>),
}

impl<B, T> Body<B, T>
where
    B: Default + From<T>,
    T: TryFrom<B>,
{
    /// The body `model`.
    #[inline]
    pub(crate) fn model(model: T) -> Self {
        Body::Model(Box::new(model))
    }

    /// The body changed by `f`, which edits its builder.
    #[inline]
    pub(crate) fn map(self, f: impl FnOnce(B) -> B) -> Self {
        let builder = match self {
            Body::Unset => B::default(),
            Body::Model(model) => B::from(*model),
            Body::Builder(builder) => *builder,
        };
        Body::Builder(Box::new(f(builder)))
    }

    /// The model to send, or why its builder cannot make one.
    #[inline]
    pub(crate) fn build(self) -> Result<T, T::Error> {
        match self {
            Body::Unset => T::try_from(B::default()),
            Body::Model(model) => Ok(*model),
            Body::Builder(builder) => T::try_from(*builder),
        }
    }
}

impl<T> IntoField<Option<T>> for T {
    type Error = Infallible;

    fn into_field(self) -> Result<Option<T>, Infallible> {
        Ok(Some(self))
    }
}

impl<T> IntoField<Option<T>> for Option<T> {
    type Error = Infallible;

    fn into_field(self) -> Result<Option<T>, Infallible> {
        Ok(self)
    }
}

impl IntoField<Option<String>> for &str {
    type Error = Infallible;

    fn into_field(self) -> Result<Option<String>, Infallible> {
        Ok(Some(self.to_string()))
    }
}

impl IntoField<Option<String>> for &String {
    type Error = Infallible;

    fn into_field(self) -> Result<Option<String>, Infallible> {
        Ok(Some(self.clone()))
    }
}

/// The builder [`Message::sms`] and [`Message::email`] return: set more
/// fields on it (`.label(..)`, `.message_type(..)`), then pass it to
/// `message_create().body(..)` or convert it with `Message::try_from`.
pub type MessageBuilder = builder::Message;

/// A value checked before it reached a builder: the builder keeps the
/// reason, and the model fails to build with it (nothing is sent).
struct Checked<T, E>(Result<T, E>);

impl<E> TryFrom<Checked<String, E>> for String {
    type Error = E;

    fn try_from(checked: Checked<String, E>) -> Result<String, E> {
        checked.0
    }
}

impl<E: Display> IntoField<Option<String>> for Checked<Option<String>, E> {
    type Error = E;

    fn into_field(self) -> Result<Option<String>, E> {
        self.0
    }
}

/// The longest subject, and SMS body, Whispir takes, in characters (the
/// spec's `maxLength` of both).
const MOST_TEXT_CHARACTERS: usize = 1570;

/// Why a message's text cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The SMS text, or the email subject, is empty or only spaces.
    #[error("the text is empty")]
    Empty,
    /// The SMS text's first line is empty or only spaces: Whispir sends it
    /// as the subject, which a message must have.
    #[error(
        "the text's first line is empty: Whispir needs it as the message's subject; start the text with a line of words"
    )]
    FirstLineEmpty,
    /// The subject (an SMS's first line) or an SMS's body (the rest) is
    /// longer than Whispir takes.
    #[error("the {part} is {characters} characters long; Whispir takes at most 1570: shorten it")]
    TooLong {
        /// `subject`, `SMS text's first line` or `SMS text after its first line`.
        part: &'static str,
        /// Its length in characters.
        characters: usize,
    },
}

/// `text` if it is at most [`MOST_TEXT_CHARACTERS`] long; else why not,
/// naming it as `part`.
fn fits(text: &str, part: &'static str) -> Result<(), TextError> {
    let characters = text.chars().count();
    if characters > MOST_TEXT_CHARACTERS {
        Err(TextError::TooLong { part, characters })
    } else {
        Ok(())
    }
}

/// `to` checked, or why not; the arguments swapped (words as the
/// recipients, recipients as `text`) are named as such.
fn recipients(to: impl Recipients, text: &str) -> Checked<Option<String>, RecipientError> {
    Checked(
        check_list(to.into_list())
            .map(Some)
            .map_err(|err| match err {
                RecipientError::ListNameInText { .. } | RecipientError::Unreadable { .. }
                    if reads_as_recipients(text.trim()) =>
                {
                    RecipientError::Swapped
                }
                err => err,
            }),
    )
}

fn non_empty(text: &str) -> Checked<String, TextError> {
    Checked(if text.trim().is_empty() {
        Err(TextError::Empty)
    } else {
        fits(text, "subject").map(|()| text.to_owned())
    })
}

impl Message {
    /// An SMS with `text` to `to`: one mobile number (or contact, user or
    /// distribution-list MRI), a `,`-separated list of them, or an array,
    /// slice or `Vec` of them.
    ///
    /// Whispir sends an SMS as the message's subject (its first line) then
    /// its body (the rest), so the first line of `text` goes in `subject`
    /// and the remaining lines in `body`; the recipient reads `text` as it
    /// is (the sandbox's `SentMessage::text()` puts it back together).
    ///
    /// The recipients and the text are checked here ([`crate::recipients`]):
    /// an empty text or first line, a first line or rest longer than 1570
    /// characters, an empty or unreadable recipient, or `;` between
    /// recipients makes the message fail to build, naming the problem,
    /// and nothing is sent.
    ///
    /// ```
    /// use whispir::types::Message;
    ///
    /// let message = Message::try_from(Message::sms(["61400000001", "61400000002"], "Doors open at 9"))?;
    /// assert_eq!(message.to.as_deref(), Some("61400000001,61400000002"));
    /// assert_eq!(message.subject, "Doors open at 9");
    ///
    /// let wrong = Message::try_from(Message::sms("61400000001;61400000002", "Hi"));
    /// assert!(wrong.unwrap_err().to_string().contains("separate recipients with `,`"));
    /// # Ok::<(), whispir::types::error::ConversionError>(())
    /// ```
    pub fn sms(to: impl Recipients, text: impl AsRef<str>) -> MessageBuilder {
        let text = text.as_ref();
        let (subject, body) = match text.split_once('\n') {
            Some((first, rest)) => (first.trim_end_matches('\r'), Some(rest)),
            None => (text, None),
        };
        let subject = if text.trim().is_empty() {
            Err(TextError::Empty)
        } else if subject.trim().is_empty() {
            Err(TextError::FirstLineEmpty)
        } else {
            fits(subject, "SMS text's first line").map(|()| subject.to_owned())
        };
        let body = body
            .map(|body| fits(body, "SMS text after its first line").map(|()| body.to_owned()))
            .transpose();
        Message::builder()
            .to(recipients(to, text))
            .subject(Checked(subject))
            .body(Checked(body))
    }

    /// A plain-text email with `subject` and `body` to `to`: one address
    /// (or contact, user or distribution-list MRI), a `,`-separated list,
    /// or an array, slice or `Vec` of them. Checked like [`Message::sms`]:
    /// an empty subject or a bad recipient fails to build, naming it.
    ///
    /// ```
    /// use whispir::types::Message;
    ///
    /// let message = Message::try_from(Message::email("jane@example.com", "Invoice", "Attached."))?;
    /// assert_eq!(message.subject, "Invoice");
    /// # Ok::<(), whispir::types::error::ConversionError>(())
    /// ```
    pub fn email(
        to: impl Recipients,
        subject: impl AsRef<str>,
        body: impl AsRef<str>,
    ) -> MessageBuilder {
        Message::builder()
            .to(recipients(to, subject.as_ref()))
            .subject(non_empty(subject.as_ref()))
            .email(
                Email::builder()
                    .body(body.as_ref())
                    .type_(EmailType::TextPlain),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type MessageBody = Body<builder::Message, Message>;

    fn sms() -> Message {
        Message::sms("61400000001", "Reminder\nYour appointment is at 3 pm.")
            .try_into()
            .expect("complete")
    }

    #[test]
    fn a_body_given_as_a_model_is_sent_as_it_is() {
        let body = MessageBody::model(sms()).build().expect("complete");
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            serde_json::to_value(sms()).expect("json")
        );
    }

    #[test]
    fn a_body_never_given_is_checked_like_an_empty_builder() {
        let err = MessageBody::default().build().expect_err("no subject");
        assert_eq!(err.to_string(), "missing required field: subject");
    }

    #[test]
    fn a_body_with_a_resource_and_no_to_is_sent_without_to() {
        let body = MessageBody::default()
            .map(|builder| {
                builder.subject("Hi @@first_name@@").resource(
                    crate::types::MessageResource::builder()
                        .resource_id("4FBBC384BCE3DAABFE3")
                        .sms_mapping_field("mobile"),
                )
            })
            .build()
            .expect("a dynamic message");
        let json = serde_json::to_value(&body).expect("json");
        assert!(json.get("to").is_none(), "{json}");
        assert_eq!(json["resource"]["resourceId"], "4FBBC384BCE3DAABFE3");
    }

    #[test]
    fn body_map_edits_a_given_model_and_keeps_the_rest() {
        let body = MessageBody::model(sms())
            .map(|builder| builder.body("Moved to 4 pm."))
            .build()
            .expect("complete");
        assert_eq!(body.body.as_deref(), Some("Moved to 4 pm."));
        assert_eq!(body.to.as_deref(), Some("61400000001"));
    }

    #[test]
    fn body_map_without_a_body_starts_from_the_defaults() {
        let body = MessageBody::default()
            .map(|builder| builder.to("61400000002").subject("Hello"))
            .build()
            .expect("complete");
        assert_eq!(body.to.as_deref(), Some("61400000002"));
    }

    #[test]
    fn an_sms_splits_its_first_line_into_the_subject() {
        let message: Message =
            Message::sms("61400000001", "Reminder\nYour appointment is at 3 pm.")
                .try_into()
                .expect("complete");
        assert_eq!(message.to.as_deref(), Some("61400000001"));
        assert_eq!(message.subject, "Reminder");
        assert_eq!(
            message.body.as_deref(),
            Some("Your appointment is at 3 pm.")
        );
    }

    #[test]
    fn a_windows_line_end_stays_out_of_the_subject() {
        let message: Message = Message::sms("61400000001", "Reminder\r\nAt 3 pm.")
            .try_into()
            .expect("complete");
        assert_eq!(message.subject, "Reminder");
    }

    #[test]
    fn a_model_missing_several_fields_names_them_all_at_once() {
        let err = Message::try_from(Message::builder().email(Email::builder()))
            .expect_err("subject and the email's body are missing");
        assert_eq!(
            err.to_string(),
            "missing required field: subject; email: missing required field: body"
        );
    }

    #[test]
    fn a_contact_names_every_required_field_missing_in_one_error() {
        let err = crate::types::Contact::try_from(
            crate::types::Contact::builder()
                .timezone("Australia/Melbourne")
                .work_country("Australia"),
        )
        .map(|_| ())
        .expect_err("four fields missing");
        assert_eq!(
            err.to_string(),
            "missing required fields: first_name, last_name, work_email_address1, \
             work_mobile_phone1"
        );
    }

    #[test]
    fn missing_fields_come_first_then_each_refused_value() {
        let text = unbuilt(&[
            ("body", Some("body: too long".into())),
            ("subject", Some("no value supplied for subject".into())),
            ("to", Some("no value supplied for to".into())),
            ("label", None),
        ]);
        assert_eq!(text, "missing required fields: subject, to; body: too long");
    }

    #[test]
    fn a_whole_number_out_of_its_range_is_refused_with_the_given_text() {
        let limit = |value: u32| {
            whole_param(
                std::num::NonZeroU32::try_from(value).map(Some),
                1..=20,
                "limit must be a whole number from 1 to 20",
            )
        };
        assert_eq!(limit(20).map(|v| v.map(|v| v.get())), Ok(Some(20)));
        assert_eq!(
            limit(21),
            Err("limit must be a whole number from 1 to 20".to_string())
        );
        assert_eq!(
            limit(0),
            Err("limit must be a whole number from 1 to 20".to_string())
        );
        let unset: Result<Option<u32>, std::convert::Infallible> = Ok(None);
        assert_eq!(whole_param(unset, 1..=20, "x"), Ok(None));
    }

    #[test]
    fn a_list_of_builders_fails_on_its_first_incomplete_item() {
        let complete = Message::sms("61400000001", "Hi");
        let err = IntoField::<Option<Vec<Message>>>::into_field(vec![
            complete.clone(),
            Message::builder().to("61400000002"),
        ])
        .expect_err("the second misses its subject");
        assert_eq!(err.to_string(), "missing required field: subject");
        let all = IntoField::<Option<Vec<Message>>>::into_field(vec![complete.clone(), complete])
            .expect("both complete");
        assert_eq!(all.map(|messages| messages.len()), Some(2));
    }

    #[test]
    fn an_sms_goes_to_one_number_or_a_list_given_either_way() {
        let to = |builder: MessageBuilder| Message::try_from(builder).ok().and_then(|m| m.to);
        let expected = Some("61400000001,61400000002".to_string());
        assert_eq!(to(Message::sms("61400000001,61400000002", "Hi")), expected);
        assert_eq!(
            to(Message::sms(["61400000001", "61400000002"], "Hi")),
            expected
        );
        let owned = vec!["61400000001".to_string(), "61400000002".to_string()];
        assert_eq!(to(Message::sms(owned.as_slice(), "Hi")), expected);
        assert_eq!(to(Message::sms(owned, String::from("Hi"))), expected);
    }

    #[test]
    fn arguments_given_the_wrong_way_round_are_refused_without_repeating_the_text() {
        let err =
            |builder: MessageBuilder| Message::try_from(builder).expect_err("refused").to_string();
        let swapped = err(Message::sms("Hello there", "61400000001"));
        assert!(swapped.contains("look swapped"), "{swapped}");
        assert!(!swapped.contains("Hello there"), "{swapped}");
        let swapped = err(Message::email("Invoice", "jane@example.com", "Attached."));
        assert!(swapped.contains("look swapped"), "{swapped}");
        // Words as the recipients with words as the text: a list's bare name.
        let bare = err(Message::sms("Night Shift", "Doors open at 9"));
        assert!(bare.contains("name it as a list"), "{bare}");
        let named = Message::try_from(Message::sms(
            crate::Recipient::list("Night Shift"),
            "Doors open at 9",
        ));
        assert_eq!(
            named.ok().and_then(|m| m.to).as_deref(),
            Some("Night Shift")
        );
    }

    #[test]
    fn bad_recipients_and_empty_texts_are_refused_before_sending_with_the_reason() {
        let err =
            |builder: MessageBuilder| Message::try_from(builder).expect_err("refused").to_string();
        assert!(err(Message::sms("", "Hi")).contains("recipient 1 is empty"));
        assert!(err(Message::sms("61400000001", "  ")).contains("the text is empty"));
        assert!(
            err(Message::sms("61400000001;61400000002", "Hi"))
                .contains("separate recipients with `,`")
        );
        assert!(
            err(Message::sms("not a number!", "Hi"))
                .contains("(\"not a number!\") is not a mobile number")
        );
        assert!(err(Message::sms("61400000001", "\nHi")).contains("first line is empty"));
        assert!(err(Message::sms("61400000001", " \r\nHi")).contains("first line is empty"));
        let long = "a".repeat(1571);
        assert!(
            err(Message::sms("61400000001", long.as_str()))
                .contains("first line is 1571 characters long")
        );
        assert!(
            err(Message::sms("61400000001", format!("Hi\n{long}")))
                .contains("after its first line is 1571 characters long")
        );
        assert!(
            err(Message::email(
                "ops@example.com",
                long.as_str(),
                "Disk full"
            ))
            .contains("subject is 1571 characters long")
        );
        let fits = "a".repeat(1570);
        assert!(Message::try_from(Message::sms("61400000001", format!("{fits}\n{fits}"))).is_ok());
        assert!(err(Message::sms(Vec::<String>::new(), "Hi")).contains("no recipient"));
        assert!(err(Message::email("ops@", "Alert", "Disk full")).contains("\"ops@\""));
        assert!(
            err(Message::email("ops@example.com", "", "Disk full")).contains("the text is empty")
        );
    }

    #[test]
    fn a_one_line_sms_is_all_subject() {
        let message: Message = Message::sms("61400000001", "Your code is 123456")
            .try_into()
            .expect("complete");
        assert_eq!(message.subject, "Your code is 123456");
        assert_eq!(message.body, None);
    }

    #[test]
    fn an_email_carries_a_plain_text_body() {
        let message: Message = Message::email("ops@example.com", "Alert", "Disk full")
            .try_into()
            .expect("complete");
        let email = message.email.expect("email channel");
        assert_eq!(email.body, "Disk full");
        assert_eq!(email.type_, Some(EmailType::TextPlain));
    }

    #[test]
    fn optional_fields_take_text_values_options_and_builders() {
        let label = String::from("orders");
        let message: Message = Message::builder()
            .to("61400000001")
            .subject("Hi")
            .body("text")
            .label(&label)
            .callback_id(None)
            .email(Email::builder().body("b"))
            .try_into()
            .expect("complete");
        assert_eq!(message.body.as_deref(), Some("text"));
        assert_eq!(message.label.as_deref(), Some("orders"));
        assert_eq!(message.callback_id, None);
        assert_eq!(message.email.map(|e| e.body).as_deref(), Some("b"));
    }

    #[test]
    fn an_incomplete_nested_builder_fails_when_the_model_is_built() {
        let built: Result<Message, _> = Message::builder()
            .to("61400000001")
            .subject("Hi")
            .email(Email::builder())
            .try_into();
        let err = built.expect_err("the email has no body");
        assert!(err.to_string().contains("email"), "{err}");
    }
}
