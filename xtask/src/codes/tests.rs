use super::*;

const GOOD: &str = "---
tags: [Testing]
---

# Codes

Intro text with a [link](https://example.com).

## Successful response codes

| Response Code      | Meaning                                                         |
| ------------------ | --------------------------------------------------------------- |
| **200 OK**         | It worked. <br /><br /> Nothing to do.                          |
| **201 Created**    | Made it.<br/>See the \u{2018}Location\u{2019} header.           |

## Unsuccessful response codes

| Response Code           | Meaning                                                                  |
| ----------------------- | ------------------------------------------------------------------------ |
| **429 Too many requests** | Slow down. <br /><br /> Read [the limits](limits.md) first.            |
| **422 Unprocessable Entity** | Cannot do it.<BR>Fix the \u{201C}fields\u{201D}.<br /><br />Retry. |
";

fn problems(text: &str) -> Vec<(usize, String)> {
    match parse_table("t.md", text) {
        Ok(rows) => panic!("expected an error, got {rows:?}"),
        Err(err) => err
            .problems()
            .iter()
            .map(|p| (p.line, p.problem.clone()))
            .collect(),
    }
}

fn table_with_unsuccessful_rows(rows: &str) -> String {
    format!("## Unsuccessful response codes\n\n| Response Code | Meaning |\n| --- | --- |\n{rows}")
}

#[test]
fn parses_rows_with_padding_bold_breaks_links_and_quotes() {
    let rows = parse_table("t.md", GOOD).expect("valid table");
    let codes: Vec<u16> = rows.iter().map(|r| r.code).collect();
    assert_eq!(codes, vec![200, 201, 422, 429], "sorted by code");
    let created = &rows[1];
    assert_eq!(created.reason, "Created");
    assert_eq!(created.class, CodeClass::Success);
    assert_eq!(created.summary, "Made it.");
    assert_eq!(created.remedies, vec!["See the 'Location' header."]);
    assert!(created.mentions_location_header());
    let too_many = &rows[3];
    assert_eq!(too_many.reason, "Too many requests");
    assert_eq!(too_many.class, CodeClass::Unsuccessful);
    assert_eq!(too_many.remedies, vec!["Read the limits first."]);
    let unprocessable = &rows[2];
    assert_eq!(
        unprocessable.remedies,
        vec!["Fix the \"fields\".", "Retry."]
    );
}

#[test]
fn codes_serialize_as_the_documented_json() {
    let rows = parse_table("t.md", GOOD).expect("valid table");
    let json = serde_json::to_value(&rows[0]).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "code": 200, "reason": "OK", "class": "success",
            "summary": "It worked.", "remedies": ["Nothing to do."]
        })
    );
}

#[test]
fn pascal_reason_names_shared_responses() {
    let rows = parse_table("t.md", GOOD).expect("valid table");
    assert_eq!(rows[3].pascal_reason(), "TooManyRequests");
    assert_eq!(rows[0].pascal_reason(), "Ok");
}

#[test]
fn reads_the_seed_page_as_it_is() {
    let seed = crate::project_root().join("../shared/seeds/HTTP-response-codes.md");
    let rows = read_table(&seed).expect("the seed page parses");
    assert_eq!(rows.len(), 17);
    for row in &rows {
        for text in std::iter::once(&row.summary).chain(&row.remedies) {
            assert!(!text.is_empty());
            for bad in ["<br", "**", "](", "\u{2019}", "  "] {
                assert!(!text.contains(bad), "{}: {bad:?} in {text:?}", row.code);
            }
        }
    }
    let forbidden = rows.iter().find(|r| r.code == 403).expect("403");
    assert_eq!(forbidden.remedies.len(), 4);
    let unsupported = rows.iter().find(|r| r.code == 415).expect("415");
    assert!(
        unsupported
            .remedies
            .last()
            .is_some_and(|r| r.ends_with("JSON and XML Headers for more details"))
    );
}

