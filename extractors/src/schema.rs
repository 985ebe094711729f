//! The `json` format: fills a CSS-selector schema (api.md) from the page.
//!
//! This is the one place that uses `scraper` (html5ever plus `selectors`): schemas need the
//! full CSS selector language, and their pages are few, so spec-exact parsing is worth its cost.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::links::resolve;
use crate::ExtractError;

/// `{"fields": {"name": {"selector": "css", "attr"?: "href", "multiple"?: bool, "fields"?: {...}}}}`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub fields: BTreeMap<String, Field>,
}

/// One field of a schema.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// CSS selector, relative to the enclosing field's element (or the document).
    pub selector: String,
    /// Take this attribute instead of the text (`href` and `src` come back absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attr: Option<String>,
    /// All matches as an array instead of the first match.
    #[serde(default)]
    pub multiple: bool,
    /// Nested fields: each match becomes an object filled from these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, Field>>,
}

/// Nesting allowed in a schema; deeper schemas are rejected rather than recursed into.
const MAX_SCHEMA_DEPTH: usize = 16;

/// Applies `schema` to `html`; a field with no match is `null` (or `[]` when `multiple`).
pub fn apply(schema: &Schema, html: &str, base: Option<&Url>) -> Result<Value, ExtractError> {
    let compiled = compile(&schema.fields, 0)?;
    let doc = Html::parse_document(html);
    Ok(fill(&compiled, doc.root_element(), base))
}

struct Compiled<'s> {
    name: &'s str,
    selector: Selector,
    field: &'s Field,
    nested: Option<Vec<Compiled<'s>>>,
}

fn compile(
    fields: &BTreeMap<String, Field>,
    depth: usize,
) -> Result<Vec<Compiled<'_>>, ExtractError> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(ExtractError::InvalidSchema {
            reason: format!("fields nest deeper than {MAX_SCHEMA_DEPTH} levels"),
        });
    }
    fields
        .iter()
        .map(|(name, field)| {
            let selector =
                Selector::parse(&field.selector).map_err(|e| ExtractError::InvalidSelector {
                    selector: field.selector.clone(),
                    reason: e.to_string(),
                })?;
            let nested = field.fields.as_ref().map(|f| compile(f, depth + 1)).transpose()?;
            Ok(Compiled { name, selector, field, nested })
        })
        .collect()
}

fn fill(fields: &[Compiled], scope: ElementRef, base: Option<&Url>) -> Value {
    let mut obj = Map::new();
    for f in fields {
        let value = |el: ElementRef| -> Value {
            if let Some(nested) = &f.nested {
                return fill(nested, el, base);
            }
            match f.field.attr.as_deref() {
                Some(a) => match el.value().attr(a) {
                    Some(v) if matches!(a, "href" | "src") => {
                        resolve(base, v).map(Value::String).unwrap_or(Value::Null)
                    }
                    Some(v) => Value::String(v.to_string()),
                    None => Value::Null,
                },
                None => Value::String(
                    el.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "),
                ),
            }
        };
        let v = if f.field.multiple {
            Value::Array(scope.select(&f.selector).map(value).collect())
        } else {
            scope.select(&f.selector).next().map(value).unwrap_or(Value::Null)
        };
        obj.insert(f.name.to_string(), v);
    }
    Value::Object(obj)
}
