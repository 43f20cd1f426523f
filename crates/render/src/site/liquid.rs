//! Other generators' template syntax in a post body, before it is rendered as Markdown.
//!
//! The part of Liquid that Jekyll posts use is carried out: `{% raw %}` (kept as written),
//! `{% highlight LANG %}` (a fenced code block), `{{ site.url }}`, `{{ site.baseurl }}`,
//! `{{ page.title }}`, `{{ '/PATH' | relative_url }}` (and `absolute_url`), and links to other posts and pages, `{% post_url NAME %}`,
//! `{% link PATH %}` and Zola's `@/PATH.md`. Those links cannot be resolved until every post is
//! loaded, so they become [`marker`]s that `build` replaces with the target's URL.
//!
//! Any other `{% %}`, `{{ }}`, Hugo `{{< >}}` / `{{% %}}` shortcode or Zola shortcode call left
//! outside code is reported with its line, since it would show as raw text on the page.

use std::fmt::Write as _;

/// What [`process`] needs from the site and the post.
#[derive(Debug, Clone, Copy)]
pub(super) struct Values<'a> {
    /// `{{ site.url }}`.
    pub site_url: &'a str,
    /// `{{ page.title }}`.
    pub title: &'a str,
}

/// A body with the known syntax carried out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Processed {
    /// The Markdown to render.
    pub text: String,
    /// Links to resolve: the reference (`post:NAME`, `link:PATH`, `zola:PATH`) and its line
    /// (1-based within the body).
    pub links: Vec<(String, usize)>,
    /// Syntax left as it is: line (1-based within the body) and what it is.
    pub leftovers: Vec<(usize, String)>,
}

/// The text standing for an unresolved link `reference` in the HTML: URL-safe, so Markdown keeps
/// it byte for byte in an `href`.
pub(super) fn marker(reference: &str) -> String {
    let mut out = String::from(MARKER_PREFIX);
    for b in reference.bytes() {
        let _ = write!(out, "{b:02x}");
    }
    out.push(';');
    out
}

/// The marker prefix, for finding markers in rendered HTML.
const MARKER_PREFIX: &str = "forkblog-link:";

/// Carries out the known syntax of `body` and lists the rest.
pub(super) fn process(body: &str, values: &Values) -> Processed {
    let mut out = Processed {
        text: String::with_capacity(body.len()),
        ..Processed::default()
    };
    let mut fence: Option<(char, usize)> = None;
    let mut rest = body;
    let mut line = 1usize;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
        let current = &rest[..end];
        let trimmed = current.trim_start();
        // Fenced code is left alone, and so is indented code.
        if let Some((c, n)) = fence {
            out.text.push_str(current);
            let run = trimmed.chars().take_while(|&x| x == c).count();
            if run >= n && trimmed[run * c.len_utf8()..].trim().is_empty() {
                fence = None;
            }
            rest = &rest[end..];
            line += 1;
            continue;
        }
        let opener = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(c) = opener {
            let run = trimmed.chars().take_while(|&x| x == c).count();
            if run >= 3 {
                fence = Some((c, run));
                out.text.push_str(current);
                rest = &rest[end..];
                line += 1;
                continue;
            }
        }
        if current.starts_with("    ") || current.starts_with('\t') {
            out.text.push_str(current);
            rest = &rest[end..];
            line += 1;
            continue;
        }
        // A tag may run over several lines ({% raw %} ... {% endraw %}, highlight blocks).
        let consumed = scan_line(rest, end, line, values, &mut out);
        line += memchr::memchr_iter(b'\n', &rest.as_bytes()[..consumed]).count();
        rest = &rest[consumed..];
    }
    out
}

