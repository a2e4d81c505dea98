//! What the generated `whispir api` subcommands share: reading `--body`,
//! printing an answer, streaming a list.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use whispir::{Items, MessageSent, Response};

use crate::exit::CliError;
use crate::input::read_json;
use crate::output::{Output, to_json};

/// The `--body` JSON (a file, or `-` for stdin) as the operation's model.
pub fn read_body<T: DeserializeOwned>(source: &str) -> Result<T, CliError> {
    serde_json::from_value(read_json(source)?)
        .map_err(|err| CliError::usage(format!("--body {source}: {err}")))
}

/// An operation's answer as the JSON `whispir api` prints.
pub trait Answer {
    /// The body; for an answer without one, its status and location.
    fn to_json(&self) -> Result<Value, CliError>;
}

impl<T: Serialize> Answer for Response<T> {
    fn to_json(&self) -> Result<Value, CliError> {
        match to_json(self.body())? {
            Value::Null => Ok(json!({
                "status": self.status().as_u16(),
                "location": self.location().map(|url| url.as_str()),
            })),
            body => Ok(body),
        }
    }
}

impl Answer for MessageSent {
    fn to_json(&self) -> Result<Value, CliError> {
        Ok(json!({
            "status": self.status().as_u16(),
            "messageId": self.message_id(),
            "location": self.location().map(|url| url.as_str()),
            "scheduled": self.scheduled().map(to_json).transpose()?,
        }))
    }
}

/// Prints the answer as JSON.
pub fn print_answer(answer: &impl Answer) -> Result<(), CliError> {
    Output::json().object(&answer.to_json()?, Vec::new)
}

/// Prints every item of the list as one JSON line, page after page.
pub async fn print_items<T: Serialize>(mut items: Items<'_, T>) -> Result<(), CliError> {
    let out = Output::json();
    while let Some(item) = items.try_next().await? {
        out.json_line(&to_json(&item)?)?;
    }
    Ok(())
}
