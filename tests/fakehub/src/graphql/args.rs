//! The parsed query's types, and its values (arguments, variable defaults,
//! directive conditions) turned into JSON with the variables substituted:
//! enums become strings, input objects maps. `@skip(if:)` and
//! `@include(if:)` are evaluated here too.

use graphql_parser::query as q;
use serde_json::{Map, Value};

pub(crate) type Document = q::Document<'static, String>;
pub(crate) type Field = q::Field<'static, String>;
pub(crate) type SelectionSet = q::SelectionSet<'static, String>;
pub(crate) type Selection = q::Selection<'static, String>;
pub(crate) type FragmentDefinition = q::FragmentDefinition<'static, String>;
pub(crate) type GqlValue = q::Value<'static, String>;
pub(crate) type Directive = q::Directive<'static, String>;
pub(crate) type Vars = Map<String, Value>;

/// A GraphQL value as JSON, variables substituted (unknown ones are null).
pub(crate) fn to_json(value: &GqlValue, vars: &Vars) -> Value {
    match value {
        q::Value::Variable(name) => vars.get(name).cloned().unwrap_or(Value::Null),
        q::Value::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        q::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        q::Value::String(s) => Value::String(s.clone()),
        q::Value::Boolean(b) => Value::Bool(*b),
        q::Value::Null => Value::Null,
        q::Value::Enum(e) => Value::String(e.clone()),
        q::Value::List(items) => Value::Array(items.iter().map(|v| to_json(v, vars)).collect()),
        q::Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v, vars))).collect()),
    }
}

/// Argument `name` of a field (None when absent or null).
pub(crate) fn arg(field: &Field, name: &str, vars: &Vars) -> Option<Value> {
    field.arguments.iter().find(|(k, _)| k == name).map(|(_, v)| to_json(v, vars)).filter(|v| !v.is_null())
}

/// An integer argument (`first`, `last`).
pub(crate) fn int_arg(field: &Field, name: &str, vars: &Vars) -> Option<i64> {
    arg(field, name, vars).and_then(|v| v.as_i64())
}

/// A string argument.
pub(crate) fn str_arg(field: &Field, name: &str, vars: &Vars) -> Option<String> {
    arg(field, name, vars).and_then(|v| v.as_str().map(str::to_string))
}

/// False when `@skip(if: true)` or `@include(if: false)` removes the selection.
pub(crate) fn included(directives: &[Directive], vars: &Vars) -> bool {
    directives.iter().all(|d| {
        let condition =
            d.arguments.iter().find(|(k, _)| k == "if").map(|(_, v)| to_json(v, vars)).and_then(|v| v.as_bool());
        match d.name.as_str() {
            "skip" => condition != Some(true),
            "include" => condition != Some(false),
            _ => true,
        }
    })
}

/// A field's response key: its alias or its name.
pub(crate) fn key(field: &Field) -> &str {
    field.alias.as_deref().unwrap_or(&field.name)
}

/// `{"line", "column"}` of a position.
pub(crate) fn location(pos: graphql_parser::Pos) -> Value {
    serde_json::json!({"line": pos.line, "column": pos.column})
}