/// Handles the text from the start of `rest` to the end of its first line (`end`), or further
/// when a block tag opened on it runs on; returns how many bytes were used.
fn scan_line(rest: &str, end: usize, line: usize, values: &Values, out: &mut Processed) -> usize {
    let mut at = 0;
    while at < end {
        let here = &rest[at..end];
        let Some(offset) = next_mark(here) else {
            out.text.push_str(here);
            return end;
        };
        out.text.push_str(&here[..offset]);
        at += offset;
        let here = &rest[at..];
        // `at` is still on the first line (before `end`), so this is its line.
        let line_here = line;
        if here.starts_with('`') {
            // An inline code span: copied as it is. It closes at the next run of as many
            // backticks (here's own opening run is that text).
            let run = here.bytes().take_while(|&c| c == b'`').count();
            let inside = &here.as_bytes()[run..end - at];
            let closing = match run {
                1 => memchr::memchr(b'`', inside),
                _ => memchr::memmem::find(inside, &here.as_bytes()[..run]),
            };
            let span_end = closing.map_or(run, |i| run + i + run);
            out.text.push_str(&here[..span_end]);
            at += span_end;
            continue;
        }
        if let Some(link) = here
            .strip_prefix("](@/")
            .map(|l| ("](", l))
            .or(here.strip_prefix("]: @/").map(|l| ("]: ", l)))
        {
            let (lead, after) = link;
            let stop = after.find([')', '#', ' ', '\n']).unwrap_or(after.len());
            let path = &after[..stop];
            out.links.push((format!("zola:{path}"), line_here));
            out.text.push_str(lead);
            out.text.push_str(&marker(&format!("zola:{path}")));
            at += here.len() - after.len() + stop;
            continue;
        }
        if is_percent_escape(&rest[..at], here) {
            // `{%22` in a URL: a `{` before an escaped character, which no Liquid tag name
            // starts with (Liquid itself would refuse it as an unknown tag).
            out.text.push_str("{%");
            at += 2;
            continue;
        }
        let (open, close) = if here.starts_with("{%") {
            ("{%", "%}")
        } else {
            ("{{", "}}")
        };
        // The closing mark is looked for after the opening one: `{%}` is not a tag.
        let Some(close_at) = here[2..].find(close).map(|i| i + 2) else {
            out.leftovers
                .push((line_here, format!("unclosed `{open}`")));
            out.text.push_str(open);
            at += 2;
            continue;
        };
        let inner = here[2..close_at].trim_matches(|c: char| c == '-' || c.is_whitespace());
        let tag_end = close_at + 2;
        let words: Vec<&str> = inner.split_whitespace().collect();
        if open == "{%" {
            match words.first().copied() {
                Some("raw") => {
                    let body = &here[tag_end..];
                    let (kept, used) = match find_tag(body, "endraw") {
                        Some((start, stop)) => (&body[..start], stop),
                        None => (body, body.len()),
                    };
                    out.text.push_str(kept);
                    return at + tag_end + used;
                }
                Some("highlight") => {
                    let lang = words.get(1).copied().unwrap_or("");
                    let body = &here[tag_end..];
                    let (code, used) = match find_tag(body, "endhighlight") {
                        Some((start, stop)) => (&body[..start], stop),
                        None => {
                            out.leftovers
                                .push((line_here, "`{% highlight %}` never closed".into()));
                            (body, body.len())
                        }
                    };
                    let code = code.strip_prefix('\n').unwrap_or(code);
                    let code = code.strip_prefix("\r\n").unwrap_or(code);
                    let longest = longest_run(code, '`');
                    let fence = "`".repeat(longest.max(2) + 1);
                    if !out.text.is_empty() && !out.text.ends_with('\n') {
                        out.text.push('\n');
                    }
                    let _ = write!(out.text, "{fence}{lang}\n{code}");
                    if !code.ends_with('\n') {
                        out.text.push('\n');
                    }
                    out.text.push_str(&fence);
                    out.text.push('\n');
                    let mut used = tag_end + used;
                    // The rest of the closing tag's line, if only whitespace.
                    let tail = &here[used..];
                    let tail_end = tail.find('\n').map_or(tail.len(), |i| i + 1);
                    if tail[..tail_end].trim().is_empty() {
                        used += tail_end;
                    }
                    return at + used;
                }
                Some(kind @ ("post_url" | "link")) if words.len() == 2 => {
                    let key = format!(
                        "{}:{}",
                        if kind == "post_url" { "post" } else { "link" },
                        words[1]
                    );
                    out.text.push_str(&marker(&key));
                    out.links.push((key, line_here));
                }
                _ => {
                    out.leftovers.push((
                        line_here,
                        format!("template tag `{}` left as it is", short(&here[..tag_end])),
                    ));
                    out.text.push_str(&here[..tag_end]);
                }
            }
        } else {
            match inner {
                "site.url" => out.text.push_str(values.site_url),
                "site.baseurl" | "site.base_url" => {}
                "page.title" => out.text.push_str(values.title),
                _ => match url_filter(inner, values) {
                    Some(url) => out.text.push_str(&url),
                    None => {
                        let what = if inner.starts_with('<') || inner.starts_with('%') {
                            "shortcode"
                        } else if inner.contains('(') {
                            "shortcode call"
                        } else {
                            "template expression"
                        };
                        out.leftovers.push((
                            line_here,
                            format!("{what} `{}` left as it is", short(&here[..tag_end])),
                        ));
                        out.text.push_str(&here[..tag_end]);
                    }
                },
            }
        }
        at += tag_end;
        if at > end {
            return at;
        }
    }
    end
}

