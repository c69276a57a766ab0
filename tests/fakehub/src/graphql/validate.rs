//! Static validation before anything runs, with graphql-ruby's (GitHub's)
//! messages and `extensions.code`s: the operation to run (`operationName`),
//! variables against their declared types (missing non-null ones, wrong
//! scalars), undeclared and unused variables, unknown fields and arguments,
//! missing required arguments, selections on scalars and objects without
//! one, unknown or impossible fragment types, undefined, unused and cyclic
//! fragments. Any error means no `data` at all, as on GitHub.

use super::args::{Document, FragmentDefinition, SelectionSet, Vars, key, location, to_json};
use super::schema::{self, Ty};
use graphql_parser::query::{Definition, OperationDefinition, Selection, Type, TypeCondition, VariableDefinition};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// The operation to run, with its coerced variables.
pub(crate) struct Operation<'d> {
    pub selection: &'d SelectionSet,
    /// `query` or `query Name` (the first element of validation error paths).
    pub label: String,
    pub vars: Vars,
    variable_definitions: &'d [VariableDefinition<'static, String>],
}

fn error(message: String, pos: graphql_parser::Pos) -> Value {
    json!({"message": message, "locations": [location(pos)]})
}

/// Pick the operation and coerce the variables.
pub(crate) fn operation<'d>(
    doc: &'d Document,
    operation_name: Option<&str>,
    variables: &Value,
) -> Result<Operation<'d>, Vec<Value>> {
    let mut ops = Vec::new();
    for def in &doc.definitions {
        if let Definition::Operation(op) = def {
            ops.push(op);
        }
    }
    let op = match (operation_name, ops.len()) {
        (_, 0) => return Err(vec![json!({"message": "No operations in query document"})]),
        (Some(name), _) => ops
            .iter()
            .find(|op| op_name(op) == Some(name))
            .copied()
            .ok_or_else(|| vec![json!({"message": format!("No operation named \"{name}\"")})])?,
        (None, 1) => ops[0],
        (None, _) => return Err(vec![json!({"message": "An operation name is required"})]),
    };
    let (selection, defs, label, pos) = match op {
        OperationDefinition::SelectionSet(set) => (set, &[][..], "query".to_string(), set.span.0),
        OperationDefinition::Query(q) => (
            &q.selection_set,
            q.variable_definitions.as_slice(),
            q.name.as_ref().map_or_else(|| "query".to_string(), |n| format!("query {n}")),
            q.position,
        ),
        OperationDefinition::Mutation(m) => {
            return Err(vec![error("fakehub serves queries only, not mutations".into(), m.position)]);
        }
        OperationDefinition::Subscription(s) => {
            return Err(vec![error("Subscriptions are not supported".into(), s.position)]);
        }
    };
    let _ = pos;
    let given = variables.as_object();
    let mut vars = Vars::new();
    let mut errors = Vec::new();
    for def in defs {
        let value = given.and_then(|g| g.get(&def.name)).cloned();
        let value = match value {
            Some(v) => Some(v),
            None => def.default_value.as_ref().map(|d| to_json(d, &Vars::new())),
        };
        match coerce(&def.var_type, value.as_ref().unwrap_or(&Value::Null)) {
            Ok(()) => {
                vars.insert(def.name.clone(), value.unwrap_or(Value::Null));
            }
            Err(explanation) => errors.push(json!({
                "extensions": {"value": value, "problems": [{"path": [], "explanation": explanation}]},
                "locations": [location(def.position)],
                "message": format!("Variable ${} of type {} was provided invalid value", def.name, def.var_type)
            })),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Operation { selection, label, vars, variable_definitions: defs })
}

fn op_name<'d>(op: &'d OperationDefinition<'static, String>) -> Option<&'d str> {
    match op {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(q) => q.name.as_deref(),
        OperationDefinition::Mutation(m) => m.name.as_deref(),
        OperationDefinition::Subscription(s) => s.name.as_deref(),
    }
}

/// Whether `value` fits type `ty` (Err: why not).
fn coerce(ty: &Type<'static, String>, value: &Value) -> Result<(), String> {
    match ty {
        Type::NonNullType(inner) => {
            if value.is_null() {
                Err("Expected value to not be null".into())
            } else {
                coerce(inner, value)
            }
        }
        _ if value.is_null() => Ok(()),
        Type::ListType(inner) => match value {
            Value::Array(items) => items.iter().try_for_each(|v| coerce(inner, v)),
            _ => Err(format!("Expected a list of {}", inner.to_string().trim_end_matches('!'))),
        },
        Type::NamedType(name) => {
            let ok = match name.as_str() {
                "ID" => value.is_string() || value.is_i64() || value.is_u64(),
                "String" | "DateTime" | "URI" | "GitObjectID" | "GitTimestamp" | "HTML" => value.is_string(),
                "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
                "Float" => value.is_number(),
                "Boolean" => value.is_boolean(),
                _ => true,
            };
            if ok { Ok(()) } else { Err(format!("Could not coerce value {value} to {name}")) }
        }
    }
}

