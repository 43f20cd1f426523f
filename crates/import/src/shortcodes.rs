//! Hugo's built-in shortcodes written out when a post is carried over, so the moved post shows
//! what the old site showed: `youtube` and `vimeo` as player embeds (kept by the sanitiser),
//! `figure` as a figure, `gist` as a link, `param` as the value, `highlight` as a fenced code
//! block, `ref` / `relref` as the path of the page named. Any other shortcode is left as it is
//! (and `check` names it); `{{</* x */>}}`, Hugo's way of writing one literally, too.

use serde_json::Value;

/// What a shortcode call needs from the site: its params and how to find another page's URL.
pub(crate) struct Site<'a> {
    /// `[params]` of the site's settings.
    pub params: &'a Value,
    /// The old URL of a content file named as `ref` names it (`blog/post.md`, `post`).
    pub url_of: &'a dyn Fn(&str) -> Option<String>,
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

/// `text` with Hugo's built-in shortcodes written out.
pub(crate) fn hugo_builtins(text: &str, site: &Site) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
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
        let call = (!inner.trim_start().starts_with(['/', '*']))
            .then(|| Call::parse(inner))
            .flatten();
        let written = call.and_then(|call| {
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
            builtin(&call, site).map(|html| (html, whole_end))
        });
        match written {
            Some((html, next)) => {
                out.push_str(&rest[..at]);
                out.push_str(&html);
                rest = &rest[next..];
            }
            None => {
                out.push_str(&rest[..whole_end]);
                rest = &rest[whole_end..];
            }
        }
    }
    out.push_str(rest);
    out
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
            let src = call.arg("src", usize::MAX)?;
            let alt = call
                .arg("alt", usize::MAX)
                .or(call.arg("title", usize::MAX))
                .unwrap_or("");
            let mut html = format!(
                "<figure><img src=\"{}\" alt=\"{}\">",
                escape(src),
                escape(alt)
            );
            let caption = call
                .arg("caption", usize::MAX)
                .or(call.arg("title", usize::MAX));
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
            let name = call.arg("name", 0)?;
            let mut value = site.params;
            for part in name.split('.') {
                value = value.get(part)?;
            }
            Some(match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
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
            (site.url_of)(path).map(|url| format!("{url}{anchor}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_written_out() {
        let params = serde_json::json!({"version": "1.2", "nested": {"x": 3}});
        let url_of = |p: &str| (p == "blog/post.md").then(|| "/blog/post/".to_string());
        let site = Site {
            params: &params,
            url_of: &url_of,
        };
        let text = "a {{< youtube w7Ft2ymGmfc >}} b {{< vimeo id=\"146022717\" >}}\n\
                    {{< figure src=\"/i.png\" caption=\"A <b>\" >}} {{< param version >}} \
                    {{% param \"nested.x\" %}} [p]({{< relref \"blog/post.md#s\" >}}) \
                    {{< gist spf13 7896402 >}} {{< mine x >}} {{</* youtube x */>}}\n\
                    {{< highlight go >}}\nfunc main() {}\n{{< /highlight >}}\nend";
        let out = hugo_builtins(text, &site);
        assert!(out.contains("src=\"https://www.youtube-nocookie.com/embed/w7Ft2ymGmfc\""));
        assert!(out.contains("src=\"https://player.vimeo.com/video/146022717\""));
        assert!(out.contains(
            "<figure><img src=\"/i.png\" alt=\"\"><figcaption>A &lt;b&gt;</figcaption></figure>"
        ));
        assert!(out.contains(" 1.2 3 [p](/blog/post/#s)"));
        assert!(out.contains("<a href=\"https://gist.github.com/spf13/7896402\">"));
        assert!(out.contains("{{< mine x >}} {{</* youtube x */>}}"));
        assert!(out.contains("```go\nfunc main() {}\n```\nend"), "{out}");
    }
}
