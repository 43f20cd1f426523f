//! Hugo's shortcodes written out when a post is carried over, so the moved post shows what the
//! old site showed: `youtube` and `vimeo` as player embeds (kept by the sanitiser), `figure` as
//! a figure, `gist` as a link, `param` as the value (the page's front matter, then the site's
//! `[params]`), `highlight` as a fenced code block, `ref` / `relref` as the old URL of the page
//! or section named (relative to the page first, as Hugo looks). A site's own shortcode whose
//! template only prints a site value (`{{ .Site.BaseURL }}`, `{{ .Site.Params.x }}`) is
//! replaced by that value. Any other shortcode is left as it is and listed (import notes it,
//! `check` names it); `{{</* x */>}}`, Hugo's way of writing one literally, is kept as text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What carrying a Hugo site's shortcodes needs to know of the site.
#[derive(Debug, Default)]
pub struct Hugo {
    /// `[params]` of the site's settings.
    pub params: Value,
    /// Each page, post and section by its logical path (under its language's content folder,
    /// lower-cased, without extension, `index` or `_index`) with its old URL.
    pub pages: Vec<(String, String)>,
    /// The logical folder of each content file (by its path under the site).
    pub dirs: HashMap<PathBuf, String>,
    /// The site's own shortcodes whose template prints one site value, with that value.
    pub values: HashMap<String, String>,
}

/// What a shortcode call sees of its site and page.
struct Site<'a> {
    hugo: &'a Hugo,
    /// The page's front matter.
    front: Value,
    /// The page's logical folder.
    dir: &'a str,
}

/// One call's name and arguments (positional, then named).
struct Call {
    name: String,
    positional: Vec<String>,
    named: Vec<(String, String)>,
}