struct Validator<'d> {
    fragments: HashMap<&'d str, &'d FragmentDefinition>,
    errors: Vec<Value>,
    used_vars: HashSet<String>,
    used_fragments: HashSet<String>,
    visiting: Vec<String>,
}

/// Every static error of the operation (empty: it may run).
pub(crate) fn validate(doc: &Document, op: &Operation) -> Vec<Value> {
    let mut fragments = HashMap::new();
    for def in &doc.definitions {
        if let Definition::Fragment(f) = def {
            fragments.insert(f.name.as_str(), f);
        }
    }
    let mut v = Validator {
        fragments,
        errors: Vec::new(),
        used_vars: HashSet::new(),
        used_fragments: HashSet::new(),
        visiting: Vec::new(),
    };
    let mut path = vec![op.label.clone()];
    v.selection_set(op.selection, "Query", &mut path);
    for def in op.variable_definitions {
        if !v.used_vars.contains(&def.name) {
            v.errors.push(json!({
                "path": [op.label],
                "extensions": {"code": "variableNotUsed", "variableName": def.name},
                "locations": [location(def.position)],
                "message": format!("Variable ${} is declared by {} but not used", def.name, describe(&op.label))
            }));
        }
    }
    let declared: HashSet<&str> = op.variable_definitions.iter().map(|d| d.name.as_str()).collect();
    let mut undeclared: Vec<&String> = v.used_vars.iter().filter(|n| !declared.contains(n.as_str())).collect();
    undeclared.sort();
    for name in undeclared {
        v.errors.push(json!({
            "path": [op.label],
            "extensions": {"code": "variableNotDefined", "variableName": name},
            "message": format!("Variable ${name} is used by {} but not declared", describe(&op.label))
        }));
    }
    let mut unused: Vec<&&FragmentDefinition> =
        v.fragments.values().filter(|f| !v.used_fragments.contains(&f.name)).collect();
    unused.sort_by_key(|f| (f.position.line, f.position.column));
    for f in unused {
        v.errors.push(json!({
            "path": [format!("fragment {}", f.name)],
            "extensions": {"code": "useAndDefineFragment", "fragmentName": f.name},
            "locations": [location(f.position)],
            "message": format!("Fragment {} was defined, but not used", f.name)
        }));
    }
    v.errors
}

/// `anonymous query` or `query Name`.
fn describe(label: &str) -> String {
    if label == "query" { "anonymous query".to_string() } else { label.to_string() }
}

/// Variable names used in a value.
fn vars_in(value: &super::args::GqlValue, out: &mut HashSet<String>) {
    use graphql_parser::query::Value as V;
    match value {
        V::Variable(name) => {
            out.insert(name.clone());
        }
        V::List(items) => items.iter().for_each(|v| vars_in(v, out)),
        V::Object(fields) => fields.values().for_each(|v| vars_in(v, out)),
        _ => {}
    }
}

impl<'d> Validator<'d> {
    fn push(&mut self, path: &[String], pos: graphql_parser::Pos, code: &str, extra: Value, message: String) {
        let mut extensions = json!({"code": code});
        if let (Some(e), Value::Object(more)) = (extensions.as_object_mut(), extra) {
            e.extend(more);
        }
        self.errors
            .push(json!({"path": path, "extensions": extensions, "locations": [location(pos)], "message": message}));
    }

