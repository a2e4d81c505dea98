#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

fn rows(count: usize) -> String {
    let mut csv = String::from("First Name,mobile,amount\n");
    for row in 1..=count {
        csv.push_str(&format!("Person {row},614{row:08},${row}.00\n"));
    }
    csv
}

fn sms(count: usize) -> Campaign {
    Campaign::from_csv(&rows(count)).unwrap().sms(
        "mobile",
        "Hi @@first_name@@, you owe @@amount@@ on @@date@@.",
    )
}

#[test]
fn tags_are_found_between_double_ats() {
    let found: Vec<&str> = tags("Hi @@name@@, @@ due @@x@@ @@@@ @@date@@").collect();
    assert_eq!(found, vec!["name", "x", "date"]);
    assert_eq!(tags("no tags @@ here").count(), 0);
}

#[test]
fn fill_puts_each_known_value_in_and_keeps_the_rest() {
    let filled = fill("Hi @@name@@, today is @@day@@, bye @@name@@", |tag| {
        (tag == "name").then_some("Ann")
    });
    assert_eq!(filled, "Hi Ann, today is @@day@@, bye Ann");
}

#[test]
fn columns_are_tagged_in_lower_case_with_underscores() {
    assert_eq!(tag_name(" First Name "), "first_name");
    assert_eq!(tag_name("Amount"), "amount");
}

#[test]
fn a_tag_naming_no_column_is_refused_naming_the_tag() {
    let err = Campaign::from_csv(&rows(3))
        .unwrap()
        .sms("mobile", "Hi @@frist_name@@")
        .plan()
        .unwrap_err();
    assert!(matches!(&err, CampaignError::UnknownTag { tag, .. } if tag == "frist_name"));
    assert!(
        err.to_string().contains("@@frist_name@@ names no column"),
        "{err}"
    );
    assert!(
        err.to_string().contains("First Name, mobile, amount"),
        "{err}"
    );
}

#[test]
fn system_tags_and_columns_are_accepted() {
    let plan = sms(3).plan().unwrap();
    assert_eq!(plan.chunks().len(), 1);
    assert_eq!(plan.chunks()[0].rows(), 1..=3);
}

