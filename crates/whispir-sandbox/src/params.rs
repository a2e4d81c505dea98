//! Path, query and header parameters checked against their schemas.

use axum::http::HeaderMap;
use serde_json::Value;

use crate::errors::ApiFailure;
use crate::schema::RequestSchema;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamPlace {
    /// In the path.
    Path,
    /// In the query string.
    Query,
    /// In a header.
    Header,
}

/// One declared parameter.
#[derive(Debug)]
pub(crate) struct Param {
    /// Its name.
    pub name: String,
    /// Where it travels.
    pub place: ParamPlace,
    /// Whether the request must carry it.
    pub required: bool,
    /// The JSON type of its schema (`integer`, `string`, …).
    pub kind: String,
    /// Its schema.
    pub schema: Option<RequestSchema>,
}

impl Param {
    /// Reads a parameter object of the spec.
    pub fn read(parameter: &Value, place: ParamPlace, components: &Value) -> Self {
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let schema = parameter.get("schema");
        let kind = schema
            .and_then(|s| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string")
            .to_string();
        Param {
            required: place == ParamPlace::Path
                || parameter.get("required").and_then(Value::as_bool) == Some(true),
            schema: schema.and_then(|s| {
                // Most parameter schemas stand alone; only those with a
                // `$ref` need the components to compile.
                let empty = Value::Object(serde_json::Map::new());
                let components = if s.to_string().contains("$ref") {
                    components
                } else {
                    &empty
                };
                RequestSchema::compile(s, components).ok()
            }),
            name,
            place,
            kind,
        }
    }

    /// Reads a raw value as the parameter's type; `None` when it is not one.
    fn typed(&self, raw: &str) -> Option<Value> {
        match self.kind.as_str() {
            "integer" | "number" => {
                if let Ok(number) = raw.parse::<i64>() {
                    Some(Value::from(number))
                } else if let Ok(number) = raw.parse::<u64>() {
                    Some(Value::from(number))
                } else {
                    let number = raw.parse::<f64>().ok().filter(|n| n.is_finite())?;
                    let is_integer = raw.bytes().all(|b| b.is_ascii_digit() || b == b'-');
                    if self.kind == "integer" && !is_integer {
                        return None;
                    }
                    serde_json::Number::from_f64(number).map(Value::Number)
                }
            }
            "boolean" => match raw {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            "array" => Some(Value::Array(
                raw.split(',')
                    .map(|item| Value::String(item.to_string()))
                    .collect(),
            )),
            _ => Some(Value::String(raw.to_string())),
        }
    }

    /// Checks a value the request carries (or not).
    pub fn check(&self, raw: Option<&str>) -> Result<(), ApiFailure> {
        let where_ = match self.place {
            ParamPlace::Path => "path parameter",
            ParamPlace::Query => "query parameter",
            ParamPlace::Header => "header",
        };
        let Some(raw) = raw else {
            if self.required {
                return Err(ApiFailure::bad_request(format!(
                    "the required {where_} {} is missing",
                    self.name
                )));
            }
            return Ok(());
        };
        let Some(value) = self.typed(raw) else {
            return Err(ApiFailure::bad_request(format!(
                "the {where_} {} must be of type {}, not {raw:?}",
                self.name, self.kind
            )));
        };
        if let Some(schema) = &self.schema {
            let problems = schema.problems(&value);
            if !problems.is_empty() {
                return Err(ApiFailure::bad_request(format!(
                    "the {where_} {} is invalid: {}",
                    self.name,
                    problems.join("; ")
                )));
            }
        }
        Ok(())
    }
}

/// Checks every declared parameter of a request.
pub(crate) fn check_all(
    params: &[Param],
    path_params: &[(String, String)],
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<(), ApiFailure> {
    for param in params {
        let raw = match param.place {
            ParamPlace::Path => path_params
                .iter()
                .find(|(name, _)| *name == param.name)
                .map(|(_, value)| value.as_str()),
            ParamPlace::Query => query
                .iter()
                .find(|(name, _)| *name == param.name)
                .map(|(_, value)| value.as_str()),
            ParamPlace::Header => match headers.get(param.name.as_str()) {
                Some(value) => Some(value.to_str().map_err(|_| {
                    ApiFailure::bad_request(format!("the header {} is not text", param.name))
                })?),
                None => None,
            },
        };
        param.check(raw)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    fn limit() -> Param {
        Param::read(
            &json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 20}}),
            ParamPlace::Query,
            &json!({}),
        )
    }

    #[test]
    #[cfg(feature = "schema-checks")]
    fn a_query_parameter_is_checked_against_its_schema() {
        let limit = limit();
        assert!(limit.check(Some("20")).is_ok());
        assert!(limit.check(None).is_ok());
        assert!(limit.check(Some("21")).is_err());
        assert!(limit.check(Some("ten")).is_err());
        assert!(limit.check(Some("1.5")).is_err());
    }

    #[test]
    #[cfg(feature = "schema-checks")]
    fn a_huge_whole_number_is_still_a_number() {
        let offset = Param::read(
            &json!({"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}),
            ParamPlace::Query,
            &json!({}),
        );
        assert!(offset.check(Some("2546211397794802958336")).is_ok());
        assert!(offset.check(Some("-1")).is_err());
    }
}
