//! Data embedded in HTML. The one way to put JSON in a page: a `<script type="application/json">` element
//! whose text cannot end the element, open a comment or become markup, whatever the data holds (a venue
//! named `<!--<script>` once swallowed the rest of the scanner page).

use maud::{Markup, PreEscaped, html};

/// JSON text safe inside any HTML element: `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026`, which
/// every JSON parser reads back as the same characters.
pub fn json_text(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `<script type="application/json" id=…>` holding `value`, for a page's script to read with `JSON.parse`.
pub fn json_script(id: &str, value: &serde_json::Value) -> Markup {
    html! { script type="application/json" id=(id) { (PreEscaped(json_text(value))) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_the_data_can_end_the_element_or_open_a_comment() {
        let name = "Chợ <!--<script></script> & \"x\" </SCRIPT >";
        let value = serde_json::json!({"name": name});
        let html = json_script("cfg", &value).into_string();
        let inner = html
            .strip_prefix(r#"<script type="application/json" id="cfg">"#)
            .and_then(|s| s.strip_suffix("</script>"))
            .unwrap();
        assert!(!inner.contains(['<', '>', '&']), "{inner}");
        let back: serde_json::Value = serde_json::from_str(inner).unwrap();
        assert_eq!(back["name"], name);
    }
}
