//! Finding a status code's row in the code table: [`TableRow::lookup`]
//! and [`TableRow::all`] over the rows `cargo xtask regen` generates.

use crate::code_table::TableRow;
use crate::generated::TABLE;

impl TableRow {
    /// The row for `code`, if the table lists it.
    pub fn lookup(code: u16) -> Option<&'static TableRow> {
        TABLE
            .binary_search_by_key(&code, |row| row.code)
            .ok()
            .and_then(|index| TABLE.get(index))
    }

    /// Every row, sorted by code.
    pub fn all() -> &'static [TableRow] {
        TABLE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code_table::TableSection;

    #[test]
    fn table_is_sorted_so_lookup_can_bisect() {
        assert!(TABLE.windows(2).all(|pair| pair[0].code < pair[1].code));
    }

    #[test]
    fn lookup_finds_listed_codes_only() {
        let row = TableRow::lookup(429).expect("429 is in the table");
        assert_eq!(row.reason, "Too Many Requests");
        assert_eq!(row.section, TableSection::Unsuccessful);
        assert!(TableRow::lookup(418).is_none());
    }

    #[test]
    fn payload_too_large_is_listed() {
        let row = TableRow::lookup(413).expect("413 is in the table");
        assert!(!row.remedies.is_empty());
    }

    #[test]
    fn sections_follow_the_code_ranges() {
        for row in TableRow::all() {
            let expected = if row.code < 400 {
                TableSection::Successful
            } else {
                TableSection::Unsuccessful
            };
            assert_eq!(row.section, expected, "{}", row.code);
        }
    }
}
