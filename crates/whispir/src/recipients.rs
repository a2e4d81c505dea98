//! Who a message goes to: one recipient or a list, checked before anything
//! is sent.
//!
//! Whispir reads a message's `to` as recipients separated by `,`: mobile
//! numbers (`61400000001`, `+61400000001`), email addresses, MRIs (the
//! `@`-addresses Whispir gives contacts, users and distribution lists) and
//! distribution-list names (`Night Shift`: letters, digits and spaces). A
//! recipient it cannot read fails the whole send, so the SDK refuses the
//! same mistakes first, with the reason: an empty list or entry, `;` as a
//! separator, text that is none of these, a `to` longer than Whispir takes.

/// The longest mobile number, in digits (E.164: 15).
const MOST_DIGITS: usize = 15;
/// The shortest number Whispir can route, in digits (short codes).
const FEWEST_DIGITS: usize = 3;
/// The longest `to` Whispir takes, in characters (the spec's `maxLength`).
pub const MOST_CHARACTERS: usize = 10_000;

/// One recipient as given to [`Message::sms`](crate::types::Message::sms) or
/// [`Message::email`](crate::types::Message::email): text (a mobile number,
/// an email address, an MRI, or several of them separated by `,`), or a
/// distribution list named with [`Recipient::list`].
///
/// A list's bare name is refused in text: any words pass as a name, so
/// `Message::sms("Hello there", "61400000001")` (the arguments swapped) would
/// otherwise build, and go to a list called "Hello there". Name the list, or
/// give its MRI.
///
/// ```
/// use whispir::Recipient;
/// use whispir::types::Message;
///
/// let to = [Recipient::from("61400000001"), Recipient::list("Night Shift")];
/// let message = Message::try_from(Message::sms(to, "Doors open at 9"))?;
/// assert_eq!(message.to.as_deref(), Some("61400000001,Night Shift"));
/// # Ok::<(), whispir::types::error::ConversionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    text: String,
    list: bool,
}

impl Recipient {
    /// The distribution list called `name` (letters, digits and spaces, as
    /// Whispir names lists), which Whispir sends to as it does to the list's
    /// MRI.
    pub fn list(name: impl Into<String>) -> Self {
        Self {
            text: name.into(),
            list: true,
        }
    }

    /// The recipient as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this names a distribution list ([`Recipient::list`]).
    pub fn is_list(&self) -> bool {
        self.list
    }
}

impl From<&str> for Recipient {
    fn from(text: &str) -> Self {
        text.to_owned().into()
    }
}

impl From<&String> for Recipient {
    fn from(text: &String) -> Self {
        text.clone().into()
    }
}

impl From<String> for Recipient {
    fn from(text: String) -> Self {
        Self { text, list: false }
    }
}

/// One recipient or several, as `Message::sms` and `Message::email` take
/// them: a `&str` or `String` (itself a `,`-separated list), a
/// [`Recipient`], or an array, slice or `Vec` of any of these.
///
/// ```
/// use whispir::types::Message;
///
/// let one = Message::sms("61400000001", "Your code is 1234");
/// let two = Message::sms(["61400000001", "61400000002"], "Doors open at 9");
/// let many = Message::sms(vec!["61400000001".to_string()], "Hello");
/// ```
pub trait Recipients {
    /// The recipients, in order, as written.
    fn into_list(self) -> Vec<Recipient>;
}

macro_rules! one_recipient {
    ($($one:ty),*) => {$(
        impl Recipients for $one {
            fn into_list(self) -> Vec<Recipient> {
                vec![self.into()]
            }
        }
    )*};
}
one_recipient!(&str, &String, String, Recipient);

impl<S: Into<Recipient>, const N: usize> Recipients for [S; N] {
    fn into_list(self) -> Vec<Recipient> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<S: Clone + Into<Recipient>> Recipients for &[S] {
    fn into_list(self) -> Vec<Recipient> {
        self.iter().cloned().map(Into::into).collect()
    }
}

impl<S: Into<Recipient>> Recipients for Vec<S> {
    fn into_list(self) -> Vec<Recipient> {
        self.into_iter().map(Into::into).collect()
    }
}

/// Why a message's recipients cannot be sent to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientError {
    /// No recipient at all.
    #[error("no recipient: give at least one mobile number, email address or MRI")]
    None,
    /// An entry of the list is empty (`"61400000001,"`, `""`).
    #[error("recipient {position} is empty")]
    Empty {
        /// Its place in the list, from 1.
        position: usize,
    },
    /// `;` where Whispir separates recipients with `,`.
    #[error(
        "recipient {position} ({given:?}) uses `;`: separate recipients with `,` or give a list"
    )]
    Semicolon {
        /// Its place in the list, from 1.
        position: usize,
        /// The entry as given.
        given: String,
    },
    /// Neither a mobile number, an email address nor an MRI.
    #[error(
        "recipient {position} ({given:?}) is not a mobile number (3 to 15 digits, an optional leading +), an email address or an MRI"
    )]
    Unreadable {
        /// Its place in the list, from 1.
        position: usize,
        /// The entry as given.
        given: String,
    },
    /// Words where a recipient was expected: a distribution list's name
    /// given as text, or message text given as the recipients.
    #[error(
        "recipient {position} ({given:?}) is words, not a mobile number, email address or MRI: to send to the distribution list of that name, name it as a list (`Recipient::list`; the CLI's `--list`)"
    )]
    ListNameInText {
        /// Its place in the list, from 1.
        position: usize,
        /// The entry as given.
        given: String,
    },
    /// A name given with [`Recipient::list`] that no list can have.
    #[error(
        "list {position} ({given:?}) is not a distribution-list name: letters, digits and spaces, at least one letter"
    )]
    BadListName {
        /// Its place in the list, from 1.
        position: usize,
        /// The name as given.
        given: String,
    },
    /// The recipients read as words and the text as recipients: the two
    /// arguments were most likely given the wrong way round. Neither is
    /// repeated here, as one of them is the message.
    #[error(
        "the recipients and the text look swapped: the recipients are words and the text reads as mobile numbers or addresses; the recipients come first (`Message::sms(to, text)`)"
    )]
    Swapped,
    /// The recipients, joined by `,`, are longer than Whispir takes.
    #[error(
        "the recipients are {characters} characters long, joined by `,`; Whispir takes at most 10000 in one message: send to a distribution list, or in several messages"
    )]
    TooLong {
        /// Their length in characters, joined by `,`.
        characters: usize,
    },
}