#[test]
fn a_bad_address_is_refused_naming_its_row() {
    let mut csv = rows(10);
    csv = csv.replace("61400000007", "0400 000 007");
    let err = Campaign::from_csv(&csv)
        .unwrap()
        .sms("mobile", "Hi")
        .plan()
        .unwrap_err();
    assert!(
        matches!(err, CampaignError::BadAddress { row: 7, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "row 7: mobile \"0400 000 007\" is not a mobile number (3 to 15 digits, an optional leading +)"
    );
}

#[test]
fn an_email_campaign_needs_email_addresses() {
    let csv = "name,email\nAnn,ann@example.com\nBob,61400000002\n";
    let err = Campaign::from_csv(csv)
        .unwrap()
        .email("email", "Hello @@name@@", "Body")
        .plan()
        .unwrap_err();
    assert!(
        matches!(err, CampaignError::BadAddress { row: 2, .. }),
        "{err}"
    );
}

#[test]
fn a_missing_address_column_is_refused_naming_it() {
    let err = Campaign::from_csv(&rows(2))
        .unwrap()
        .sms("phone", "Hi")
        .plan()
        .unwrap_err();
    assert!(
        err.to_string().contains("\"phone\" is not in the rows"),
        "{err}"
    );
}

#[test]
fn a_text_too_long_once_filled_is_refused_naming_the_row() {
    let long = "x".repeat(1600);
    let csv = format!("note,mobile\nshort,61400000001\n{long},61400000002\n");
    let err = Campaign::from_csv(&csv)
        .unwrap()
        .sms("mobile", "@@note@@")
        .plan()
        .unwrap_err();
    assert!(
        matches!(err, CampaignError::TextTooLong { row: 2, .. }),
        "{err}"
    );
}

#[test]
fn more_than_ten_thousand_rows_are_split_into_chunks() {
    let plan = sms(25_001).plan().unwrap();
    let ranges: Vec<_> = plan.chunks().iter().map(Chunk::rows).collect();
    assert_eq!(ranges, vec![1..=10_000, 10_001..=20_000, 20_001..=25_001]);
    for chunk in plan.chunks() {
        assert!(chunk.csv().starts_with("First Name,mobile,amount\n"));
        assert_eq!(chunk.csv().lines().count(), chunk.rows().count() + 1);
    }
    assert!(plan.chunks()[2].label().ends_with("-3of3"));
}

#[test]
fn a_chunk_ends_before_its_csv_outgrows_one_upload() {
    // About 3 MB a row: at most two rows fit in one upload's 7.8 MB.
    let big = "y".repeat(3_000_000);
    let mut csv = String::from("blob,mobile\n");
    for row in 1..=5 {
        csv.push_str(&format!("{big},614000000{row:02}\n"));
    }
    let plan = Campaign::from_csv(&csv)
        .unwrap()
        .sms("mobile", "Hi")
        .plan()
        .unwrap();
    let ranges: Vec<_> = plan.chunks().iter().map(Chunk::rows).collect();
    assert_eq!(ranges, vec![1..=2, 3..=4, 5..=5]);
    assert!(
        plan.chunks()
            .iter()
            .all(|c| c.csv().len() <= MOST_CSV_BYTES)
    );
}

#[test]
fn a_row_too_large_for_any_upload_is_refused_naming_it() {
    let huge = "z".repeat(MOST_CSV_BYTES);
    let csv = format!("blob,mobile\nsmall,61400000001\n{huge},61400000002\n");
    let err = Campaign::from_csv(&csv)
        .unwrap()
        .sms("mobile", "Hi")
        .plan()
        .unwrap_err();
    assert!(
        matches!(err, CampaignError::RowTooLarge { row: 2, .. }),
        "{err}"
    );
}

#[test]
fn names_and_labels_are_the_same_on_every_run_and_differ_between_campaigns() {
    let first = sms(3).name("Spring sale!").plan().unwrap();
    let again = sms(3).name("Spring sale!").plan().unwrap();
    let chunk = &first.chunks()[0];
    assert_eq!(chunk.upload_name(), again.chunks()[0].upload_name());
    assert_eq!(chunk.label(), again.chunks()[0].label());
    assert!(
        chunk.upload_name().starts_with("Spring-sale-"),
        "{}",
        chunk.upload_name()
    );
    assert!(chunk.upload_name().ends_with("-1of1.csv"));
    assert!(chunk.label().chars().count() <= MOST_LABEL_CHARACTERS);
    let other = Campaign::from_csv(&rows(3))
        .unwrap()
        .name("Spring sale!")
        .sms("mobile", "Another text")
        .plan()
        .unwrap();
    assert_ne!(chunk.upload_name(), other.chunks()[0].upload_name());
    assert_ne!(chunk.label(), other.chunks()[0].label());
    let long = sms(3).name("x".repeat(100)).plan().unwrap();
    assert!(long.chunks()[0].label().chars().count() <= MOST_LABEL_CHARACTERS);
}

#[test]
fn records_become_rows_with_their_fields_as_columns() {
    #[derive(Serialize)]
    struct Debtor {
        name: &'static str,
        mobile: &'static str,
        owed: f64,
        note: Option<&'static str>,
    }
    let campaign = Campaign::from_records([
        Debtor {
            name: "Ann",
            mobile: "61400000001",
            owed: 10.5,
            note: None,
        },
        Debtor {
            name: "Bob, Jr",
            mobile: "61400000002",
            owed: 3.0,
            note: Some("late"),
        },
    ])
    .unwrap()
    .sms("mobile", "Hi @@name@@: @@owed@@ @@note@@");
    let plan = campaign.plan().unwrap();
    let csv = plan.chunks()[0].csv();
    assert_eq!(
        csv,
        "mobile,name,note,owed\n61400000001,Ann,,10.5\n61400000002,\"Bob, Jr\",late,3.0\n"
    );
}

#[test]
fn a_record_that_is_no_row_is_refused_naming_it() {
    let err =
        Campaign::from_records([serde_json::json!({"a": 1}), serde_json::json!([1])]).unwrap_err();
    assert!(matches!(err, CampaignError::Record { row: 2, .. }), "{err}");
    let err = Campaign::from_records([
        serde_json::json!({"a": 1, "mobile": "61400000001"}),
        serde_json::json!({"b": 1, "mobile": "61400000001"}),
    ])
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("row 2: its fields (b, mobile) differ"),
        "{err}"
    );
}

#[test]
fn a_ragged_csv_row_is_refused_naming_it() {
    let err = Campaign::from_csv("a,mobile\n1,61400000001\n2\n").unwrap_err();
    assert!(matches!(err, CampaignError::Csv { row: 2, .. }), "{err}");
    assert!(matches!(
        Campaign::from_csv("a,mobile\n"),
        Err(CampaignError::NoRows)
    ));
}

#[test]
fn a_campaign_has_exactly_one_channel() {
    let none = Campaign::from_csv(&rows(1)).unwrap().plan().unwrap_err();
    assert!(none.to_string().contains("has no channel"), "{none}");
    let both = sms(1).email("mobile", "s", "b").plan().unwrap_err();
    assert!(both.to_string().contains("one channel"), "{both}");
    let zero = sms(1).rows_per_chunk(0).plan().unwrap_err();
    assert!(matches!(zero, CampaignError::RowsPerChunk(0)));
}

#[test]
fn the_chunk_message_names_its_resource_column_and_label() {
    let plan = Campaign::from_csv(&rows(2))
        .unwrap()
        .name("dues")
        .callback_id("cb1")
        .sms("mobile", "Dues\nHi @@first_name@@")
        .plan()
        .unwrap();
    let chunk = &plan.chunks()[0];
    let resource = chunk.uploaded("ABC123".into(), false);
    let message = serde_json::to_value(chunk.message(&resource).unwrap()).unwrap();
    // Whispir's bulk examples send no `to`: the rows are the recipients.
    assert!(message.get("to").is_none(), "{message}");
    assert_eq!(message["subject"], "Dues");
    assert_eq!(message["body"], "Hi @@first_name@@");
    assert_eq!(message["label"], chunk.label());
    assert_eq!(message["callbackId"], "cb1");
    assert_eq!(
        message["resource"],
        serde_json::json!({"resourceId": "ABC123", "smsMappingField": "mobile"})
    );
}

#[test]
fn a_spreadsheets_byte_order_mark_is_not_part_of_the_first_column() {
    let campaign = Campaign::from_csv("\u{feff}mobile,name\n61400000001,Ann\n")
        .unwrap()
        .sms("mobile", "Hi @@name@@");
    assert!(
        campaign.plan().unwrap().chunks()[0]
            .csv()
            .starts_with("mobile,name\n")
    );
}