    fn selection_set(&mut self, set: &'d SelectionSet, parent: &str, path: &mut Vec<String>) {
        for selection in &set.items {
            match selection {
                Selection::Field(f) => {
                    for (_, value) in &f.arguments {
                        vars_in(value, &mut self.used_vars);
                    }
                    for d in &f.directives {
                        d.arguments.iter().for_each(|(_, v)| vars_in(v, &mut self.used_vars));
                    }
                    path.push(key(f).to_string());
                    self.field(f, parent, path);
                    path.pop();
                }
                Selection::InlineFragment(fragment) => {
                    for d in &fragment.directives {
                        d.arguments.iter().for_each(|(_, v)| vars_in(v, &mut self.used_vars));
                    }
                    let on = match &fragment.type_condition {
                        Some(TypeCondition::On(t)) => t.as_str(),
                        None => parent,
                    };
                    if self.condition(on, parent, path, fragment.position) {
                        path.push(format!("... on {on}"));
                        self.selection_set(&fragment.selection_set, on, path);
                        path.pop();
                    }
                }
                Selection::FragmentSpread(spread) => {
                    for d in &spread.directives {
                        d.arguments.iter().for_each(|(_, v)| vars_in(v, &mut self.used_vars));
                    }
                    let name = spread.fragment_name.as_str();
                    self.used_fragments.insert(name.to_string());
                    let Some(&fragment) = self.fragments.get(name) else {
                        let message = format!("Fragment {name} was used, but not defined");
                        self.push(
                            path,
                            spread.position,
                            "useAndDefineFragment",
                            json!({"fragmentName": name}),
                            message,
                        );
                        continue;
                    };
                    if self.visiting.iter().any(|v| v == name) {
                        let message = format!("Fragment {name} contains an infinite loop");
                        self.push(path, spread.position, "infiniteLoop", json!({"fragmentName": name}), message);
                        continue;
                    }
                    let TypeCondition::On(on) = &fragment.type_condition;
                    if self.condition(on, parent, path, spread.position) {
                        self.visiting.push(name.to_string());
                        path.push(format!("... {name}"));
                        self.selection_set(&fragment.selection_set, on, path);
                        path.pop();
                        self.visiting.pop();
                    }
                }
            }
        }
    }

    /// Whether a fragment on `on` may appear inside `parent` (errors recorded).
    fn condition(&mut self, on: &str, parent: &str, path: &[String], pos: graphql_parser::Pos) -> bool {
        if !schema::known_type(on) {
            let message = format!("No such type {on}, so it can't be a fragment condition");
            self.push(path, pos, "undefinedType", json!({"typeName": on}), message);
            return false;
        }
        if !schema::overlaps(on, parent) {
            let message = format!("Fragment on {on} can't be spread inside {parent}");
            self.push(path, pos, "cannotSpreadFragment", json!({"typeName": on, "parentName": parent}), message);
            return false;
        }
        true
    }

    fn field(&mut self, f: &'d super::args::Field, parent: &str, path: &mut Vec<String>) {
        let has_selection = !f.selection_set.items.is_empty();
        if f.name == "__typename" {
            if has_selection {
                let message = format!(
                    "Selections can't be made on scalars (field '__typename' returns String but has selections [{}])",
                    selection_names(&f.selection_set)
                );
                self.push(
                    path,
                    f.position,
                    "selectionMismatch",
                    json!({"nodeName": "field '__typename'", "typeName": "String"}),
                    message,
                );
            }
            return;
        }
        let Some(def) = schema::field(parent, &f.name) else {
            let message = format!("Field '{}' doesn't exist on type '{parent}'", f.name);
            self.push(path, f.position, "undefinedField", json!({"typeName": parent, "fieldName": f.name}), message);
            return;
        };
        for (name, _) in &f.arguments {
            if !def.args.contains(&name.as_str()) {
                let message = format!("Field '{}' doesn't accept argument '{name}'", f.name);
                let mut arg_path = path.clone();
                arg_path.push(name.clone());
                self.push(
                    &arg_path,
                    f.position,
                    "argumentNotAccepted",
                    json!({"name": f.name, "typeName": "Field", "argumentName": name}),
                    message,
                );
            }
        }
        let missing: Vec<&str> =
            def.required.iter().copied().filter(|r| !f.arguments.iter().any(|(k, _)| k == r)).collect();
        if !missing.is_empty() {
            let message = format!("Field '{}' is missing required arguments: {}", f.name, missing.join(", "));
            let extra = json!({"className": "Field", "name": f.name, "arguments": missing.join(", ")});
            self.push(path, f.position, "missingRequiredArguments", extra, message);
        }
        let child = match def.ty {
            Ty::Scalar => {
                if has_selection {
                    let message = format!(
                        "Selections can't be made on scalars (field '{}' returns a scalar but has selections [{}])",
                        f.name,
                        selection_names(&f.selection_set)
                    );
                    self.push(
                        path,
                        f.position,
                        "selectionMismatch",
                        json!({"nodeName": format!("field '{}'", f.name)}),
                        message,
                    );
                }
                return;
            }
            Ty::Object(t) | Ty::List(t) => t,
            Ty::Connection { name, .. } => name,
        };
        if !has_selection {
            let message = format!(
                "Field must have selections (field '{}' returns {child} but has no selections. Did you mean '{} {{ ... }}'?)",
                f.name, f.name
            );
            self.push(
                path,
                f.position,
                "selectionMismatch",
                json!({"nodeName": format!("field '{}'", f.name), "typeName": child}),
                message,
            );
            return;
        }
        self.selection_set(&f.selection_set, child, path);
    }
}

fn selection_names(set: &SelectionSet) -> String {
    set.items
        .iter()
        .filter_map(|s| match s {
            Selection::Field(f) => Some(f.name.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(", ")
}
