//! Reading a bulk CSV: every row checked before anything is sent, each
//! problem named by its row and column. A row is numbered as a spreadsheet
//! numbers it (the header is row 1): the line where it starts, the number
//! the journal and `bulk resolve` use. A row is checked by the SDK's own
//! rules (its recipient check, then the message as the send builds it),
//! so that `--dry-run` refuses exactly what a send would.

use std::collections::BTreeSet;
use std::path::Path;

use crate::exit::{CliError, ExitClass};

/// One message to send.
#[derive(Debug, Clone)]
pub struct Row {
    /// The CSV line the row starts on: its number in a spreadsheet, and
    /// its name in the journal and the message label.
    pub line: u64,
    /// The recipient.
    pub to: String,
    /// The message.
    pub text: String,
    /// The values of the sheet's [`Sheet::columns`], in their order: what
    /// a dynamic message's tags are filled with.
    pub values: Vec<String>,
}

/// A checked CSV: its rows, and the template they were checked against.
#[derive(Debug)]
pub struct Sheet {
    /// The rows, in file order.
    pub rows: Vec<Row>,
    /// The columns a dynamic message uploads, as [`Row::values`] holds
    /// them: the `to` column first, then each column the template names,
    /// each by a name Whispir can tag (see [`Sheet::tagged_template`]).
    pub columns: Vec<String>,
    /// The template, its placeholders named as in `columns`.
    pieces: Vec<Piece>,
}

impl Sheet {
    /// The template as a dynamic message's text: each `{column}` becomes
    /// the `@@tag@@` of its uploaded column. Refused (the reason, for
    /// `--template`) where Whispir would read the text otherwise than
    /// `--per-row` sends it: an `@@` of its own, or an `@` beside a
    /// placeholder, which would become part of the tag.
    pub fn tagged_template(&self) -> Result<String, String> {
        let mut text = String::new();
        let mut wanted = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(part) if part.contains("@@") => {
                    return Err(format!(
                        "{part:?} holds `@@`, which marks a tag in a dynamic message \
                         (Whispir would fill it, not send it); send it with --per-row"
                    ));
                }
                Piece::Text(part) => text.push_str(part),
                Piece::Column(column) => {
                    text.push_str(&format!("@@{column}@@"));
                    wanted.push(column.as_str());
                }
            }
        }
        let found: Vec<&str> = whispir::campaign::tags(&text).collect();
        if found != wanted {
            return Err(
                "an `@` next to a placeholder would become part of Whispir's tag in a dynamic \
                 message; put a space between them, or send with --per-row"
                    .into(),
            );
        }
        Ok(text)
    }
}

/// A template split into text and `{column}` placeholders.
#[derive(Debug)]
enum Piece {
    Text(String),
    Column(String),
}

fn parse_template(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("a `{` is never closed (write `{{` for a brace)".into()),
                    }
                }
                pieces.push(Piece::Text(std::mem::take(&mut text)));
                pieces.push(Piece::Column(name.trim().to_string()));
            }
            '}' => return Err("a `}` closes nothing (write `}}` for a brace)".into()),
            c => text.push(c),
        }
    }
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

/// What the SDK finds wrong with a row's message, built as the send builds
/// it (the label's journal id is a stand-in of the same length).
fn message_problem(to: &str, text: &str, line: u64) -> Option<String> {
    let message = whispir::types::Message::sms(to, text).label(format!("bulk-{:012x}-{line}", 0));
    whispir::types::Message::try_from(message)
        .err()
        .map(|err| err.to_string())
}

/// The line where the record the reader placed at `byte` starts: the
/// reader may place it on the end of the line before (the `\n` of a
/// `\r\n`) or on blank lines before it, which are not the row's.
fn line_at(bytes: &[u8], byte: u64) -> u64 {
    let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        start += 1;
    }
    let before = bytes[..start].iter().filter(|b| **b == b'\n').count();
    u64::try_from(before).unwrap_or(u64::MAX).saturating_add(1)
}

