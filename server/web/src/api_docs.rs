//! The OpenAPI document rendered as one readable HTML page (served at `GET /api/v1/docs`): the
//! operations with their parameters, bodies and answers, then the schemas. No script, no
//! external resource: the page works offline and under the strictest CSP.

use std::fmt::Write;

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}\
code,pre{font:13px ui-monospace,monospace;background:#f4f4f6;border-radius:4px}code{padding:1px 4px}\
pre{padding:.7em;overflow:auto}table{border-collapse:collapse;width:100%;margin:.5em 0}\
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\
section{border-top:2px solid #eee;margin-top:1.5em}.m{display:inline-block;min-width:4.5em;font-weight:bold;text-transform:uppercase}\
.get{color:#1a7f37}.post{color:#0b5cad}.put{color:#8250df}.patch{color:#9a6700}.delete{color:#cf222e}";

/// Escapes text for HTML content and attribute values (XML's five entities are HTML's too).
fn esc(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Plain text with `code` spans, paragraphs by blank lines.
fn prose(text: &str) -> String {
    text.split("\n\n")
        .map(|para| {
            let html = esc(para)
                .split('`')
                .enumerate()
                .map(|(i, part)| {
                    if i % 2 == 1 {
                        format!("<code>{part}</code>")
                    } else {
                        part.to_owned()
                    }
                })
                .collect::<String>();
            format!("<p>{html}</p>")
        })
        .collect()
}

fn ref_name(value: &Value) -> Option<&str> {
    value.get("$ref")?.as_str()?.rsplit('/').next()
}

/// A schema's type in a few words, with links to named schemas.
fn type_label(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(variants) = schema.get(key).and_then(Value::as_array) {
            return variants
                .iter()
                .map(type_label)
                .collect::<Vec<_>>()
                .join(" | ");
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values.iter().map(|v| esc(&v.to_string())).collect();
        return format!("one of {}", values.join(", "));
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => vec!["any".to_owned()],
    };
    let mut label = types
        .iter()
        .map(|t| match (t.as_str(), schema.get("items")) {
            ("array", Some(items)) => format!("array of {}", type_label(items)),
            (t, _) => esc(t),
        })
        .collect::<Vec<_>>()
        .join(" | ");
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        let _ = write!(label, " ({})", esc(format));
    }
    label
}

fn pretty(value: &Value) -> String {
    esc(&serde_json::to_string_pretty(value).unwrap_or_default())
}

fn parameters(out: &mut String, op: &Value) {
    let Some(params) = op.get("parameters").and_then(Value::as_array) else {
        return;
    };
    out.push_str("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>");
    for p in params {
        let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
        let required = if p.get("required") == Some(&Value::Bool(true)) {
            " (required)"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(text("name")),
            esc(text("in")),
            p.get("schema").map(type_label).unwrap_or_default(),
            esc(text("description")),
        );
    }
    out.push_str("</table>");
}

fn request_body(out: &mut String, op: &Value, doc: &Value) {
    let Some(body) = op.get("requestBody") else {
        return;
    };
    out.push_str("<h4>Request body</h4>");
    if let Some(text) = body.get("description").and_then(Value::as_str) {
        out.push_str(&prose(text));
    }
    for (media, content) in body["content"].as_object().into_iter().flatten() {
        let schema = content.get("schema").cloned().unwrap_or(Value::Null);
        let _ = write!(
            out,
            "<p><code>{}</code>: {}</p>",
            esc(media),
            type_label(&schema)
        );
        let example = content.get("example").or_else(|| {
            ref_name(&schema).and_then(|n| doc["components"]["schemas"][n].get("example"))
        });
        if let Some(example) = example {
            let _ = write!(out, "<pre>{}</pre>", pretty(example));
        }
    }
}

fn responses(out: &mut String, op: &Value) {
    out.push_str(
        "<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th></tr>",
    );
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let (description, body) = match ref_name(response) {
            Some(name) => (
                name.to_owned(),
                "<a href=\"#schema-Problem\">Problem</a>".to_owned(),
            ),
            None => {
                let description = response["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let body = response["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(media, c)| {
                        format!(
                            "<code>{}</code> {}",
                            esc(media),
                            c.get("schema").map(type_label).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>");
                (description, body)
            }
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{body}</td></tr>",
            esc(status),
            esc(&description)
        );
    }
    out.push_str("</table>");
}

fn operation(out: &mut String, path: &str, method: &str, op: &Value, doc: &Value) {
    let id = op["operationId"].as_str().unwrap_or(method);
    let _ = write!(
        out,
        "<section id=\"op-{}\"><h3><span class=\"m {method}\">{method}</span> <code>{}</code></h3>",
        esc(id),
        esc(path)
    );
    if let Some(text) = op
        .get("description")
        .or_else(|| op.get("summary"))
        .and_then(Value::as_str)
    {
        out.push_str(&prose(text));
    }
    parameters(out, op);
    request_body(out, op, doc);
    responses(out, op);
    out.push_str("</section>");
}

fn schema_section(out: &mut String, name: &str, schema: &Value) {
    let _ = write!(out, "<section id=\"schema-{0}\"><h3>{0}</h3>", esc(name));
    if let Some(text) = schema.get("description").and_then(Value::as_str) {
        out.push_str(&prose(text));
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        out.push_str("<table><tr><th>field</th><th>type</th><th>description</th></tr>");
        for (field, property) in properties {
            let mark = if required.contains(&field.as_str()) {
                " (required)"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{mark}</td><td>{}</td><td>{}</td></tr>",
                esc(field),
                type_label(property),
                esc(property
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default())
            );
        }
        out.push_str("</table>");
    } else {
        let _ = write!(out, "<p>{}</p>", type_label(schema));
    }
    if let Some(example) = schema.get("example") {
        let _ = write!(out, "<p>Example:</p><pre>{}</pre>", pretty(example));
    }
    out.push_str("</section>");
}

/// The whole page.
pub fn render(doc: &Value) -> String {
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\
         <h1>{0} <small>{1}</small></h1>",
        esc(title),
        esc(doc["info"]["version"].as_str().unwrap_or_default())
    );
    out.push_str(&prose(
        doc["info"]["description"].as_str().unwrap_or_default(),
    ));
    out.push_str("<p>Machine-readable: <a href=\"openapi.json\">openapi.json</a> (OpenAPI 3.1).</p><h2>Operations</h2><ul>");
    let paths = doc["paths"].as_object();
    let each_op = || {
        paths.into_iter().flatten().flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter_map(move |m| item.get(*m).map(|op| (path.as_str(), *m, op)))
        })
    };
    for (path, method, op) in each_op() {
        let _ = write!(
            out,
            "<li><a href=\"#op-{}\"><span class=\"m {method}\">{method}</span> <code>{}</code></a></li>",
            esc(op["operationId"].as_str().unwrap_or_default()),
            esc(path)
        );
    }
    out.push_str("</ul>");
    for (path, method, op) in each_op() {
        operation(&mut out, path, method, op, doc);
    }
    out.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        schema_section(&mut out, name, schema);
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::provider::openapi::document;

    #[test]
    fn the_page_shows_operations_and_schemas_escaped() {
        let html = render(document());
        assert!(html.contains("<code>/api/v1/orgs/{slug}/trunks/{role}</code>"));
        assert!(html.contains("id=\"schema-TrunkPut\""));
        assert!(html.contains("&quot;slug&quot;: &quot;acme&quot;"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("src=") && !html.contains("<link"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(prose("use `a<b`"), "<p>use <code>a&lt;b</code></p>");
    }
}