/// Checks `to` as Whispir reads it (recipients separated by `,`, spaces
/// around each ignored) and gives it back in that form. A distribution
/// list's bare name is refused here (see [`Recipient`]): give its MRI, or
/// build the message with [`Recipient::list`].
///
/// ```
/// use whispir::recipients::{RecipientError, check};
///
/// assert_eq!(check("61400000001, +61400000002").unwrap(), "61400000001,+61400000002");
/// assert!(matches!(check("61400000001;61400000002"), Err(RecipientError::Semicolon { .. })));
/// assert!(matches!(check("Night Shift"), Err(RecipientError::ListNameInText { .. })));
/// ```
pub fn check(to: &str) -> Result<String, RecipientError> {
    check_list(vec![Recipient::from(to)])
}

/// Checks every recipient of `list` (text may itself hold several,
/// separated by `,`; a named list is one name) and joins them as Whispir
/// reads them.
pub(crate) fn check_list(list: Vec<Recipient>) -> Result<String, RecipientError> {
    let mut joined = String::new();
    let mut position = 0;
    for recipient in &list {
        let entries: Vec<&str> = if recipient.list {
            vec![recipient.text.as_str()]
        } else {
            recipient.text.split(',').collect()
        };
        for entry in entries {
            position += 1;
            let entry = entry.trim();
            check_one(entry, position, recipient.list)?;
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(entry);
        }
    }
    if joined.is_empty() {
        return Err(RecipientError::None);
    }
    let characters = joined.chars().count();
    if characters > MOST_CHARACTERS {
        return Err(RecipientError::TooLong { characters });
    }
    Ok(joined)
}

/// Whether every recipient in `text` reads as a number, an email address
/// or an MRI: text that a caller most likely meant as the recipients.
pub(crate) fn reads_as_recipients(text: &str) -> bool {
    text.split(',').all(|entry| {
        matches!(
            kind_of(entry.trim()),
            Some(RecipientKind::Number | RecipientKind::Address)
        )
    })
}

fn check_one(entry: &str, position: usize, named_list: bool) -> Result<(), RecipientError> {
    if entry.is_empty() {
        return Err(RecipientError::Empty { position });
    }
    if entry.contains(';') {
        return Err(RecipientError::Semicolon {
            position,
            given: entry.to_owned(),
        });
    }
    match (kind_of(entry), named_list) {
        (Some(RecipientKind::ListName), true) => Ok(()),
        (_, true) => Err(RecipientError::BadListName {
            position,
            given: entry.to_owned(),
        }),
        (Some(RecipientKind::ListName), false) => Err(RecipientError::ListNameInText {
            position,
            given: entry.to_owned(),
        }),
        (Some(_), false) => Ok(()),
        (None, false) => Err(RecipientError::Unreadable {
            position,
            given: entry.to_owned(),
        }),
    }
}

/// What one recipient of a message's `to` is, as Whispir reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientKind {
    /// A mobile number: 3 to 15 digits, an optional leading `+`.
    Number,
    /// An email address, or an MRI (the `@`-address Whispir gives a
    /// contact, user or distribution list).
    Address,
    /// A distribution list's name (letters, digits and spaces, at least
    /// one letter), which Whispir resolves to the list of that name.
    ListName,
}

