use serde_json::json;

use super::*;

#[test]
fn the_root_element_becomes_the_object_and_prefixes_are_dropped() {
    let tree = to_json(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <ns2:deliveryResponse xmlns:ns2="http://schemas.api.whispir.com">
          <messageid>ABC</messageid>
          <from><name>Fred</name><email></email><voice/></from>
        </ns2:deliveryResponse>"#,
    )
    .expect("parses");
    assert_eq!(
        tree,
        json!({"messageid": "ABC", "from": {"name": "Fred", "email": null, "voice": null}})
    );
}

#[test]
fn repeated_elements_become_a_list() {
    let tree = to_json(
        "<r><customParameters><entry><key>a</key><value>1</value></entry>\
         <entry><key>b</key><value>2</value></entry><entry><key>c</key><value>3</value></entry>\
         </customParameters></r>",
    )
    .expect("parses");
    assert_eq!(
        tree,
        json!({"customParameters": {"entry": [
            {"key": "a", "value": "1"}, {"key": "b", "value": "2"}, {"key": "c", "value": "3"}]}})
    );
}

#[test]
fn predefined_entities_character_references_and_cdata_are_read() {
    let tree = to_json("<r><content>a &amp; b &#233; &#x41; <![CDATA[<raw>]]></content></r>")
        .expect("parses");
    assert_eq!(tree, json!({"content": "a & b é A <raw>"}));
}

#[test]
fn other_entities_are_refused_and_no_dtd_is_read() {
    let error = to_json(
        r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r><content>&xxe;</content></r>"#,
    )
    .expect_err("refused");
    assert!(error.contains("unknown entity"), "{error}");
}

#[test]
fn nesting_beyond_the_limit_is_refused() {
    let deep = format!(
        "{}{}",
        "<a>".repeat(MAX_DEPTH + 1),
        "</a>".repeat(MAX_DEPTH + 1)
    );
    assert!(to_json(&deep).expect_err("refused").contains("nest deeper"));
    let fine = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    assert!(to_json(&fine).is_ok());
}

#[test]
fn broken_documents_are_refused() {
    for body in [
        "",
        "   ",
        "<r>",
        "<r></s>",
        "</r>",
        "<r/><s/>",
        "<r></r><s></s>",
        "text<r/>",
        "<r>&bogus;</r>",
    ] {
        assert!(to_json(body).is_err(), "{body:?} should be refused");
    }
}

#[test]
fn an_empty_root_is_an_empty_object() {
    assert_eq!(to_json("<r/>").expect("parses"), json!({}));
    assert_eq!(to_json("<r> </r>").expect("parses"), json!({}));
}