/// Reads and checks every row; all problems at once, or the rows.
pub fn read(path: &Path, template: Option<&str>) -> Result<Sheet, CliError> {
    let invalid = |problems: Vec<String>| {
        CliError::new(
            ExitClass::Invalid,
            format!(
                "{} has {} problem{}, nothing was sent:\n  {}",
                path.display(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.join("\n  ")
            ),
        )
    };
    let bytes = std::fs::read(path)
        .map_err(|err| CliError::usage(format!("cannot read {}: {err}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|err| CliError::usage(format!("{}: row 1: {err}", path.display())))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let mut problems = Vec::new();
    let to_column = column("to");
    if to_column.is_none() {
        problems.push(format!(
            "row 1: no `to` column (columns: {})",
            headers.join(", ")
        ));
    }
    let pieces = match template {
        Some(template) => match parse_template(template) {
            Ok(pieces) => pieces,
            Err(err) => {
                problems.push(format!("--template: {err}"));
                Vec::new()
            }
        },
        None => {
            if column("text").is_none() {
                problems.push(format!(
                    "row 1: no `text` column and no --template (columns: {})",
                    headers.join(", ")
                ));
            }
            vec![Piece::Column("text".into())]
        }
    };
    let mut used = BTreeSet::new();
    for piece in &pieces {
        if let Piece::Column(name) = piece {
            match column(name) {
                Some(index) => {
                    used.insert(index);
                }
                None if template.is_some() => problems.push(format!(
                    "--template: {{{name}}} names no column (columns: {})",
                    headers.join(", ")
                )),
                None => {}
            }
        }
    }
    // A wrong --template is the command line's mistake, not the file's.
    let (flag_problems, file_problems): (Vec<String>, Vec<String>) = problems
        .into_iter()
        .partition(|problem| problem.starts_with("--template"));
    if !flag_problems.is_empty() {
        return Err(CliError::usage(flag_problems.join("; ")));
    }
    problems = file_problems;
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    // The columns a dynamic message uploads: `to`, then those the
    // template names, in the order it names them.
    let mut uploaded: Vec<usize> = to_column.into_iter().collect();
    for piece in &pieces {
        if let Piece::Column(name) = piece
            && let Some(index) = column(name)
            && !uploaded.contains(&index)
        {
            uploaded.push(index);
        }
    }
    let mut columns: Vec<String> = Vec::new();
    for index in &uploaded {
        let name = tag_safe(
            headers.get(*index).map_or("", String::as_str),
            *index,
            &columns,
        );
        columns.push(name);
    }
    let named = |name: &str| {
        column(name)
            .and_then(|index| uploaded.iter().position(|at| *at == index))
            .and_then(|at| columns.get(at))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    let sheet_pieces: Vec<Piece> = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => Piece::Text(text.clone()),
            Piece::Column(name) => Piece::Column(named(name)),
        })
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = err.position().map_or(line, |p| p.line());
                problems.push(format!("row {line}: {err}"));
                continue;
            }
        }
        let line = record
            .position()
            .map_or(line, |p| line_at(&bytes, p.byte()));
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            problems.push(format!(
                "row {line}: {} fields, the header has {}",
                record.len(),
                headers.len()
            ));
            continue;
        }
        let field = |index: usize| record.get(index).unwrap_or("").trim();
        let to = to_column.map(field).unwrap_or("");
        let mut row_ok = true;
        if to.is_empty() {
            problems.push(format!("row {line}, column to: empty"));
            row_ok = false;
        } else if let Err(err) = whispir::recipients::check(to) {
            problems.push(format!("row {line}, column to: {to:?}: {err}"));
            row_ok = false;
        }
        let mut text = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(part) => text.push_str(part),
                Piece::Column(name) => {
                    let value = column(name).map(field).unwrap_or("");
                    if value.is_empty() {
                        let header = column(name)
                            .and_then(|i| headers.get(i))
                            .map_or(name.as_str(), String::as_str);
                        problems.push(format!("row {line}, column {header}: empty"));
                        row_ok = false;
                    }
                    text.push_str(value);
                }
            }
        }
        if row_ok && let Some(problem) = message_problem(to, &text, line) {
            problems.push(format!("row {line}: {problem}"));
        }
        rows.push(Row {
            line,
            to: to.to_string(),
            text,
            values: uploaded
                .iter()
                .map(|index| field(*index).to_string())
                .collect(),
        });
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    if rows.is_empty() {
        return Err(CliError::new(
            ExitClass::Invalid,
            format!("{} has no rows", path.display()),
        ));
    }
    Ok(Sheet {
        rows,
        columns,
        pieces: sheet_pieces,
    })
}

