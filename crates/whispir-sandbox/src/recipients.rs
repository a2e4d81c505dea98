//! What Whispir checks in a message before it accepts the send: that it
//! has recipients it can read and a subject.
//!
//! `to` holds recipients separated by `,`: mobile numbers, email
//! addresses, MRIs (the `@`-addresses Whispir gives contacts, users and
//! distribution lists) and the names of distribution lists, which Whispir
//! resolves to the list. What one recipient is comes from
//! `whispir::recipients::kind_of`, the rule the SDK checks messages with,
//! so that the two never disagree; a list name must also name a list of
//! the workspace. The spec types `to` and `subject` as any string, so its
//! schema cannot refuse these mistakes.

use axum::http::StatusCode;
use serde_json::Value;
use whispir::recipients::{RecipientKind, kind_of};

use crate::errors::ApiFailure;

/// Why a message cannot be sent, as Whispir answers it.
///
/// 422, not 400: the spec documents 400 for a request Whispir cannot read
/// (its example: no content to map) and 422 for one that is well formed
/// but lacks what the method needs ("email is required and it's not
/// provided"), naming "the offending fields … in the error text". A
/// parsed message without readable recipients or a subject is the latter.
fn refuse(problem: String, remedy: &str) -> ApiFailure {
    ApiFailure::new(StatusCode::UNPROCESSABLE_ENTITY, problem, remedy)
}

/// Checks a message before `messageCreate` accepts it. A bulk message
/// (`application/vnd.whispir.bulkmessage-v1+…`, or a dynamic message: one
/// whose `resource` names uploaded rows) takes its recipients from
/// elsewhere, so it may leave `to` out, as Whispir's bulk examples do; any
/// other message without `to` is refused like an empty one. A message with
/// both: Whispir's documentation says nothing of it, so the sandbox keeps
/// what it did before `to` became optional: the recipients in `to` are
/// checked, and the rows alone are sent to (`send`).
/// A message from a template may leave the subject to the template.
///
/// A distribution-list name is a recipient only when `list_exists` knows
/// it (a list of that name in the message's workspace): Whispir resolves
/// names on its side, so text that names no list is refused.
pub(crate) fn check_message(
    message: &Value,
    bulk: bool,
    list_exists: impl Fn(&str) -> bool,
) -> Result<(), ApiFailure> {
    let text = |field: &str| message.get(field).and_then(Value::as_str).unwrap_or("");
    let to = text("to");
    if !(bulk && to.trim().is_empty()) {
        check_recipients(to, &list_exists)?;
    }
    let templated = ["messageTemplateId", "messageTemplateName"]
        .iter()
        .any(|field| !text(field).trim().is_empty());
    if text("subject").trim().is_empty() && !templated {
        return Err(refuse(
            "subject is required: it is the message's first line".to_string(),
            "give the message a subject (Message::sms puts the text's first line there)",
        ));
    }
    Ok(())
}

/// Checks `to`: at least one recipient, each readable, separated by `,`.
fn check_recipients(to: &str, list_exists: &impl Fn(&str) -> bool) -> Result<(), ApiFailure> {
    if to.trim().is_empty() {
        return Err(refuse(
            "to is required unless a resource names the recipients: no recipient given".to_string(),
            "give at least one mobile number, email address or MRI, or a resource whose rows are the recipients (a dynamic message)",
        ));
    }
    for (index, entry) in to.split(',').enumerate() {
        let position = index + 1;
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(refuse(
                format!("to: recipient {position} is empty"),
                "remove the extra `,`",
            ));
        }
        if entry.contains(';') {
            return Err(refuse(
                format!("to: recipient {position} ({entry:?}) contains `;`"),
                "separate recipients with `,`",
            ));
        }
        // The SDK's reading of a recipient (one rule for both sides); a
        // list name must name a list here, as Whispir resolves it.
        let kind = kind_of(entry);
        if kind == Some(RecipientKind::ListName) && !list_exists(entry) {
            return Err(refuse(
                format!("to: recipient {position} ({entry:?}) names no distribution list"),
                "create the list first, or give a mobile number, email address or MRI",
            ));
        }
        if kind.is_none() {
            return Err(refuse(
                format!(
                    "to: recipient {position} ({entry:?}) is not a mobile number, email address, MRI or distribution-list name"
                ),
                "a mobile number is 3 to 15 digits with an optional leading +",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    fn sms(to: &str, subject: &str) -> Value {
        json!({"to": to, "subject": subject})
    }

    fn refused(message: &Value) -> String {
        let failure = check_message(message, false, |name| name == "Staff List").unwrap_err();
        assert_eq!(failure.status(), StatusCode::UNPROCESSABLE_ENTITY);
        format!("{failure:?}")
    }

    #[test]
    fn numbers_addresses_and_mris_are_recipients() {
        for to in [
            "61400000001",
            "+61400000001",
            "123",
            "test@test.com",
            "John_Wick.1143139@Contact.whispir.au",
            "Staff.company@list.company.whispir.au",
            "61400400400,test@test.com",
            " 61400000001 , 61400000002 ",
            "My_Distribution_List.company_name@list.company.whispir.sg",
            "My Distribution List",
        ] {
            assert!(
                check_message(&sms(to, "Hi"), false, |name| name == "My Distribution List").is_ok(),
                "{to}"
            );
        }
    }

    #[test]
    fn an_empty_to_or_subject_is_refused_naming_the_field() {
        assert!(refused(&sms("", "Hi")).contains("to is required"));
        assert!(refused(&sms("  ", "Hi")).contains("to is required"));
        assert!(refused(&sms("61400000001", "")).contains("subject is required"));
        assert!(refused(&sms("61400000001,", "Hi")).contains("recipient 2 is empty"));
    }

    #[test]
    fn a_semicolon_between_recipients_is_refused() {
        let text = refused(&sms("61400000001;61400000002", "Hi"));
        assert!(text.contains("separate recipients with `,`"), "{text}");
    }

    #[test]
    fn text_that_is_no_recipient_is_refused() {
        for to in [
            "not a number!",
            "My_Distribution_List",
            "12",
            "1234567890123456",
            "61 400 000 001",
            "ops@",
            "@example.com",
            "a@b@example.com",
            "jane@localhost",
        ] {
            assert!(
                refused(&sms(to, "Hi")).contains("is not a mobile number"),
                "{to}"
            );
        }
    }

    #[test]
    fn a_list_name_is_a_recipient_only_when_the_list_exists() {
        assert!(
            check_message(&sms("Staff List", "Hi"), false, |name| name == "Staff List").is_ok()
        );
        let failure =
            check_message(&sms("61400000001,not a list", "Hi"), false, |_| false).unwrap_err();
        assert_eq!(failure.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            format!("{failure:?}").contains("names no distribution list"),
            "{failure:?}"
        );
    }

    #[test]
    fn a_message_without_to_is_refused_unless_it_is_bulk() {
        let bare = json!({"subject": "Hi"});
        let text = refused(&bare);
        assert!(text.contains("to is required unless a resource"), "{text}");
        assert!(check_message(&bare, true, |_| false).is_ok());
    }

    #[test]
    fn a_bulk_message_may_leave_to_empty_and_a_template_the_subject() {
        assert!(check_message(&sms("", "Hi"), true, |name| name == "Staff List").is_ok());
        assert!(check_message(&sms("nope!", "Hi"), true, |name| name == "Staff List").is_err());
        let templated = json!({"to": "61400000001", "subject": "", "messageTemplateId": "T1"});
        assert!(check_message(&templated, false, |name| name == "Staff List").is_ok());
    }
}
