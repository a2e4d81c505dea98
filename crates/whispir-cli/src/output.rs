//! What commands print: JSON for scripts (`--json`), CSV for spreadsheets
//! (`--output csv`), tables and lines for people. Tables are aligned on a
//! terminal and tab-separated elsewhere.

use std::io::{IsTerminal as _, Write as _};

use serde_json::Value;

use crate::exit::CliError;

/// What `--output` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines and tables for people.
    Text,
    /// JSON for scripts.
    Json,
    /// CSV for spreadsheets.
    Csv,
}

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// JSON instead of text.
    pub json: bool,
    /// CSV instead of text.
    pub csv: bool,
    /// Whether stdout is a terminal.
    terminal: bool,
}

impl Output {
    /// Printing to stdout in `format`.
    pub fn new(format: Format) -> Self {
        Self {
            json: format == Format::Json,
            csv: format == Format::Csv,
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Printing JSON to stdout.
    pub fn json() -> Self {
        Self::new(Format::Json)
    }

    /// One result: `value` as JSON, as one CSV row under its field names,
    /// or the lines `text` gives.
    pub fn object(
        &self,
        value: &Value,
        text: impl FnOnce() -> Vec<String>,
    ) -> Result<(), CliError> {
        if self.csv {
            let (headers, row) = csv_row(value);
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            return self.table(&headers, &[row]);
        }
        if self.json {
            let rendered = if self.terminal {
                serde_json::to_string_pretty(value)
            } else {
                serde_json::to_string(value)
            };
            let rendered =
                rendered.map_err(|err| CliError::failure(format!("cannot print JSON: {err}")))?;
            print_lines([rendered])
        } else {
            print_lines(text())
        }
    }

    /// One item of a list as a JSON line.
    pub fn json_line(&self, value: &Value) -> Result<(), CliError> {
        let line = serde_json::to_string(value)
            .map_err(|err| CliError::failure(format!("cannot print JSON: {err}")))?;
        print_lines([line])
    }

    /// A table of text rows under `headers`.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
        if self.csv {
            return print_csv(headers, rows);
        }
        if !self.terminal {
            let lines =
                std::iter::once(headers.join("\t")).chain(rows.iter().map(|row| row.join("\t")));
            return print_lines(lines);
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let render = |cells: Vec<&str>| {
            cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let lines = std::iter::once(render(headers.to_vec())).chain(
            rows.iter()
                .map(|row| render(row.iter().map(String::as_str).collect())),
        );
        print_lines(lines)
    }
}

/// A result's top-level fields as one CSV row: names as headers, text as
/// it is, other values as JSON. Anything but an object is one `value`.
fn csv_row(value: &Value) -> (Vec<String>, Vec<String>) {
    match value {
        Value::Object(fields) => fields
            .iter()
            .map(|(name, field)| (name.clone(), text_of(field)))
            .unzip(),
        other => (vec!["value".to_string()], vec![text_of(other)]),
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A header row, then the rows, quoted as CSV needs.
fn print_csv(headers: &[&str], rows: &[Vec<String>]) -> Result<(), CliError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = writer
        .write_record(headers)
        .and_then(|()| rows.iter().try_for_each(|row| writer.write_record(row)));
    let bytes = written
        .map_err(|err| CliError::failure(format!("cannot print CSV: {err}")))
        .and_then(|()| {
            writer
                .into_inner()
                .map_err(|err| CliError::failure(format!("cannot print CSV: {err}")))
        })?;
    // One piece: a quoted cell may hold a line break of its own.
    let text = String::from_utf8_lossy(&bytes);
    print_lines([text.trim_end_matches('\n').to_string()])
}

/// Prints lines to stdout; a closed pipe (`| head`) ends quietly.
pub fn print_lines(lines: impl IntoIterator<Item = String>) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in lines {
        match writeln!(out, "{line}") {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(err) => return Err(CliError::io("cannot write to stdout", err)),
        }
    }
    out.flush().or_else(|err| match err.kind() {
        std::io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(CliError::io("cannot write to stdout", err)),
    })
}

/// The id of an API item: the last segment of its `self` link.
pub fn item_id(item: &Value) -> String {
    item.get("link")
        .and_then(Value::as_array)
        .and_then(|links| {
            links
                .iter()
                .find(|link| link.get("rel").and_then(Value::as_str) == Some("self"))
        })
        .and_then(|link| link.get("uri").and_then(Value::as_str))
        .and_then(|uri| uri.trim_end_matches('/').rsplit('/').next())
        .map(|id| id.split('?').next().unwrap_or(id).to_string())
        .or_else(|| item.get("id").and_then(Value::as_str).map(String::from))
        .unwrap_or_default()
}

/// A text field of an item, empty when absent.
pub fn text(item: &Value, field: &str) -> String {
    match item.get(field) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Serializes an SDK model for printing.
pub fn to_json(value: &impl serde::Serialize) -> Result<Value, CliError> {
    serde_json::to_value(value)
        .map_err(|err| CliError::failure(format!("cannot print JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_item_id_is_the_last_segment_of_its_self_link() {
        let item =
            json!({"link": [{"rel": "self", "uri": "https://api/workspaces/W/messages/AB12"}]});
        assert_eq!(item_id(&item), "AB12");
    }
}
