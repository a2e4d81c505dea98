//! Parser for the code table: the Markdown page of HTTP response codes.
//!
//! The page has a "Successful response codes" and an "Unsuccessful response
//! codes" section, each with a two-column table whose rows look like
//! `| **404 Not Found** | meaning <br /><br /> remedy <br /><br /> remedy |`.
//! It is parsed with a real Markdown parser so that padding, emphasis, links,
//! inline HTML and front matter are handled the way a renderer would.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

/// Which section of the page a code was listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeClass {
    /// Listed under "Successful response codes" (1xx to 3xx).
    Success,
    /// Listed under "Unsuccessful response codes" (4xx and 5xx).
    Unsuccessful,
}

/// One row of the code table, as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseCode {
    /// The HTTP status code.
    pub code: u16,
    /// The reason phrase as the table spells it.
    pub reason: String,
    /// The section the row is in.
    pub class: CodeClass,
    /// First paragraph of the meaning column.
    pub summary: String,
    /// The remaining paragraphs: what a client should do.
    pub remedies: Vec<String>,
}

impl ResponseCode {
    /// Whether the table tells clients to look at the `Location` header.
    pub fn mentions_location_header(&self) -> bool {
        std::iter::once(&self.summary)
            .chain(&self.remedies)
            .any(|text| {
                text.to_ascii_lowercase()
                    .replace(['\'', '"'], "")
                    .contains("location header")
            })
    }

    /// Reason phrase in PascalCase, e.g. `TooManyRequests`.
    pub fn pascal_reason(&self) -> String {
        self.reason
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
            })
            .collect()
    }
}

/// A problem in the code table, with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProblem {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong, in words.
    pub problem: String,
}

/// Everything wrong with one code table file.
#[derive(Debug, thiserror::Error)]
pub struct TableError {
    file: String,
    problems: Vec<TableProblem>,
}

impl TableError {
    /// The problems found, in file order.
    pub fn problems(&self) -> &[TableProblem] {
        &self.problems
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: {}", self.file, p.line, p.problem)?;
        }
        Ok(())
    }
}

/// Reads and parses a code table file.
pub fn read_table(path: &Path) -> Result<Vec<ResponseCode>, crate::XtaskError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::XtaskError::Read {
        path: crate::shown_path(path),
        source,
    })?;
    Ok(parse_table(&crate::shown_path(path), &text)?)
}

/// Parses the text of a code table; `file` names it in errors.
///
/// Rows come back sorted by code, whatever their order in the file.
pub fn parse_table(file: &str, text: &str) -> Result<Vec<ResponseCode>, TableError> {
    let mut reader = TableReader::new(text);
    reader.read();
    reader.finish(file)
}

/// Where a heading puts the tables after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Codes(CodeClass),
}

/// A table cell as plain-text paragraphs, with the line it starts on.
#[derive(Debug, Default)]
struct Cell {
    line: usize,
    paragraphs: Vec<String>,
    current: String,
}

impl Cell {
    fn push_text(&mut self, text: &str) {
        self.current.push_str(text);
    }

    fn break_paragraph(&mut self) {
        let paragraph = clean_text(&self.current);
        if !paragraph.is_empty() {
            self.paragraphs.push(paragraph);
        }
        self.current.clear();
    }

    fn finish(mut self) -> Vec<String> {
        self.break_paragraph();
        self.paragraphs
    }
}

struct TableReader<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    section: Section,
    heading: Option<String>,
    in_table: bool,
    table_section: Section,
    in_head: bool,
    row: Vec<(usize, Vec<String>)>,
    cell: Option<Cell>,
    tables_seen: usize,
    rows: Vec<(usize, ResponseCode)>,
    problems: Vec<TableProblem>,
}

impl<'a> TableReader<'a> {
    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            text,
            line_starts,
            section: Section::None,
            heading: None,
            in_table: false,
            table_section: Section::None,
            in_head: false,
            row: Vec::new(),
            cell: None,
            tables_seen: 0,
            rows: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn problem(&mut self, line: usize, problem: impl Into<String>) {
        self.problems.push(TableProblem {
            line,
            problem: problem.into(),
        });
    }

