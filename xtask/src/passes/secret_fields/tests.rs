#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use super::*;

const TABLE: &str = "\
# Fields that carry secrets

| field | secret | why |
|---|---|---|
| `Callback.auth.key` | yes | sent with every callback |
| `verifyCodeCreate.code` | yes | a one-time code |
| `DistributionList.userIds` | no | ids only |
";

fn spec() -> Value {
    serde_json::json!({
        "paths": { "/otp/{otpId}/verify-code": { "post": {
            "operationId": "verifyCodeCreate",
            "requestBody": { "content": { "application/json": { "schema": {
                "type": "object",
                "properties": { "code": { "type": "string" }, "to": { "type": "string" } }
            } } } }
        } } },
        "components": { "schemas": {
            "User": { "type": "object", "properties": {
                "userName": { "type": "string", "writeOnly": true },
                "pin": { "type": "string", "format": "password" },
                "firstName": { "type": "string" }
            } },
            "Callback": { "type": "object", "properties": {
                "auth": { "type": "object", "properties": {
                    "key": { "type": "string" }, "type": { "type": "string" }
                } },
                "owner": { "$ref": "#/components/schemas/User" }
            } },
            "DistributionList": { "type": "object", "properties": {
                "userIds": { "type": "string", "writeOnly": true }
            } }
        } }
    })
}

#[test]
fn secrets_come_from_password_format_write_only_and_the_table_and_a_no_row_shows_one() {
    let rows = parse_table(TABLE).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!((rows[0].line, rows[0].secret), (5, true));
    let secrets = secret_fields(&spec(), &rows).unwrap();
    let found: Vec<(&str, &Reason)> = secrets
        .iter()
        .map(|s| (s.field.as_str(), &s.reason))
        .collect();
    assert_eq!(
        found,
        [
            (
                "Callback.auth.key",
                &Reason::Listed("sent with every callback".into())
            ),
            ("User.pin", &Reason::Password),
            ("User.userName", &Reason::WriteOnly),
            (
                "verifyCodeCreate.code",
                &Reason::Listed("a one-time code".into())
            ),
        ]
    );
}

#[test]
fn a_row_naming_nothing_given_twice_or_showing_an_unmarked_field_is_refused_by_line() {
    let table = "\
| field | secret | why |
|---|---|---|
| `User.password` | yes | typo of a field the spec has not |
| `User.pin` | yes | once |
| `User.pin` | yes | twice |
| `User.firstName` | no | not marked anyway |
";
    let err = secret_fields(&spec(), &parse_table(table).unwrap()).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "openapi/secret-fields.md: line 3: `User.password` names no property of the spec; \
         line 5: `User.pin` is listed twice (first on line 4); \
         line 6: `User.firstName` is listed as no secret, but the spec does not mark it \
         `writeOnly` or `format: password`: remove the row"
    );
}

#[test]
fn a_malformed_row_is_refused_by_line() {
    let table = "\
| field | secret | why |
|---|---|---|
| User.pin | yes | no backticks |
| `User.pin` | maybe | unsure |
| `User.pin` | yes | |
| `User.pin` | yes |
";
    let err = parse_table(table).expect_err("refused");
    let lines: Vec<usize> = err.problems.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [3, 4, 5, 6], "{err}");
    assert!(
        err.to_string()
            .contains("line 4: the secret column says `yes` or `no`, found `maybe`"),
        "{err}"
    );
    let err = parse_table("no table here\n").expect_err("refused");
    assert_eq!(err.to_string(), "openapi/secret-fields.md: no table");
}

fn file() -> syn::File {
    syn::parse_str(
        r#"pub mod types {
            #[derive(::serde::Serialize, Clone, Debug)]
            pub struct Callback {
                pub auth: CallbackAuth,
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub owner: ::std::option::Option<User>,
            }
            #[derive(::serde::Serialize, Clone, Debug)]
            pub struct CallbackAuth {
                pub key: ::std::string::String,
                #[serde(rename = "type")]
                pub type_: ::std::string::String,
            }
            #[derive(::serde::Serialize, Clone, Debug, Default)]
            pub struct User {
                #[serde(rename = "firstName", skip_serializing_if = "::std::option::Option::is_none")]
                pub first_name: ::std::option::Option<::std::string::String>,
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub pin: ::std::option::Option<::std::string::String>,
                ///Login name.
                #[serde(rename = "userName", skip_serializing_if = "::std::option::Option::is_none")]
                pub user_name: ::std::option::Option<::std::string::String>,
            }
            pub mod builder {
                #[derive(Clone, Debug)]
                pub struct CallbackAuth {
                    key: ::std::result::Result<::std::string::String, ::std::string::String>,
                    type_: ::std::result::Result<::std::string::String, ::std::string::String>,
                }
                #[derive(Clone, Debug)]
                pub struct User {
                    first_name: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                    pin: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                    user_name: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                }
            }
        }"#,
    )
    .unwrap()
}

fn secret(field: &str) -> SecretField {
    SecretField {
        field: field.into(),
        reason: Reason::WriteOnly,
    }
}