#[test]
fn reads_the_project_table_with_413() {
    let rows = read_table(&crate::project_root().join(crate::TABLE_PATH)).expect("parses");
    let unsuccessful: Vec<u16> = rows
        .iter()
        .filter(|r| r.class == CodeClass::Unsuccessful)
        .map(|r| r.code)
        .collect();
    assert_eq!(
        unsuccessful,
        vec![400, 401, 403, 404, 405, 413, 415, 422, 429, 500, 501]
    );
}

#[test]
fn a_page_without_a_table_is_an_error() {
    assert_eq!(
        problems("# Codes\n\nNo table here.\n"),
        vec![(1, "no table found: expected tables under \"Successful response codes\" and \"Unsuccessful response codes\"".to_string())]
    );
}

#[test]
fn a_table_with_one_column_is_an_error() {
    let text =
        "## Unsuccessful response codes\n\n| Response Code |\n| --- |\n| **400 Bad Request** |\n";
    let found = problems(text);
    assert_eq!(found[0].0, 3);
    assert!(found[0].1.starts_with("missing column"), "{found:?}");
}

#[test]
fn an_unparsable_code_is_an_error() {
    let found = problems(&table_with_unsuccessful_rows(
        "| **Four hundred** | Bad. |\n",
    ));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, 5);
    assert!(
        found[0].1.starts_with("unparsable code \"Four hundred\""),
        "{found:?}"
    );
}

#[test]
fn a_code_outside_the_http_range_is_an_error() {
    let found = problems(&table_with_unsuccessful_rows("| **600 Odd** | Odd. |\n"));
    assert_eq!(found, vec![(5, "code 600 is outside 100-599".to_string())]);
}

#[test]
fn a_duplicate_code_names_both_lines() {
    let found = problems(&table_with_unsuccessful_rows(
        "| **400 Bad Request** | Bad. |\n| **401 Unauthorized** | Who? |\n| **400 Bad Request** | Again. |\n",
    ));
    assert_eq!(
        found,
        vec![(
            7,
            "duplicate code 400: already listed on line 5".to_string()
        )]
    );
}

#[test]
fn a_code_in_the_wrong_section_is_an_error() {
    let text = "## Successful response codes\n\n| Response Code | Meaning |\n| --- | --- |\n| **404 Not Found** | Gone. |\n";
    let found = problems(text);
    assert_eq!(
        found,
        vec![(5, "code 404 is listed under \"Successful response codes\" but belongs under \"Unsuccessful response codes\"".to_string())]
    );
}

#[test]
fn an_empty_meaning_is_an_error() {
    let found = problems(&table_with_unsuccessful_rows(
        "| **400 Bad Request** |   |\n",
    ));
    assert_eq!(
        found,
        vec![(5, "code 400 has an empty meaning".to_string())]
    );
}

#[test]
fn a_missing_reason_phrase_is_an_error() {
    let found = problems(&table_with_unsuccessful_rows("| **400** | Bad. |\n"));
    assert_eq!(
        found,
        vec![(5, "code 400 has no reason phrase".to_string())]
    );
}

#[test]
fn a_table_outside_the_code_sections_is_an_error() {
    let text =
        "## Other\n\n| Response Code | Meaning |\n| --- | --- |\n| **400 Bad Request** | Bad. |\n";
    let found = problems(text);
    assert_eq!(found[0].0, 3);
    assert!(found[0].1.contains("not under"), "{found:?}");
}

#[test]
fn errors_name_the_file_and_line() {
    let err = parse_table(
        "openapi/x.md",
        &table_with_unsuccessful_rows("| **600 Odd** | Odd. |\n"),
    )
    .expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "openapi/x.md:5: code 600 is outside 100-599"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let found = problems(&table_with_unsuccessful_rows(
        "| **600 Odd** | Odd. |\n| **x** | Bad. |\n",
    ));
    assert_eq!(found.len(), 2);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "|",
        "| a | b |\n|-|-|\n| | |",
        "## Successful response codes\n|**|\n|-|\n",
        "\u{0}\u{FFFF}",
    ] {
        let _ = parse_table("t.md", text);
    }
}