/// Where in `here` the first piece of syntax [`scan_line`] handles starts: `{%`, `{{`, a
/// backtick, `](@/` or `]: @/`. One pass over the bytes that can start one, instead of a
/// search per kind over the whole line each time (a line with many code spans was searched
/// again from each span).
fn next_mark(here: &str) -> Option<usize> {
    let bytes = here.as_bytes();
    memchr::memchr3_iter(b'{', b'`', b']', bytes).find(|&i| {
        let after = &bytes[i + 1..];
        match bytes[i] {
            b'{' => after.starts_with(b"%") || after.starts_with(b"{"),
            b'`' => true,
            _ => after.starts_with(b"(@/") || after.starts_with(b": @/"),
        }
    })
}

/// `'/PATH' | relative_url` (or `absolute_url`, or `prepend: site.baseurl`), Jekyll's ways of
/// writing a link under the site's `baseurl`: the path as the site writes it (forkblog puts
/// root-relative links under `base_url`'s path itself), or with `absolute_url` the path after
/// the site's URL (which holds that path). `None` for any other expression.
fn url_filter(inner: &str, values: &Values) -> Option<String> {
    let mut parts = inner.split('|').map(str::trim);
    let literal = parts.next()?;
    let quote = literal.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let path = literal.strip_prefix(quote)?.strip_suffix(quote)?;
    if path.contains(['\'', '"']) {
        return None;
    }
    let mut absolute = false;
    let mut any = false;
    for filter in parts {
        match filter.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["relative_url"] | ["prepend:", "site.baseurl"] => {}
            ["absolute_url"] => absolute = true,
            _ => return None,
        }
        any = true;
    }
    if !any {
        return None;
    }
    let path = match path.starts_with('/') || path.contains("://") {
        true => path.to_string(),
        false => format!("/{path}"),
    };
    Some(match absolute && !path.contains("://") {
        true => format!("{}{path}", values.site_url.trim_end_matches('/')),
        false => path,
    })
}

/// Whether the `{%` that `here` starts with (`before` is the text before it on its line) is a
/// `{` followed by a percent escape inside a URL, `...?c={%22a%22:1}`: two hex digits follow,
/// and the `{` is not preceded by whitespace.
fn is_percent_escape(before: &str, here: &str) -> bool {
    let hex = here
        .as_bytes()
        .get(2..4)
        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
    let in_word = before
        .chars()
        .next_back()
        .is_some_and(|c| !c.is_whitespace());
    hex && here.starts_with("{%") && in_word
}