impl Call {
    fn parse(inner: &str) -> Option<Call> {
        let mut words = Vec::new();
        let mut chars = inner.trim().chars().peekable();
        while chars.peek().is_some() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '"' || c == '`' {
                    for q in chars.by_ref() {
                        if q == c {
                            break;
                        }
                        word.push(q);
                    }
                } else {
                    word.push(c);
                }
            }
            if !word.is_empty() {
                words.push(word);
            }
        }
        let mut words = words.into_iter();
        let name = words.next()?;
        let mut call = Call {
            name,
            positional: Vec::new(),
            named: Vec::new(),
        };
        for word in words {
            match word.split_once('=') {
                Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_alphanumeric()) => {
                    call.named.push((k.to_string(), v.to_string()))
                }
                _ => call.positional.push(word),
            }
        }
        Some(call)
    }

    fn arg(&self, name: &str, at: usize) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .or_else(|| self.positional.get(at).map(String::as_str))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` (a whole content file, `from` under the site) with the shortcodes Hugo's site
/// showed written out, and the others that are left: line and name.
pub(crate) fn carry(text: &str, hugo: &Hugo, from: &Path) -> (String, Vec<(usize, String)>) {
    let site = Site {
        hugo,
        front: super::hugo::front_value(text).unwrap_or(Value::Null),
        dir: hugo.dirs.get(from).map_or("", String::as_str),
    };
    let mut out = String::with_capacity(text.len());
    let mut left = Vec::new();
    let mut rest = text;
    let line_at = |rest: &str| 1 + text[..text.len() - rest.len()].matches('\n').count();
    while let Some(at) = rest.find("{{") {
        let after = &rest[at + 2..];
        let (open, close) = match after.chars().next() {
            Some('<') => ("<", ">}}"),
            Some('%') => ("%", "%}}"),
            _ => {
                out.push_str(&rest[..at + 2]);
                rest = after;
                continue;
            }
        };
        let Some(end) = after.find(close) else { break };
        let inner = &after[open.len()..end];
        let whole_end = at + 2 + end + close.len();
        // `{{</* x */>}}` is Hugo's way of showing `{{< x >}}` as text.
        if let Some(shown) = inner
            .trim()
            .strip_prefix("/*")
            .and_then(|i| i.strip_suffix("*/"))
        {
            out.push_str(&rest[..at]);
            out.push_str(&format!(
                "{{% raw %}}{{{{{open}{shown}{close}{{% endraw %}}"
            ));
            rest = &rest[whole_end..];
            continue;
        }
        let call = (!inner.trim_start().starts_with('/'))
            .then(|| Call::parse(inner))
            .flatten();
        let written = call.as_ref().and_then(|call| {
            if call.name == "highlight" {
                // The body runs to `{{< /highlight >}}`.
                let tail = &rest[whole_end..];
                let closing = tail.find("/highlight")?;
                let body_end = tail[..closing].rfind("{{")?;
                let close_end = closing + tail[closing..].find("}}")? + 2;
                let lang = call.positional.first().cloned().unwrap_or_default();
                let body = tail[..body_end].trim_matches('\n');
                return Some((format!("```{lang}\n{body}\n```"), whole_end + close_end));
            }
            builtin(call, &site).map(|html| (html, whole_end))
        });
        match written {
            Some((html, next)) => {
                out.push_str(&rest[..at]);
                out.push_str(&html);
                rest = &rest[next..];
            }
            None => {
                if let Some(call) = call {
                    left.push((line_at(&rest[at..]), call.name));
                }
                out.push_str(&rest[..whole_end]);
                rest = &rest[whole_end..];
            }
        }
    }
    out.push_str(rest);
    (out, left)
}

/// The value a shortcode template prints when that is all it does: `{{ .Site.BaseURL }}`,
/// `{{ .Site.Title }}`, `{{ .Site.Params.x.y }}` (or `site.`, `$.Site.`), whitespace trimmed
/// or not; `None` for any other template.
pub(crate) fn site_value(template: &str, config: &Value) -> Option<String> {
    let inner = template
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim_start_matches('-')
        .trim_end_matches('-')
        .trim();
    if inner.contains(['{', '}', ' ', '|']) {
        return None;
    }
    let path = ["$.Site.", ".Site.", "site.", "$.site."]
        .iter()
        .find_map(|p| inner.strip_prefix(p))?;
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let mut value = match first {
        "BaseURL" => config.get("baseURL").or(config.get("baseurl"))?,
        "Title" => config.get("title")?,
        "LanguageCode" => config.get("languageCode")?,
        "Copyright" => config.get("copyright")?,
        "Params" => config.get("params")?,
        _ => return None,
    };
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        value = lookup(value, part)?;
    }
    scalar(value)
}

/// A key of a map as Hugo finds it: as written, else in any case (Hugo lower-cases keys).
fn lookup<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.get(key).or_else(|| {
        value
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A path as Hugo's `ref` names a page: lower-cased, without leading or trailing `/`,
/// extension, `index` or `_index`.
pub(crate) fn logical(path: &str) -> String {
    let mut logical = path.trim().to_lowercase().trim_matches('/').to_string();
    for ext in [".md", ".markdown", ".html"] {
        if let Some(stem) = logical.strip_suffix(ext) {
            logical = stem.to_string();
        }
    }
    for tail in ["_index", "index"] {
        if logical == tail {
            logical.clear();
        } else if let Some(stem) = logical.strip_suffix(&format!("/{tail}")) {
            logical = stem.to_string();
        }
    }
    logical
}

/// The old URL of the page or section `target` names, as Hugo's `ref` finds it from a page in
/// the logical folder `dir`: relative to that folder first, then from the content root, then
/// by its last part where only one page has it.
fn ref_url(hugo: &Hugo, target: &str, dir: &str) -> Option<String> {
    let absolute = target.trim().starts_with('/');
    let wanted = logical(target);
    let find = |key: &str| {
        hugo.pages
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, url)| url.clone())
    };
    if !absolute && !dir.is_empty() {
        if let Some(url) = find(&format!("{dir}/{wanted}")) {
            return Some(url);
        }
    }
    if let Some(url) = find(&wanted) {
        return Some(url);
    }
    let suffix = format!("/{wanted}");
    let mut ends = hugo.pages.iter().filter(|(k, _)| k.ends_with(&suffix));
    match (ends.next(), ends.next()) {
        (Some((_, url)), None) => Some(url.clone()),
        _ => None,
    }
}

/// A self-closing built-in written out; `None` for any other shortcode.
fn builtin(call: &Call, site: &Site) -> Option<String> {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    match call.name.as_str() {
        "youtube" => {
            let id = call.arg("id", 0).filter(|id| id_ok(id))?;
            Some(format!(
                "<iframe width=\"560\" height=\"315\" src=\"https://www.youtube-nocookie.com/embed/{id}\" title=\"YouTube video\" allowfullscreen></iframe>"
            ))
        }
        "vimeo" => {
            let id = call.arg("id", 0).filter(|id| id_ok(id))?;
            Some(format!(
                "<iframe width=\"640\" height=\"360\" src=\"https://player.vimeo.com/video/{id}\" title=\"Vimeo video\" allowfullscreen></iframe>"
            ))
        }
        "figure" => {
            let named = |k: &str| call.arg(k, usize::MAX);
            let src = named("src")?;
            let alt = named("alt").or(named("title")).unwrap_or("");
            let mut html = String::from("<figure");
            if let Some(class) = named("class") {
                html.push_str(&format!(" class=\"{}\"", escape(class)));
            }
            html.push('>');
            if let Some(link) = named("link") {
                html.push_str(&format!("<a href=\"{}\">", escape(link)));
            }
            html.push_str(&format!(
                "<img src=\"{}\" alt=\"{}\"",
                escape(src),
                escape(alt)
            ));
            for size in ["width", "height"] {
                if let Some(n) = named(size).filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
                    html.push_str(&format!(" {size}=\"{n}\""));
                }
            }
            html.push('>');
            if named("link").is_some() {
                html.push_str("</a>");
            }
            let caption = named("caption").or(named("title"));
            if let Some(caption) = caption {
                html.push_str(&format!("<figcaption>{}</figcaption>", escape(caption)));
            }
            html.push_str("</figure>");
            Some(html)
        }
        "gist" => {
            let user = call.arg("user", 0)?;
            let id = call.arg("id", 1)?;
            Some(format!(
                "<a href=\"https://gist.github.com/{}/{}\">gist {}/{}</a>",
                escape(user),
                escape(id),
                escape(user),
                escape(id)
            ))
        }
        "param" => {
            // The page's own parameter first (top level or under `params`), then the site's.
            let name = call.arg("name", 0)?;
            let page_params = site.front.get("params").cloned().unwrap_or(Value::Null);
            [&site.front, &page_params, &site.hugo.params]
                .iter()
                .find_map(|root| {
                    let mut value = *root;
                    for part in name.split('.') {
                        value = lookup(value, part)?;
                    }
                    scalar(value)
                })
        }
        "ref" | "relref" => {
            let target = call.arg("path", 0)?;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, format!("#{a}")),
                None => (target, String::new()),
            };
            if path.is_empty() {
                return Some(anchor);
            }
            ref_url(site.hugo, path, site.dir).map(|url| format!("{url}{anchor}"))
        }
        name => site.hugo.values.get(name).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hugo() -> Hugo {
        Hugo {
            params: serde_json::json!({"version": "1.2", "nested": {"x": 3}}),
            pages: vec![
                ("blog/post".into(), "/blog/post/".into()),
                ("docs/languages".into(), "/docs/languages/".into()),
                ("docs/languages/go".into(), "/docs/languages/go/".into()),
                ("community".into(), "/community/".into()),
            ],
            dirs: HashMap::from([(PathBuf::from("content/docs/quick.md"), "docs".into())]),
            values: HashMap::from([("baseurl".into(), "https://old.example".into())]),
        }
    }

    #[test]
    fn builtins_written_out() {
        let text = "a {{< youtube w7Ft2ymGmfc >}} b {{< vimeo id=\"146022717\" >}}\n\
                    {{< figure src=\"/i.png\" caption=\"A <b>\" link=\"/big.png\" width=\"300\" >}} \
                    {{< param version >}} {{% param \"nested.x\" %}} \
                    [p]({{< relref \"blog/post.md#s\" >}}) \
                    {{< gist spf13 7896402 >}} {{< mine x >}} {{</* youtube x */>}}\n\
                    {{< highlight go >}}\nfunc main() {}\n{{< /highlight >}}\nend {{< baseurl >}}/x.png";
        let (out, left) = carry(text, &hugo(), Path::new("content/blog/post.md"));
        assert!(out.contains("src=\"https://www.youtube-nocookie.com/embed/w7Ft2ymGmfc\""));
        assert!(out.contains("src=\"https://player.vimeo.com/video/146022717\""));
        assert!(
            out.contains(
                "<figure><a href=\"/big.png\"><img src=\"/i.png\" alt=\"\" width=\"300\"></a>\
                 <figcaption>A &lt;b&gt;</figcaption></figure>"
            ),
            "{out}"
        );
        assert!(out.contains(" 1.2 3 [p](/blog/post/#s)"));
        assert!(out.contains("<a href=\"https://gist.github.com/spf13/7896402\">"));
        assert!(
            out.contains("{{< mine x >}} {% raw %}{{< youtube x >}}{% endraw %}"),
            "{out}"
        );
        assert!(out.contains("```go\nfunc main() {}\n```\nend"), "{out}");
        assert!(out.contains("end https://old.example/x.png"), "{out}");
        assert_eq!(left, [(2, "mine".to_string())]);
    }

    #[test]
    fn refs_as_hugo_finds_them() {
        let text = "---\ncmake-version: 3.30\nparams:\n  deep: d\n---\n\
                    [a]({{< relref \"languages\" >}}) [b]({{<relref \"Community\">}}) \
                    [c]({{< ref \"/docs/languages/go/_index.md\" >}}) [d]({{< relref go >}}) \
                    {{< param cmake-version >}} {{< param deep >}} {{< ref nowhere >}}";
        let (out, left) = carry(text, &hugo(), Path::new("content/docs/quick.md"));
        assert!(
            out.contains("[a](/docs/languages/) [b](/community/) [c](/docs/languages/go/) [d](/docs/languages/go/) 3.3 d"),
            "{out}"
        );
        assert_eq!(left, [(6, "ref".to_string())]);
    }

    #[test]
    fn templates_printing_a_site_value() {
        let config =
            serde_json::json!({"baseURL": "https://e.org/", "params": {"Logo": {"src": "/l.png"}}});
        assert_eq!(
            site_value("{{ .Site.BaseURL }}\n", &config).as_deref(),
            Some("https://e.org/")
        );
        assert_eq!(
            site_value("{{- site.Params.logo.src -}}", &config).as_deref(),
            Some("/l.png")
        );
        assert_eq!(site_value("<b>{{ .Site.BaseURL }}</b>", &config), None);
        assert_eq!(site_value("{{ .Site.BaseURL | absURL }}", &config), None);
        assert_eq!(site_value("{{ .Get 0 }}", &config), None);
    }
}
