//! Building models by hand: the [`IntoField`] conversions every optional
//! field's setter takes, and shortcuts for the everyday messages.

use std::convert::Infallible;
use std::fmt::Display;

use crate::enums::EmailType;
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
    converted.map_err(|err| format!("error converting supplied value for {name}: {err}"))
}

/// What every generated operation-builder setter does with its converted
/// argument: the value, or the given error text.
pub(crate) fn param<V, E>(converted: Result<V, E>, message: &str) -> Result<V, String> {
    converted.map_err(|_| message.to_string())
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

impl Message {
    /// An SMS to `to` (a mobile number such as `61400000001`, or a contact,
    /// user or distribution-list MRI; several separated by `,`).
    ///
    /// Whispir puts an SMS together from the message's subject (its first
    /// line) and body (the rest): the first line of `text` becomes the
    /// subject, the remaining lines the body.
    pub fn sms(to: impl Into<String>, text: &str) -> builder::Message {
        let (subject, body) = match text.split_once('\n') {
            Some((first, rest)) => (first.trim_end_matches('\r'), Some(rest)),
            None => (text, None),
        };
        Message::builder()
            .to(to.into())
            .subject(subject)
            .body(body.map(str::to_string))
    }

    /// A plain-text email to `to` (an address, or contact, user or
    /// distribution-list MRIs separated by `,`).
    pub fn email(to: impl Into<String>, subject: &str, body: &str) -> builder::Message {
        Message::builder()
            .to(to.into())
            .subject(subject)
            .email(Email::builder().body(body).type_(EmailType::TextPlain))
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
        assert_eq!(err.to_string(), "no value supplied for subject");
    }

    #[test]
    fn body_map_edits_a_given_model_and_keeps_the_rest() {
        let body = MessageBody::model(sms())
            .map(|builder| builder.body("Moved to 4 pm."))
            .build()
            .expect("complete");
        assert_eq!(body.body.as_deref(), Some("Moved to 4 pm."));
        assert_eq!(body.to, "61400000001");
    }

    #[test]
    fn body_map_without_a_body_starts_from_the_defaults() {
        let body = MessageBody::default()
            .map(|builder| builder.to("61400000002").subject("Hello"))
            .build()
            .expect("complete");
        assert_eq!(body.to, "61400000002");
    }

    #[test]
    fn an_sms_splits_its_first_line_into_the_subject() {
        let message: Message =
            Message::sms("61400000001", "Reminder\nYour appointment is at 3 pm.")
                .try_into()
                .expect("complete");
        assert_eq!(message.to, "61400000001");
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
    fn a_model_missing_several_fields_names_the_first_in_field_order() {
        let err = Message::try_from(Message::builder()).expect_err("subject and to are missing");
        assert_eq!(err.to_string(), "no value supplied for subject");
        let err = Message::try_from(Message::builder().subject("Hi")).expect_err("to is missing");
        assert_eq!(err.to_string(), "no value supplied for to");
    }

    #[test]
    fn a_list_of_builders_fails_on_its_first_incomplete_item() {
        let complete = Message::sms("61400000001", "Hi");
        let err = IntoField::<Option<Vec<Message>>>::into_field(vec![
            complete.clone(),
            Message::builder().to("61400000002"),
        ])
        .expect_err("the second misses its subject");
        assert_eq!(err.to_string(), "no value supplied for subject");
        let all = IntoField::<Option<Vec<Message>>>::into_field(vec![complete.clone(), complete])
            .expect("both complete");
        assert_eq!(all.map(|messages| messages.len()), Some(2));
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
