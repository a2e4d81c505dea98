use super::*;

/// A `send()` as progenitor 0.15.1 writes it, with `ARMS` for its arms.
const SEND: &str = r#"
    impl Client {
        pub fn new(baseurl: &str, inner: Inner) -> Self { build() }
        pub fn new_with_client(baseurl: &str, client: reqwest::Client, inner: Inner) -> Self { build() }
    }
    pub mod builder {
        impl<'a> MessageRetrieve<'a> {
            pub async fn send(self) -> Result<ResponseValue<RETURNED>, Error<ByteStream>> {
                let Self { client, message_id } = self;
                let message_id = message_id.map_err(Error::InvalidRequest)?;
                let url = format!("{}/messages/{}", client.baseurl, encode_path(&message_id.to_string()));
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                #[allow(unused_mut)]
                let mut request = client.client.get(url).headers(header_map).build()?;
                let info = OperationInfo { operation_id: "OPERATION" };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    ARMS
                    400u16 => Err(Error::ErrorResponse(ResponseValue::stream(response))),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    }
"#;

fn generated(returned: &str, operation: &str, arms: &str) -> syn::File {
    let source = SEND
        .replace("RETURNED", returned)
        .replace("OPERATION", operation)
        .replace("ARMS", arms);
    syn::parse_str(&source).expect("the sample parses")
}

/// The operation table of the samples: none of them is workspace-scoped.
fn table() -> Vec<OperationSpec> {
    [
        "message_retrieve",
        "contact_delete",
        "message_create",
        "resource_create",
    ]
    .into_iter()
    .map(|name| OperationSpec {
        operation_id: heck::AsLowerCamelCase(name).to_string(),
        method_name: name.into(),
        http_method: "GET".into(),
        path: "/".into(),
        accept: "application/json".into(),
        content_type: None,
        workspace_scoped: false,
        effect: crate::adapt::Effect::Read,
        header_params: Vec::new(),
        body_requires: Vec::new(),
        body_requires_any: Vec::new(),
    })
    .collect()
}

fn rewritten(returned: &str, operation: &str, arms: &str) -> Result<String, ShapeError> {
    let mut file = generated(returned, operation, arms);
    rewrite(&mut file, &table())?;
    Ok(text(&file))
}

#[test]
fn a_typed_answer_is_decoded_by_the_handwritten_json_call() {
    let out = rewritten(
        "types::Message",
        "message_retrieve",
        "200u16 => ResponseValue::from_response(response).await,",
    )
    .expect("rewrites");
    assert!(
        out.contains(
            "->::std::result::Result<crate::runtime::response::Response<types::Message>,crate::Error>"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "crate::runtime::call::json::<types::Message>(&client.client,&client.inner,&crate::generated::specs::MESSAGE_RETRIEVE,request).await"
        ),
        "{out}"
    );
    // The request building is kept as generated, inside the closure.
    assert!(
        out.contains("letmessage_id=message_id.map_err(Error::InvalidRequest)?;"),
        "{out}"
    );
    assert!(out.contains(".build()?;Ok(request)})();"), "{out}");
    // Nothing of progenitor's response handling is left.
    for gone in [
        "client.pre(",
        "client.exec(",
        "client.post(",
        "ResponseValue::",
    ] {
        assert!(!out.contains(gone), "{gone} left in {out}");
    }
}

#[test]
fn a_bodiless_answer_is_decoded_as_empty() {
    let out = rewritten(
        "()",
        "contact_delete",
        "204u16 => Ok(ResponseValue::empty(response)),",
    )
    .expect("rewrites");
    assert!(
        out.contains("crate::runtime::response::Response<()>"),
        "{out}"
    );
    assert!(
        out.contains("crate::runtime::call::empty(&client.client,&client.inner,&crate::generated::specs::CONTACT_DELETE,request)"),
        "{out}"
    );
}

#[test]
fn a_stream_answer_goes_to_its_handwritten_outcome() {
    let out = rewritten(
        "ByteStream",
        "message_create",
        "200u16 => Ok(ResponseValue::stream(response)), 202u16 => Ok(ResponseValue::stream(response)),",
    )
    .expect("rewrites");
    assert!(
        out.contains(
            "Result<crate::runtime::sent::Sent<crate::generated::types::Message>,crate::Error>"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "crate::runtime::call::message_sent(&client.client,&client.inner,&crate::generated::specs::MESSAGE_CREATE,request)"
        ),
        "{out}"
    );
}

#[test]
fn a_stream_answer_without_an_outcome_is_refused_by_name() {
    let err = rewritten(
        "ByteStream",
        "resource_create",
        "200u16 => Ok(ResponseValue::stream(response)),",
    )
    .expect_err("no outcome");
    assert_eq!(
        err.to_string(),
        "resource_create: unexpected shape of progenitor's output: answers with a raw stream, but has no handwritten outcome"
    );
}

#[test]
fn mixed_success_shapes_are_refused() {
    let err = rewritten(
        "types::Message",
        "message_retrieve",
        "200u16 => ResponseValue::from_response(response).await, 204u16 => Ok(ResponseValue::empty(response)),",
    )
    .expect_err("mixed");
    assert!(
        err.to_string().contains("success arms decode both"),
        "{err}"
    );
}

#[test]
fn an_unknown_statement_in_the_handling_is_refused_by_name() {
    let source = SEND
        .replace("RETURNED", "()")
        .replace("OPERATION", "contact_delete")
        .replace("ARMS", "204u16 => Ok(ResponseValue::empty(response)),")
        .replace(
            "client.post(&result, &info).await?;",
            "client.audit(&result).await?;",
        );
    let mut file: syn::File = syn::parse_str(&source).expect("parses");
    let err = rewrite(&mut file, &table()).expect_err("unknown statement");
    assert!(
        err.to_string()
            .starts_with("contact_delete: unexpected shape of progenitor's output: `client.audit"),
        "{err}"
    );
}

#[test]
fn an_unknown_arm_is_refused() {
    let err = rewritten(
        "()",
        "contact_delete",
        "204u16 => Ok(ResponseValue::upgrade(response)),",
    )
    .expect_err("unknown arm");
    assert!(err.to_string().contains("unknown arm"), "{err}");
}

#[test]
fn another_return_type_is_refused() {
    let source = SEND
        .replace(
            "Result<ResponseValue<RETURNED>, Error<ByteStream>>",
            "Result<(), String>",
        )
        .replace("OPERATION", "contact_delete")
        .replace("ARMS", "");
    let mut file: syn::File = syn::parse_str(&source).expect("parses");
    let err = rewrite(&mut file, &table()).expect_err("unknown return type");
    assert!(
        err.to_string()
            .contains("`send` returns `Result<(),String>`"),
        "{err}"
    );
}

#[test]
fn the_generated_constructors_are_no_way_around_the_builder() {
    let out = rewritten(
        "()",
        "contact_delete",
        "204u16 => Ok(ResponseValue::empty(response)),",
    )
    .expect("rewrites");
    assert!(!out.contains("fnnew(baseurl:&str"), "{out}");
    assert!(out.contains("pub(crate)fnnew_with_client("), "{out}");
}

#[test]
fn output_without_send_methods_is_refused() {
    let mut file: syn::File = syn::parse_str("pub mod builder {}").expect("parses");
    let err = rewrite(&mut file, &table()).expect_err("nothing to rewrite");
    assert!(err.to_string().contains("no `send` method"), "{err}");
}

#[test]
fn each_send_is_counted_for_its_operation() {
    let mut file = generated(
        "types::Message",
        "message_retrieve",
        "200u16 => ResponseValue::from_response(response).await,",
    );
    let rewritten = rewrite(&mut file, &table()).expect("rewrites");
    assert_eq!(rewritten.sends.at("message_retrieve"), 1);
    assert_eq!(rewritten.sends.total(), 1);
    assert_eq!(rewritten.workspaces.total(), 0, "not workspace-scoped");
}

#[test]
fn a_send_of_an_operation_the_table_does_not_list_is_refused_by_name() {
    let err = rewritten(
        "()",
        "message_purge",
        "204u16 => Ok(ResponseValue::empty(response)),",
    )
    .expect_err("not in the table");
    assert_eq!(
        err.to_string(),
        "message_purge: unexpected shape of progenitor's output: no operation in the operation table has this name"
    );
}

#[test]
fn a_scoped_operation_whose_send_has_no_workspace_is_refused_by_name() {
    let mut scoped = table();
    for op in &mut scoped {
        op.workspace_scoped = true;
    }
    let mut file = generated(
        "types::Message",
        "message_retrieve",
        "200u16 => ResponseValue::from_response(response).await,",
    );
    let err = rewrite(&mut file, &scoped).expect_err("no workspace to move");
    assert_eq!(err.place, "message_retrieve");
    assert!(err.problem.contains("no `workspaceId`"), "{err}");
}