/// What `entry` (one recipient, without the spaces around it) is, or
/// `None` when Whispir cannot read it as a recipient. The sandbox reads
/// recipients with this too, so that the SDK and the sandbox agree.
///
/// ```
/// use whispir::recipients::{RecipientKind, kind_of};
///
/// assert_eq!(kind_of("+61400000001"), Some(RecipientKind::Number));
/// assert_eq!(kind_of("Staff.company@list.company.whispir.au"), Some(RecipientKind::Address));
/// assert_eq!(kind_of("On call team"), Some(RecipientKind::ListName));
/// assert_eq!(kind_of("0400 000 001"), None);
/// ```
pub fn kind_of(entry: &str) -> Option<RecipientKind> {
    if is_number(entry) {
        Some(RecipientKind::Number)
    } else if is_address(entry) {
        Some(RecipientKind::Address)
    } else if is_list_name(entry) {
        Some(RecipientKind::ListName)
    } else {
        None
    }
}

/// A mobile number: digits, an optional leading `+`.
fn is_number(entry: &str) -> bool {
    let digits = entry.strip_prefix('+').unwrap_or(entry);
    (FEWEST_DIGITS..=MOST_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An email address or an MRI (`Jane.Smith.company@Contact.whispir.au`):
/// text on both sides of one `@`, a dot in the part after it, and no
/// space or control character anywhere.
pub(crate) fn is_address(entry: &str) -> bool {
    let Some((local, domain)) = entry.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
        && !entry.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A distribution list's name, which Whispir takes in `to` as it takes
/// the list's MRI: letters, digits and spaces (the spec allows no other
/// character in a name), at least one letter, so that a number written
/// with spaces (`0400 000 001`) is still refused.
fn is_list_name(entry: &str) -> bool {
    entry.chars().any(char::is_alphabetic) && entry.chars().all(|c| c.is_alphanumeric() || c == ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_addresses_and_mris_are_read_as_whispir_reads_them() {
        for good in [
            "61400000001",
            "+61400000001",
            "123",
            "jane@example.com",
            "Jane.Smith.company@Contact.whispir.au",
            "DL_Staff.company@list.whispir.com",
            "My_Distribution_List.company_name@list.company.whispir.sg",
            "testUser.au@User.whispir.com",
        ] {
            assert_eq!(check(good).as_deref(), Ok(good), "{good}");
        }
        assert_eq!(
            check(" 61400000001 ,jane@example.com").as_deref(),
            Ok("61400000001,jane@example.com")
        );
    }

    #[test]
    fn each_mistake_is_refused_with_its_reason_and_place() {
        assert_eq!(check(""), Err(RecipientError::Empty { position: 1 }));
        assert_eq!(
            check("61400000001,"),
            Err(RecipientError::Empty { position: 2 })
        );
        assert!(matches!(
            check("61400000001;61400000002"),
            Err(RecipientError::Semicolon { position: 1, .. })
        ));
        for bad in [
            "not a number!",
            "0400 000 001",
            "+",
            "\u{ff16}\u{ff11}\u{ff14}",
            "\u{0664}\u{0661}\u{0664}",
            "My_Distribution_List",
            "12",
            "1234567890123456",
            "jane@",
            "@example.com",
            "jane@example",
            "jane@@example.com",
            "jane @example.com",
            "jane@example..com",
        ] {
            assert!(
                matches!(
                    check(bad),
                    Err(RecipientError::Unreadable { position: 1, .. })
                ),
                "{bad}: {:?}",
                check(bad)
            );
        }
        assert_eq!(check_list(Vec::new()), Err(RecipientError::None));
    }

    #[test]
    fn a_list_name_is_sent_only_when_named_as_one() {
        for name in ["My Distribution List", "Night Shift 2", "Hello there"] {
            assert_eq!(
                check(name),
                Err(RecipientError::ListNameInText {
                    position: 1,
                    given: name.to_owned()
                })
            );
            assert_eq!(check_list(vec![Recipient::list(name)]).as_deref(), Ok(name));
        }
        let mixed = vec![
            Recipient::from("61400000001"),
            Recipient::list("Night Shift"),
        ];
        assert_eq!(check_list(mixed).as_deref(), Ok("61400000001,Night Shift"));
        for bad in ["61400000001", "a,b", "Night_Shift", ""] {
            assert!(
                check_list(vec![Recipient::list(bad)]).is_err(),
                "{bad:?} is no list name"
            );
        }
    }

    #[test]
    fn a_list_may_hold_lists() {
        let list = ["61400000001,61400000002", "jane@example.com"].into_list();
        assert_eq!(
            check_list(list).as_deref(),
            Ok("61400000001,61400000002,jane@example.com")
        );
    }

    #[test]
    fn the_reason_names_the_entry_and_what_would_do() {
        let err = check("61400000001,call me!").unwrap_err();
        assert_eq!(
            err.to_string(),
            "recipient 2 (\"call me!\") is not a mobile number (3 to 15 digits, an optional leading +), an email address or an MRI"
        );
    }

    #[test]
    fn recipients_longer_than_whispir_takes_are_refused() {
        let number = "61400000001";
        // 833 numbers and 832 commas: 9995 characters, then one more number.
        let fits = vec![number; 833].join(",");
        assert_eq!(check(&fits).map(|to| to.len()), Ok(9995));
        let over = vec![number; 834];
        assert_eq!(
            check_list(over.into_list()),
            Err(RecipientError::TooLong { characters: 10007 })
        );
    }
}
