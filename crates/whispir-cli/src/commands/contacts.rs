//! `whispir contacts list|show|create|update|delete`.

use serde_json::{Map, Value, json};
use whispir::ListStream as _;
use whispir::types::Contact;

use crate::cli::{ContactFields, ContactsCommand, ListArgs};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::input::read_json;
use crate::output::{Output, item_id, text, to_json};

/// Runs `contacts`.
pub async fn run(
    conn: &Connection,
    out: Output,
    command: ContactsCommand,
) -> Result<ExitClass, CliError> {
    let workspace = conn.workspace.as_deref();
    match command {
        ContactsCommand::List(args) => list(conn, out, &args).await?,
        ContactsCommand::Show { contact_id } => {
            let contact = retrieve(conn, &contact_id).await?;
            show(out, &contact_id, &contact)?;
        }
        ContactsCommand::Create(fields) => {
            let value = fields_json(&fields)?;
            require_every_field(&value)?;
            let contact = contact_from(value)?;
            let mut request = conn.client.contact_create().body(contact);
            if let Some(workspace) = workspace {
                request = request.workspace_id(workspace);
            }
            let created = request.send().await?;
            let body = to_json(created.body())?;
            let id = created
                .id()
                .map(String::from)
                .unwrap_or_else(|| item_id(&body));
            out.object(&json!({"contactId": id, "contact": body}), || {
                vec![format!("created: contact {id}")]
            })?;
        }
        ContactsCommand::Update { contact_id, fields } => {
            let mut value = retrieve(conn, &contact_id).await?;
            if let Some(map) = value.as_object_mut() {
                // Read-only fields the API sets itself.
                map.remove("link");
                map.remove("lastModifiedTime");
            }
            merge(&mut value, fields_json(&fields)?);
            let contact = contact_from(value)?;
            let mut request = conn
                .client
                .contact_update()
                .contact_id(&contact_id)
                .body(contact);
            if let Some(workspace) = workspace {
                request = request.workspace_id(workspace);
            }
            request.send().await?;
            out.object(&json!({"contactId": contact_id, "updated": true}), || {
                vec![format!("updated: contact {contact_id}")]
            })?;
        }
        ContactsCommand::Delete { contact_id } => {
            let mut request = conn.client.contact_delete().contact_id(&contact_id);
            if let Some(workspace) = workspace {
                request = request.workspace_id(workspace);
            }
            request.send().await?;
            out.object(&json!({"contactId": contact_id, "deleted": true}), || {
                vec![format!("deleted: contact {contact_id}")]
            })?;
        }
    }
    Ok(ExitClass::Success)
}

async fn retrieve(conn: &Connection, contact_id: &str) -> Result<Value, CliError> {
    let mut request = conn.client.contact_retrieve().contact_id(contact_id);
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    to_json(request.send().await?.body())
}

fn show(out: Output, id: &str, contact: &Value) -> Result<(), CliError> {
    out.object(contact, || {
        vec![
            format!("id:        {id}"),
            format!(
                "name:      {} {}",
                text(contact, "firstName"),
                text(contact, "lastName")
            ),
            format!("mobile:    {}", text(contact, "workMobilePhone1")),
            format!("email:     {}", text(contact, "workEmailAddress1")),
            format!("timezone:  {}", text(contact, "timezone")),
        ]
    })
}

async fn list(conn: &Connection, out: Output, args: &ListArgs) -> Result<(), CliError> {
    let mut request = conn.client.contact_list();
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    let mut items = request.stream();
    let mut rows = Vec::new();
    let mut shown = 0usize;
    while args.all || shown < args.limit {
        let Some(contact) = items.try_next().await? else {
            break;
        };
        shown += 1;
        let value = to_json(&contact)?;
        if out.json {
            out.json_line(&value)?;
        } else {
            rows.push(vec![
                item_id(&value),
                text(&value, "firstName"),
                text(&value, "lastName"),
                text(&value, "workMobilePhone1"),
                text(&value, "workEmailAddress1"),
            ]);
        }
    }
    if !out.json {
        out.table(&["ID", "FIRST NAME", "LAST NAME", "MOBILE", "EMAIL"], &rows)?;
    }
    Ok(())
}

/// The fields given: the `--body` JSON, then the flags over it.
fn fields_json(fields: &ContactFields) -> Result<Value, CliError> {
    let mut value = match &fields.body {
        Some(source) => read_json(source)?,
        None => Value::Object(Map::new()),
    };
    let flags = [
        &fields.first_name,
        &fields.last_name,
        &fields.mobile,
        &fields.email,
        &fields.timezone,
        &fields.country,
    ];
    let Some(map) = value.as_object_mut() else {
        return Err(CliError::usage("--body: a contact is a JSON object"));
    };
    for ((name, _), flag) in FIELD_FLAGS.iter().zip(flags) {
        if let Some(given) = flag {
            map.insert((*name).into(), Value::String(given.clone()));
        }
    }
    Ok(value)
}

/// Each field a new contact needs (the API's name) and the flag that
/// gives it, in the order `--help` lists them.
const FIELD_FLAGS: [(&str, &str); 6] = [
    ("firstName", "--first-name"),
    ("lastName", "--last-name"),
    ("workMobilePhone1", "--mobile"),
    ("workEmailAddress1", "--email"),
    ("timezone", "--timezone"),
    ("workCountry", "--country"),
];

/// Refuses a new contact that lacks a field Whispir requires, naming the
/// flags to give: nothing is filled in for the caller (a time zone or a
/// country guessed here would be stored as if it had been given).
fn require_every_field(value: &Value) -> Result<(), CliError> {
    let missing: Vec<&str> = FIELD_FLAGS
        .iter()
        .filter(|(name, _)| {
            value
                .get(name)
                .and_then(Value::as_str)
                .is_none_or(|given| given.trim().is_empty())
        })
        .map(|(_, flag)| *flag)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let example = if missing.contains(&"--timezone") || missing.contains(&"--country") {
        " (e.g. --timezone Australia/Melbourne --country Australia)"
    } else {
        ""
    };
    Err(CliError::usage(format!(
        "a new contact needs {}: give {}{example}",
        if missing.len() == 1 {
            "one more field"
        } else {
            "more fields"
        },
        missing.join(", ")
    )))
}

/// Sets every field of `changes` on `value`.
fn merge(value: &mut Value, changes: Value) {
    if let (Some(map), Value::Object(changes)) = (value.as_object_mut(), changes) {
        map.extend(changes);
    }
}

fn contact_from(value: Value) -> Result<Contact, CliError> {
    serde_json::from_value(value)
        .map_err(|err| CliError::usage(format!("the contact cannot be read: {err}")))
}