/// The start of `{% NAME %}` in `text` and the offset just past it.
fn find_tag(text: &str, name: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("{%") {
        let start = from + i;
        let close = text[start + 2..].find("%}")? + start + 2;
        let inner = text[start + 2..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner == name {
            return Some((start, close + 2));
        }
        from = close + 2;
    }
    None
}

fn longest_run(text: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for x in text.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A tag shortened for a message.
fn short(tag: &str) -> String {
    let one_line: String = tag.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(body: &str) -> Processed {
        process(
            body,
            &Values {
                site_url: "https://b.example",
                title: "T <1>",
            },
        )
    }

    #[test]
    fn known_syntax() {
        let p = run("# {{ page.title }}\n\n![x]({{ site.baseurl }}/a.png) {{site.url}}/b\n");
        assert_eq!(p.text, "# T <1>\n\n![x](/a.png) https://b.example/b\n");
        assert!(p.leftovers.is_empty());
        let p = run("a\n{% highlight ruby linenos %}\n> p(\"a\")\n{% endhighlight %}\nb\n");
        assert_eq!(p.text, "a\n```ruby\n> p(\"a\")\n```\nb\n");
        let p = run("x {% raw %}{{ kept }} {% if %}{% endraw %} y\n{{ bad }}\n");
        assert_eq!(p.text, "x {{ kept }} {% if %} y\n{{ bad }}\n");
        assert_eq!(p.leftovers.len(), 1);
        assert_eq!(p.leftovers[0].0, 2);
    }

    #[test]
    fn links_become_markers() {
        let p = run("[a]({% post_url 2010-07-21-name %}) [b](@/blog/a.md#top)\n[c]: @/c.md\n");
        assert_eq!(
            p.links,
            [
                ("post:2010-07-21-name".to_string(), 1),
                ("zola:blog/a.md".to_string(), 1),
                ("zola:c.md".to_string(), 2)
            ]
        );
        assert!(
            p.text
                .contains(&format!("[b]({}#top)", marker("zola:blog/a.md"))),
            "{}",
            p.text
        );
    }

    #[test]
    fn jekylls_url_filters_give_the_path_the_site_writes() {
        let p = run(
            "[a]({{ '/about/' | relative_url }}) [b]({{ \"img/x.png\" | absolute_url }}) \
                     [c]({{ '/c/' | prepend: site.baseurl }}) {{ 'x' | upcase }} {{ 'y' }}\n",
        );
        assert_eq!(
            p.text,
            "[a](/about/) [b](https://b.example/img/x.png) [c](/c/) {{ 'x' | upcase }} {{ 'y' }}\n"
        );
        assert_eq!(p.leftovers.len(), 2, "{:?}", p.leftovers);
    }

    #[test]
    fn a_percent_escape_after_a_brace_in_a_url_is_no_tag() {
        let body = "![chart](https://img.example/c?c={%22type%22:%22bar%22})\n[q](/s?q={%7Bx})\n";
        let p = run(body);
        assert!(p.leftovers.is_empty(), "{:?}", p.leftovers);
        assert_eq!(p.text, body);
        // A tag is still one, and an unclosed one is still said.
        assert_eq!(run("a {% if x %} b\n").leftovers.len(), 1);
        assert_eq!(run("a {%22 b\n").leftovers.len(), 1, "not in a URL");
        assert_eq!(run("{%22\n").leftovers.len(), 1, "nothing before it");
    }

    #[test]
    fn leftovers_outside_code_only() {
        let p = run("`{{ code }}`\n```\n{% for %}\n```\n    {{ indented }}\n{{< plotly json=\"x\" >}}\n{{% note %}}\n{{ admonition(type=\"x\") }}\n{% include x.html %}\n");
        let lines: Vec<usize> = p.leftovers.iter().map(|l| l.0).collect();
        assert_eq!(lines, [6, 7, 8, 9], "{:?}", p.leftovers);
        assert!(p.leftovers[0].1.contains("shortcode"));
        assert_eq!(p.text, "`{{ code }}`\n```\n{% for %}\n```\n    {{ indented }}\n{{< plotly json=\"x\" >}}\n{{% note %}}\n{{ admonition(type=\"x\") }}\n{% include x.html %}\n");
    }

    #[test]
    fn random_mutations_never_panic() {
        let seed = "# {{ page.title }}\n{% highlight rb %}\nx `y`\n{% endhighlight %}\n[a](@/b.md#c) {% raw %}{{x}}{% endraw %} `{{ y }}`\n```\n{%\n```\n{{< s >}} é\n";
        let alphabet: &[u8] = b"{}%`<>#@/]()[: \n~-ae";
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5_000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..(1 + next() % 5) {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let _ = run(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn next_mark_is_the_first_of_every_kind() {
        let alphabet: &[u8] = b"{}%`]()@/: \nx";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let text: String = (0..len)
                .map(|k| {
                    alphabet[((state >> (5 * k + 4)) % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let expected = ["{%", "{{", "`", "](@/", "]: @/"]
                .iter()
                .filter_map(|m| text.find(m))
                .min();
            assert_eq!(next_mark(&text), expected, "{text:?}");
        }
    }

    #[test]
    fn code_spans_close_at_the_same_run() {
        let p = run("a ``x ` y`` {{ z }} `{{ w }}` ```v``` {% q %}\n");
        let lines: Vec<&str> = p.leftovers.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("{{ z }}") && lines[1].contains("{% q %}"));
        assert_eq!(p.text, "a ``x ` y`` {{ z }} `{{ w }}` ```v``` {% q %}\n");
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "{%",
            "{{",
            "{% raw %}",
            "{% highlight %}",
            "`",
            "](@/",
            "{% endraw %}",
            "{{ é",
            "é{%é%}é",
            "```\n{{",
            "{% highlight x %}\n```\n{% endhighlight %}",
        ] {
            let _ = run(s);
        }
    }
}