/// The name a column is uploaded under: its header as Whispir tags it
/// (`First Name` as `first_name`) when that is letters, digits and `_`
/// and not taken, else `column<N>` (N counting from 1).
fn tag_safe(header: &str, index: usize, taken: &[String]) -> String {
    let tag = whispir::campaign::tag_name(header);
    let usable = !tag.is_empty()
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !taken.contains(&tag);
    if usable {
        tag
    } else {
        format!("column{}", index + 1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn csv(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn every_bad_row_is_named_with_its_row_and_column() {
        let file = csv("to,name\n61400000001,Ava\n,Ben\nnot-a-number,Chloe\n61400000004,\n");
        let err = read(file.path(), Some("Hi {name}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 3, column to: empty"), "{err}");
        assert!(err.contains("row 4, column to: \"not-a-number\""), "{err}");
        assert!(err.contains("row 5, column name: empty"), "{err}");
        assert!(err.contains("3 problems"), "{err}");
    }

    #[test]
    fn a_template_fills_placeholders_from_the_columns() {
        let file = csv("to,name\n+61400000001,Ava\n");
        let rows = read(file.path(), Some("Hi {name}, {{braces}}"))
            .unwrap()
            .rows;
        assert_eq!(rows[0].text, "Hi Ava, {braces}");
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn rows_are_numbered_alike_whatever_the_line_endings() {
        // A file saved with CRLF (or converted either way between two runs)
        // must give each row the number it has in a spreadsheet: the
        // journal and `bulk resolve` name rows by it.
        let lf = "to,text\n61400000001,\"A\nB\"\n\n61400000002,C\n";
        for text in [lf.to_string(), lf.replace('\n', "\r\n")] {
            let file = csv(&text);
            let lines: Vec<u64> = read(file.path(), None)
                .unwrap()
                .rows
                .iter()
                .map(|row| row.line)
                .collect();
            assert_eq!(lines, [2, 5], "{text:?}");
        }
    }

    #[test]
    fn a_template_naming_no_column_is_refused_before_any_row() {
        let file = csv("to,name\n61400000001,Ava\n");
        let err = read(file.path(), Some("Hi {nmae}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("{nmae} names no column"), "{err}");
    }

    #[test]
    fn a_recipient_the_sdk_refuses_is_refused_by_the_check() {
        // Spaces inside a number: Whispir cannot read it, nor the SDK.
        let file = csv("to,text\n+61 400 000 001,Hello\n61400000001;61400000002,Hi\n");
        let err = read(file.path(), None).unwrap_err().to_string();
        assert!(
            err.contains("row 2, column to: \"+61 400 000 001\""),
            "{err}"
        );
        assert!(err.contains("row 3, column to"), "{err}");
        assert!(err.contains("separate recipients with `,`"), "{err}");
    }

    #[test]
    fn a_text_the_sdk_refuses_is_refused_by_the_check() {
        // Longer than the SDK lets a message's text be.
        let file = csv(&format!("to,text\n61400000001,{}\n", "x".repeat(20_000)));
        let err = read(file.path(), None).unwrap_err().to_string();
        assert!(err.contains("row 2:"), "{err}");
    }

    #[test]
    fn a_template_becomes_tags_of_the_uploaded_columns() {
        let file = csv("to,First Name,x-y,unused\n61400000001,Ava,1,z\n");
        let sheet = read(file.path(), Some("Hi {first name}, {X-Y} {first name}")).unwrap();
        assert_eq!(sheet.columns, ["to", "first_name", "column3"]);
        assert_eq!(sheet.rows[0].values, ["61400000001", "Ava", "1"]);
        assert_eq!(
            sheet.tagged_template().unwrap(),
            "Hi @@first_name@@, @@column3@@ @@first_name@@"
        );
        let text = read(file.path(), None);
        assert!(text.is_err(), "no text column");
    }

    #[test]
    fn a_template_whispir_would_read_otherwise_is_refused_for_a_dynamic_message() {
        let file = csv("to,name\n61400000001,Ava\n");
        for template in ["mail @@me@@ {name}", "Hi @{name}"] {
            let sheet = read(file.path(), Some(template)).unwrap();
            assert!(sheet.tagged_template().is_err(), "{template}");
        }
        let sheet = read(file.path(), Some("a@b.c {name}")).unwrap();
        assert_eq!(sheet.tagged_template().unwrap(), "a@b.c @@name@@");
    }

    #[test]
    fn without_a_template_the_text_column_is_the_message() {
        let file = csv("to,text\n61400000001,Hello\n");
        assert_eq!(read(file.path(), None).unwrap().rows[0].text, "Hello");
        let file = csv("to,body\n61400000001,Hello\n");
        assert!(read(file.path(), None).is_err());
    }
}