    fn read(&mut self) {
        let options = Options::ENABLE_TABLES | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
        let events: Vec<(Event<'a>, Range<usize>)> = Parser::new_ext(self.text, options)
            .into_offset_iter()
            .collect();
        for (event, range) in events {
            self.on_event(event, range);
        }
    }

    fn on_event(&mut self, event: Event<'a>, range: Range<usize>) {
        match event {
            Event::Start(Tag::Heading { .. }) => self.heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                let heading = self.heading.take().unwrap_or_default().to_ascii_lowercase();
                self.section = if heading.contains("unsuccessful") {
                    Section::Codes(CodeClass::Unsuccessful)
                } else if heading.contains("successful") {
                    Section::Codes(CodeClass::Success)
                } else {
                    Section::None
                };
            }
            Event::Start(Tag::Table(alignments)) => {
                let line = self.line_of(range.start);
                self.in_table = true;
                self.tables_seen += 1;
                self.table_section = self.section;
                if self.section == Section::None {
                    self.problem(
                        line,
                        "table is not under a \"Successful response codes\" or \
                         \"Unsuccessful response codes\" heading",
                    );
                }
                if alignments.len() < 2 {
                    self.problem(
                        line,
                        format!(
                            "missing column: the table has {} column(s), expected \
                             \"Response Code\" and \"Meaning\"",
                            alignments.len()
                        ),
                    );
                }
            }
            Event::End(TagEnd::Table) => self.in_table = false,
            Event::Start(Tag::TableHead) => self.in_head = true,
            Event::End(TagEnd::TableHead) => {
                self.in_head = false;
                self.row.clear();
            }
            Event::Start(Tag::TableRow) => self.row.clear(),
            Event::End(TagEnd::TableRow) => {
                let row = std::mem::take(&mut self.row);
                self.on_row(row);
            }
            Event::Start(Tag::TableCell) => {
                self.cell = Some(Cell {
                    line: self.line_of(range.start),
                    ..Cell::default()
                });
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(cell) = self.cell.take() {
                    let line = cell.line;
                    self.row.push((line, cell.finish()));
                }
            }
            Event::Text(text) | Event::Code(text) => self.push_text(&text),
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.break_paragraph(),
            Event::InlineHtml(html) | Event::Html(html) if is_line_break_tag(&html) => {
                self.break_paragraph();
            }
            _ => {}
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(heading) = &mut self.heading {
            heading.push_str(text);
        } else if let Some(cell) = &mut self.cell {
            cell.push_text(text);
        }
    }

    fn break_paragraph(&mut self) {
        if let Some(cell) = &mut self.cell {
            cell.break_paragraph();
        }
    }

    fn on_row(&mut self, row: Vec<(usize, Vec<String>)>) {
        if self.in_head || !self.in_table {
            return;
        }
        let Section::Codes(class) = self.table_section else {
            return;
        };
        let mut cells = row.into_iter();
        let Some((line, code_cell)) = cells.next() else {
            return;
        };
        let code_text = code_cell.join(" ");
        let Some((code, reason)) = self.parse_code_cell(line, &code_text) else {
            return;
        };
        let section_fits = match class {
            CodeClass::Success => (100..400).contains(&code),
            CodeClass::Unsuccessful => (400..600).contains(&code),
        };
        if !section_fits {
            let (listed, belongs) = match class {
                CodeClass::Success => ("Successful", "Unsuccessful"),
                CodeClass::Unsuccessful => ("Unsuccessful", "Successful"),
            };
            self.problem(
                line,
                format!(
                    "code {code} is listed under \"{listed} response codes\" but belongs \
                     under \"{belongs} response codes\""
                ),
            );
            return;
        }
        let meaning = cells
            .next()
            .map(|(_, paragraphs)| paragraphs)
            .unwrap_or_default();
        let mut paragraphs = meaning.into_iter();
        let Some(summary) = paragraphs.next() else {
            self.problem(line, format!("code {code} has an empty meaning"));
            return;
        };
        self.rows.push((
            line,
            ResponseCode {
                code,
                reason,
                class,
                summary,
                remedies: paragraphs.collect(),
            },
        ));
    }

    fn parse_code_cell(&mut self, line: usize, text: &str) -> Option<(u16, String)> {
        let (number, reason) = text.split_once(' ').unwrap_or((text, ""));
        let reason = reason.trim().to_string();
        let code = match number.parse::<u16>() {
            Ok(code) if number.chars().all(|c| c.is_ascii_digit()) => code,
            _ => {
                let shown = if text.is_empty() { "(empty)" } else { text };
                self.problem(
                    line,
                    format!(
                        "unparsable code {shown:?}: expected a status code and its \
                         reason, like \"404 Not Found\""
                    ),
                );
                return None;
            }
        };
        if !(100..=599).contains(&code) {
            self.problem(line, format!("code {code} is outside 100-599"));
            return None;
        }
        if reason.is_empty() {
            self.problem(line, format!("code {code} has no reason phrase"));
            return None;
        }
        Some((code, reason))
    }

    fn finish(mut self, file: &str) -> Result<Vec<ResponseCode>, TableError> {
        if self.tables_seen == 0 {
            self.problem(
                1,
                "no table found: expected tables under \"Successful response codes\" \
                 and \"Unsuccessful response codes\"",
            );
        }
        let mut by_code: BTreeMap<u16, (usize, ResponseCode)> = BTreeMap::new();
        for (line, row) in std::mem::take(&mut self.rows) {
            if let Some((first_line, _)) = by_code.get(&row.code) {
                let problem = format!(
                    "duplicate code {}: already listed on line {first_line}",
                    row.code
                );
                self.problem(line, problem);
            } else {
                by_code.insert(row.code, (line, row));
            }
        }
        if by_code.is_empty() && self.problems.is_empty() {
            self.problem(1, "the code tables have no rows");
        }
        if self.problems.is_empty() {
            Ok(by_code.into_values().map(|(_, row)| row).collect())
        } else {
            self.problems.sort_by_key(|p| p.line);
            Err(TableError {
                file: file.to_string(),
                problems: self.problems,
            })
        }
    }
}

/// `<br>`, `<br/>`, `<br />`, in any case, end a paragraph inside a cell.
fn is_line_break_tag(html: &str) -> bool {
    let compact: String = html
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(compact.as_str(), "<br>" | "<br/>" | "</br>")
}

/// Collapses white space and turns typographic quotes into ASCII ones.
fn clean_text(text: &str) -> String {
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{00A0}' => ' ',
            other => other,
        })
        .collect();
    ascii.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
