//! What commands read besides their flags: JSON bodies from a file or
//! standard input.

use std::io::Read as _;

use serde_json::Value;

use crate::exit::CliError;

/// JSON from a file, or stdin for `-`.
pub fn read_json(source: &str) -> Result<Value, CliError> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| CliError::io("cannot read stdin", err))?;
        text
    } else {
        std::fs::read_to_string(source)
            .map_err(|err| CliError::io(format!("cannot read {source}"), err))?
    };
    serde_json::from_str(&text).map_err(|err| CliError::usage(format!("{source}: not JSON: {err}")))
}