#[test]
fn a_secret_is_found_through_renames_and_the_types_of_inline_objects() {
    let models = models(
        &file(),
        &[
            secret("Callback.auth.key"),
            secret("User.userName"),
            secret("User.pin"),
        ],
    )
    .unwrap();
    let names: Vec<(&str, Vec<&str>)> = models
        .iter()
        .map(|(model, fields)| (model.as_str(), fields.keys().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        names,
        [
            ("CallbackAuth", vec!["key"]),
            ("User", vec!["pin", "user_name"])
        ]
    );
    assert_eq!(
        expected(&models),
        [("CallbackAuth", 2), ("User", 2)].into_iter().collect()
    );
}

#[test]
fn a_secret_the_generated_code_does_not_have_is_refused_by_name() {
    let err = models(&file(), &[secret("Callback.auth.token")]).expect_err("no field");
    assert_eq!(
        err.to_string(),
        "Callback.auth.token: unexpected shape of progenitor's output: `CallbackAuth` has no field `token`"
    );
    let err = models(&file(), &[secret("sendCodeCreate.to")]).expect_err("no model");
    assert!(
        err.to_string()
            .contains("no generated model `SendCodeCreateBody`"),
        "{err}"
    );
    let err = models(&file(), &[secret("User.firstName.x")]).expect_err("not a model");
    assert!(
        err.to_string()
            .contains("`User.first_name` names no generated model"),
        "{err}"
    );
}

#[test]
fn models_and_builders_show_a_secret_as_set_and_keep_every_other_field() {
    let mut file = file();
    let models = models(
        &file,
        &[secret("User.userName"), secret("Callback.auth.key")],
    )
    .unwrap();
    let count = rewrite(&mut file, &models).unwrap();
    assert_eq!(count, expected(&models));
    let out = prettyplease::unparse(&file);
    let squeezed = out.split_whitespace().collect::<String>();
    assert!(
        squeezed.contains("#[derive(::serde::Serialize,Clone,Default)]pubstructUser{"),
        "{out}"
    );
    assert!(
        squeezed.contains(
            "impl::std::fmt::DebugforUser{fnfmt(&self,f:&mut::std::fmt::Formatter<'_>)->::std::fmt::Result{\
             f.debug_struct(\"User\").field(\"first_name\",&self.first_name)\
             .field(\"pin\",&self.pin)\
             .field(\"user_name\",&crate::runtime::redacted::Redacted(&self.user_name)).finish()}}"
        ),
        "{out}"
    );
    // Both the model and the builder, each once.
    assert_eq!(
        out.matches("impl ::std::fmt::Debug for User").count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("impl ::std::fmt::Debug for CallbackAuth")
            .count(),
        2,
        "{out}"
    );
    assert!(squeezed.contains("#[derive(Clone)]pubstructUser{"), "{out}");
    // The model's field says why; a builder's private field has no doc.
    assert!(
        out.contains(
            "///Login name.\n        ///\n        /// A secret: `Debug` shows whether it is set, never its value (the spec marks it `writeOnly`)."
        ),
        "{out}"
    );
    // Callback itself is untouched: its `auth` shows through CallbackAuth's Debug.
    assert!(
        squeezed.contains("#[derive(::serde::Serialize,Clone,Debug)]pubstructCallback{"),
        "{out}"
    );
}

#[test]
fn a_secret_that_is_not_text_or_a_model_without_derived_debug_is_refused() {
    let mut file: syn::File = syn::parse_str(
        r#"pub mod types {
            #[derive(Clone, Debug)]
            pub struct DistributionList { pub type_: ::std::option::Option<DistributionListType> }
            pub mod builder {}
        }"#,
    )
    .unwrap();
    let models: ModelSecrets = [(
        "DistributionList".to_string(),
        [("type_".to_string(), Reason::WriteOnly)]
            .into_iter()
            .collect(),
    )]
    .into_iter()
    .collect();
    let err = rewrite(&mut file, &models).expect_err("not text");
    assert!(
        err.to_string().starts_with(
            "DistributionList: unexpected shape of progenitor's output: the secret field `type_` \
             is `::std::option::Option<DistributionListType>`, not text"
        ),
        "{err}"
    );
    let mut file: syn::File = syn::parse_str(
        r#"pub mod types {
            #[derive(Clone)]
            pub struct Auth { pub token: ::std::string::String }
            pub mod builder {}
        }"#,
    )
    .unwrap();
    let models: ModelSecrets = [(
        "Auth".to_string(),
        [("token".to_string(), Reason::WriteOnly)]
            .into_iter()
            .collect(),
    )]
    .into_iter()
    .collect();
    let err = rewrite(&mut file, &models).expect_err("no Debug");
    assert_eq!(
        err.to_string(),
        "Auth: unexpected shape of progenitor's output: no derived `Debug`"
    );
}

#[test]
fn the_projects_table_names_fields_of_the_spec() {
    let root = crate::project_root();
    let rows = parse_table(&std::fs::read_to_string(root.join(TABLE_PATH)).unwrap()).unwrap();
    let bundled: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("openapi/bundled.json")).unwrap())
            .unwrap();
    let secrets = secret_fields(&bundled, &rows).unwrap();
    for field in [
        "User.password",
        "Key.secret",
        "Callback.auth.key",
        "Auth.token",
    ] {
        assert!(
            secrets.iter().any(|s| s.field == field),
            "{field} is not a secret"
        );
    }
    assert!(!secrets.iter().any(|s| s.field == "DistributionList.type"));
}
