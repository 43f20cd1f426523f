//! Shortcodes, in Zola's syntax: a template `templates/shortcodes/NAME.html` (or `NAME.md`)
//! called from a post as `{{ NAME(key=value, ...) }}`, or with a body as
//! `{% NAME(key=value) %}body{% end %}`. Templates are minijinja, which reads most of Tera
//! (Zola's engine) as written; the Tera filters shortcodes use most that minijinja lacks or
//! spells differently (`markdown`, `replace(from=, to=)`, `default(value=)`, ...) are added.
//!
//! A template gets its arguments (strings in `"`, `'` or backticks, integers, floats, `true` /
//! `false`, arrays of those), `body` for a call with a body (as written, without the newline
//! after the opening tag and before `{% end %}`), `nth` (the how-manieth call of that
//! shortcode in the post, from 1), `page` (`title`, `path`, `permalink`, `slug`, `date`),
//! `config` (`base_url`, `title`, `description`, `author`, `default_language`) and `lang`;
//! `page`, `config` and `lang` win over arguments of the same name, as in Zola.
//!
//! An `.md` shortcode's output is Markdown, rendered with the post. An `.html` shortcode's
//! output is HTML put into the rendered post as it is (a placeholder stands for it while the
//! Markdown is rendered), outside any paragraph when it is a block of its own; it goes through
//! the sanitiser with the rest of the post unless the site sets `unsafe_html = true`.
//!
//! Calls inside fenced or indented code and inline code spans are text. `{{/* x() */}}` and
//! `{%/* x() */%}` write `{{ x() }}` and `{% x() %}` literally. A call of a shortcode with no
//! template, or with arguments that cannot be read, stays as written and is a warning; a
//! template that fails to render is an error ([`ERROR`]); both name the post's line.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::files::SiteFiles;
use super::Problem;

/// The folder of shortcode templates under `templates/`.
pub const DIR: &str = "shortcodes";

/// Opens a leftover (see [`super::post::Post::leftovers`]) that is an error, not a warning.
pub const ERROR: &str = "\u{1}error\u{1}";

/// The site's shortcode templates.
pub struct Shortcodes {
    env: Environment<'static>,
    /// Each shortcode's template name (`shortcodes/NAME.html`) and whether it writes HTML.
    known: HashMap<String, (String, bool)>,
    /// `config` in templates.
    config: Value,
    /// The site's `base_url`, for `page.permalink`.
    base_url: String,
    /// The hash of the templates (names and text): an edit renders every post again.
    pub fingerprint: u64,
}

impl std::fmt::Debug for Shortcodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shortcodes")
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

/// The site settings templates see as `config`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SiteValues<'a> {
    /// `base_url`.
    pub base_url: &'a str,
    /// `title`.
    pub title: &'a str,
    /// `description`.
    pub description: &'a str,
    /// `author`.
    pub author: &'a str,
    /// `language` (Zola's `default_language`).
    pub language: &'a str,
}

/// What templates see as `page`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageValues<'a> {
    /// The title from front matter ("" when the first heading gives it).
    pub title: &'a str,
    /// The decoded URL path.
    pub path: &'a str,
    /// The URL name.
    pub slug: &'a str,
    /// `YYYY-MM-DD`.
    pub date: &'a str,
    /// The translation's language, else the site's.
    pub lang: &'a str,
}

/// Loads `templates_dir/shortcodes/` (which may be absent). Templates that cannot be read or
/// compiled are reported.
pub fn load(
    files: &SiteFiles,
    templates_dir: &Path,
    site: SiteValues,
) -> Result<Shortcodes, Vec<Problem>> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(false);
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_formatter(super::templates::html_formatter);
    add_tera_helpers(&mut env, site.base_url);
    let dir = templates_dir.join(DIR);
    let mut problems = Vec::new();
    let mut known = HashMap::new();
    let mut fingerprint = super::incremental::Key::new("shortcodes");
    if dir.is_dir() {
        let mut found = files.walk(&dir, &mut problems);
        found.sort();
        for file in found {
            let Some(rel) = super::assets::url_tail(&dir, &file) else {
                continue;
            };
            let Some((name, ext)) = rel.rsplit_once('.') else {
                continue;
            };
            let html = ext == "html";
            if !(html || ext == "md") || !is_name(name) {
                continue;
            }
            // Zola's own rule when both exist is not written down: the HTML one is taken.
            if known.get(name).is_some_and(|(_, h)| *h) {
                continue;
            }
            let source = match files.read(&file).and_then(|read| {
                String::from_utf8(read.bytes).map_err(|_| std::io::Error::other("not UTF-8 text"))
            }) {
                Ok(source) => source,
                Err(e) => {
                    problems.push(Problem {
                        file: file.clone(),
                        line: None,
                        message: format!("cannot read shortcode template: {e}"),
                    });
                    continue;
                }
            };
            fingerprint
                .bytes(rel.as_bytes())
                .word(super::incremental::hash(source.as_bytes()));
            let template = format!("{DIR}/{rel}");
            if let Err(e) = env.add_template_owned(template.clone(), source) {
                problems.push(Problem {
                    file,
                    line: e.line(),
                    message: super::templates::describe(&e),
                });
                continue;
            }
            known.insert(name.to_string(), (template, html));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let config = minijinja::context! {
        base_url => site.base_url,
        title => site.title,
        description => site.description,
        author => site.author,
        default_language => site.language,
        extra => Value::from(HashMap::<String, Value>::new()),
    };
    Ok(Shortcodes {
        env,
        known,
        config,
        base_url: site.base_url.trim_end_matches('/').to_string(),
        fingerprint: fingerprint.finish(),
    })
}

/// A body with its shortcode calls carried out.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The Markdown to render: HTML shortcodes stand as placeholders in it.
    pub text: String,
    /// The HTML of each placeholder, in order.
    html: Vec<String>,
    /// What went wrong: line in the body (1-based) and message (see [`ERROR`]).
    pub problems: Vec<(usize, String)>,
    /// (line in `text`, line in the body) where the two stop running in step.
    lines: Vec<(usize, usize)>,
}

/// The placeholder of the `n`th HTML output: letters and digits, which Markdown leaves alone.
fn placeholder(n: usize) -> String {
    format!("zzforkblogshortcode{n}zz")
}

impl Expanded {
    /// The body line that line `line` of [`Expanded::text`] came from.
    pub fn source_line(&self, line: usize) -> usize {
        match self.lines.iter().rev().find(|(out, _)| *out <= line) {
            Some((out, src)) => src + (line - out),
            None => line,
        }
    }

    /// Whether any HTML shortcode was written (the post then needs the sanitiser's look).
    pub fn has_html(&self) -> bool {
        !self.html.is_empty()
    }

    /// The rendered post with each placeholder replaced by its HTML: a placeholder that is a
    /// paragraph of its own loses the paragraph when its HTML is a block.
    pub fn fill(&self, rendered: &str) -> String {
        let mut out = rendered.to_string();
        for (n, html) in self.html.iter().enumerate() {
            let mark = placeholder(n);
            let alone = format!("<p>{mark}</p>");
            if is_block(html) && out.contains(&alone) {
                out = out.replacen(&alone, html.trim(), 1);
            } else {
                out = out.replacen(&mark, html, 1);
            }
        }
        out
    }

    /// `text` (a title or summary taken from the rendered post) without placeholders.
    pub fn strip(&self, text: &str) -> String {
        let mut out = text.to_string();
        for n in 0..self.html.len() {
            out = out.replace(&placeholder(n), "");
        }
        out
    }
}

/// Whether `html` opens with a block element (then it is not put inside a paragraph).
fn is_block(html: &str) -> bool {
    const INLINE: &[&str] = &[
        "a", "abbr", "b", "br", "cite", "code", "em", "i", "img", "kbd", "mark", "q", "s", "small",
        "span", "strong", "sub", "sup", "time", "u", "input", "label",
    ];
    let Some(tag) = html.trim_start().strip_prefix('<') else {
        return false;
    };
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    tag.starts_with('!') || (!name.is_empty() && !INLINE.contains(&name.as_str()))
}

/// The output being written, with its line count kept.
struct Out {
    text: String,
    line: usize,
}

impl Out {
    fn push(&mut self, s: &str) {
        self.line += memchr::memchr_iter(b'\n', s.as_bytes()).count();
        self.text.push_str(s);
    }
}

impl Shortcodes {
    /// Whether the site has no shortcode templates.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Carries out the shortcode calls in `body` (a post's Markdown after its front matter).
    pub fn expand(&self, body: &str, page: &PageValues) -> Expanded {
        let mut expanded = Expanded::default();
        if memchr::memchr(b'{', body.as_bytes()).is_none() {
            expanded.text = body.to_string();
            return expanded;
        }
        let page_value = minijinja::context! {
            title => page.title,
            path => page.path,
            permalink => format!("{}{}", self.base_url, page.path),
            slug => page.slug,
            date => page.date,
            lang => page.lang,
        };
        let mut run = Run {
            shortcodes: self,
            page: page_value,
            lang: page.lang,
            nth: HashMap::new(),
            out: Out {
                text: String::with_capacity(body.len()),
                line: 1,
            },
            expanded: &mut expanded,
        };
        run.body(body);
        let Run { out, .. } = run;
        expanded.text = out.text;
        expanded
    }
}

/// One body being expanded.
struct Run<'a> {
    shortcodes: &'a Shortcodes,
    page: Value,
    lang: &'a str,
    nth: HashMap<String, usize>,
    out: Out,
    expanded: &'a mut Expanded,
}

impl Run<'_> {
    fn body(&mut self, body: &str) {
        let mut fence: Option<(u8, usize)> = None;
        let mut rest = body;
        let mut line = 1usize;
        while !rest.is_empty() {
            let end = memchr::memchr(b'\n', rest.as_bytes()).map_or(rest.len(), |i| i + 1);
            let current = &rest[..end];
            let trimmed = current.trim_start();
            let run_of = |c: u8| trimmed.bytes().take_while(|&x| x == c).count();
            // Code is text: fenced blocks, indented lines.
            if let Some((c, n)) = fence {
                let run = run_of(c);
                if run >= n && trimmed[run..].trim().is_empty() {
                    fence = None;
                }
            } else if let Some(c) = trimmed.bytes().next().filter(|c| *c == b'`' || *c == b'~') {
                if run_of(c) >= 3 {
                    fence = Some((c, run_of(c)));
                }
            }
            let code = fence.is_some()
                || current.starts_with("    ")
                || current.starts_with('\t')
                || trimmed.starts_with("```")
                || trimmed.starts_with("~~~");
            if code || !current.contains('{') {
                self.out.push(current);
                rest = &rest[end..];
                line += 1;
                continue;
            }
            let used = self.line(rest, end, line);
            line += memchr::memchr_iter(b'\n', &rest.as_bytes()[..used]).count();
            rest = &rest[used..];
            if used > end {
                // A call ran over several lines: the output's lines and the body's part here.
                self.expanded.lines.push((self.out.line, line));
            }
        }
    }

    /// Handles `rest` up to the end of its first line (`end`), or further when a call opened
    /// on it runs on; returns how many bytes were used.
    fn line(&mut self, rest: &str, end: usize, line: usize) -> usize {
        let mut at = 0;
        while at < end {
            let here = &rest[at..end];
            let Some(offset) = memchr::memchr2(b'{', b'`', here.as_bytes()) else {
                self.out.push(here);
                return end;
            };
            self.out.push(&here[..offset]);
            at += offset;
            let here = &rest[at..];
            if here.starts_with('`') {
                // An inline code span, up to the next run of as many backticks.
                let run = here.bytes().take_while(|&c| c == b'`').count();
                let inside = &here.as_bytes()[run..end - at];
                let closing = memchr::memmem::find(inside, &here.as_bytes()[..run]);
                let span = closing.map_or(run, |i| run + i + run);
                self.out.push(&here[..span]);
                at += span;
                continue;
            }
            let used = self.mark(here, line);
            at += used;
            if at > end {
                return at;
            }
        }
        end
    }

    /// Handles what starts at `here` (a `{`): a shortcode call, an escaped one, or just text.
    /// Returns how many bytes were used.
    fn mark(&mut self, here: &str, line: usize) -> usize {
        let (close, with_body) = if here.starts_with("{{") {
            ("}}", false)
        } else if here.starts_with("{%") {
            ("%}", true)
        } else {
            self.out.push("{");
            return 1;
        };
        // `{{/* x() */}}`: written as `{{ x() }}`, kept from the Liquid pass as raw text.
        if here[2..].starts_with("/*") {
            let closing = format!("*/{close}");
            if let Some(stop) = here[4..].find(&closing).map(|i| i + 4) {
                let inner = &here[4..stop];
                self.out.push("{% raw %}");
                self.out.push(&here[..2]);
                self.out.push(inner);
                self.out.push(close);
                self.out.push("{% endraw %}");
                return stop + closing.len();
            }
        }
        let Some(call) = parse_call(here, close) else {
            self.out.push(&here[..2]);
            return 2;
        };
        let whole = &here[..call.end];
        let (body, used) = if with_body {
            match find_end(&here[call.end..]) {
                Some((start, stop)) => (Some(&here[call.end..call.end + start]), call.end + stop),
                None => {
                    self.problem(
                        line,
                        format!(
                            "shortcode `{}` is opened with `{{% {}(...) %}}` but never closed \
                             with `{{% end %}}`",
                            call.name, call.name
                        ),
                    );
                    self.raw(whole);
                    return call.end;
                }
            }
        } else {
            (None, call.end)
        };
        let written = &here[..used];
        let Some((template, html)) = self.shortcodes.known.get(call.name) else {
            if call.args.is_err() && !with_body {
                // Not a shortcode call as Zola writes one: the Liquid pass tells what it is.
                self.out.push(written);
                return used;
            }
            self.problem(
                line,
                format!(
                    "shortcode `{}` has no template (templates/{DIR}/{}.html or .md)",
                    call.name, call.name
                ),
            );
            self.raw(written);
            return used;
        };
        let args = match call.args {
            Ok(args) => args,
            Err(at) => {
                self.problem(
                    line,
                    format!(
                        "shortcode `{}`: its arguments cannot be read (at `{}`)",
                        call.name,
                        super::markdown::shorten(
                            &at.split_whitespace().collect::<Vec<_>>().join(" "),
                            40
                        )
                    ),
                );
                self.raw(written);
                return used;
            }
        };
        let nth = {
            let n = self.nth.entry(call.name.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let mut context: HashMap<String, Value> = args.into_iter().collect();
        if let Some(body) = body {
            let body = body.strip_prefix("\r\n").or(body.strip_prefix('\n'));
            let body = body.unwrap_or_default();
            let body = body
                .strip_suffix("\r\n")
                .or(body.strip_suffix('\n'))
                .unwrap_or(body);
            context.insert("body".into(), Value::from(body));
        }
        context.insert("nth".into(), Value::from(nth));
        context.insert("page".into(), self.page.clone());
        context.insert("config".into(), self.shortcodes.config.clone());
        context.insert("lang".into(), Value::from(self.lang));
        let rendered = self
            .shortcodes
            .env
            .get_template(template)
            .and_then(|t| t.render(Value::from(context)));
        match rendered {
            Ok(output) if *html => {
                let n = self.expanded.html.len();
                self.expanded.html.push(output);
                self.out.push(&placeholder(n));
            }
            Ok(output) => self.out.push(&output),
            Err(e) => {
                let mut message = format!(
                    "{ERROR}shortcode `{}` cannot render: templates/{template}",
                    call.name
                );
                if let Some(at) = e.line() {
                    let _ = write!(message, ":{at}");
                }
                let _ = write!(message, ": {}", super::templates::describe(&e));
                self.expanded.problems.push((line, message));
                self.raw(written);
            }
        }
        used
    }

    fn problem(&mut self, line: usize, message: String) {
        self.expanded.problems.push((line, message));
    }

    /// `text` kept as written, hidden from the Liquid pass (its problem is already told).
    fn raw(&mut self, text: &str) {
        if text.contains("{% endraw") || text.contains("{%endraw") {
            self.out.push(text);
        } else {
            self.out.push("{% raw %}");
            self.out.push(text);
            self.out.push("{% endraw %}");
        }
    }
}

/// A call read from the text: name, arguments (or where they stop making sense), and where
/// the call's closing mark ends.
struct Call<'t> {
    name: &'t str,
    args: Result<Vec<(String, Value)>, &'t str>,
    end: usize,
}

/// The longest call read, in bytes: past it, a `{{ x(` is text.
const MAX_CALL: usize = 16 * 1024;

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Reads `{{ name(args) }}` / `{% name(args) %}` at the start of `text` (`close` is `}}` or
/// `%}`); `None` when it is not a call (a Liquid or Jinja tag, text).
fn parse_call<'t>(text: &'t str, close: &str) -> Option<Call<'t>> {
    let after = &text[2..];
    let lead = after.len() - after.trim_start().len();
    let after = after.trim_start();
    let name_len = after
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &after[..name_len];
    let rest = after[name_len..].trim_start();
    if name.is_empty() || !rest.starts_with('(') {
        return None;
    }
    let open = 2 + lead + name_len + (after.len() - name_len - rest.len());
    // The closing parenthesis, quotes and brackets taken into account.
    let mut quote: Option<u8> = None;
    let mut depth = 0usize;
    let mut close_paren = None;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'(' | b'[' => depth += 1,
                b')' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        close_paren = Some(i);
                        break;
                    }
                }
                // A call does not run into the next paragraph, nor on and on.
                b'\n' if text[open..i].ends_with('\n') => return None,
                _ if i - open > MAX_CALL => return None,
                _ => {}
            },
        }
    }
    let close_paren = close_paren?;
    let tail = &text[close_paren + 1..];
    let spaces = tail.len() - tail.trim_start().len();
    if !tail[spaces..].starts_with(close) {
        return None;
    }
    Some(Call {
        name,
        args: parse_args(&text[open + 1..close_paren]),
        end: close_paren + 1 + spaces + close.len(),
    })
}

/// Named arguments `a = 1, b = "x"`; on failure, the text from where they stop making sense.
fn parse_args(text: &str) -> Result<Vec<(String, Value)>, &str> {
    let mut args = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let name_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let after = rest[name_len..].trim_start();
        let Some(value_text) = after.strip_prefix('=').filter(|_| name_len > 0) else {
            return Err(rest);
        };
        let (value, after) = parse_value(value_text.trim_start(), true).ok_or(rest)?;
        args.push((rest[..name_len].to_string(), value));
        let after = after.trim_start();
        // Zola asks for commas between arguments; posts that left one out still rendered.
        rest = after.strip_prefix(',').unwrap_or(after).trim_start();
    }
    Ok(args)
}

/// One value at the start of `text` and what follows it.
fn parse_value(text: &str, array_allowed: bool) -> Option<(Value, &str)> {
    let first = text.bytes().next()?;
    match first {
        b'"' | b'\'' | b'`' => {
            let end = text[1..].find(first as char)? + 1;
            Some((Value::from(&text[1..end]), &text[end + 1..]))
        }
        b'[' if array_allowed => {
            let mut items = Vec::new();
            let mut rest = text[1..].trim_start();
            loop {
                if let Some(after) = rest.strip_prefix(']') {
                    return Some((Value::from(items), after));
                }
                let (item, after) = parse_value(rest, false)?;
                items.push(item);
                let after = after.trim_start();
                rest = match after.strip_prefix(',') {
                    Some(next) => next.trim_start(),
                    None if after.starts_with(']') => after,
                    None => return None,
                };
            }
        }
        _ => {
            let len = text
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
                .count();
            let word = &text[..len];
            let value = match word {
                "true" => Value::from(true),
                "false" => Value::from(false),
                _ if word.contains('.') => Value::from(word.parse::<f64>().ok()?),
                _ => Value::from(word.parse::<i64>().ok()?),
            };
            Some((value, &text[len..]))
        }
    }
}

/// The start of the first `{% end %}` in `text` and the offset just past it.
fn find_end(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("{%") {
        let start = from + i;
        let close = text[start + 2..].find("%}")? + start + 2;
        let inner = text[start + 2..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner == "end" {
            return Some((start, close + 2));
        }
        from = start + 2;
    }
    None
}

/// An argument given by position or by name (Tera names them, minijinja's built-ins take them
/// by position).
fn arg(position: Option<Value>, kwargs: &Kwargs, name: &str) -> Result<Option<Value>, Error> {
    match position {
        Some(v) => Ok(Some(v)),
        None => kwargs.get::<Option<Value>>(name),
    }
}

fn required(value: Option<Value>, filter: &str, name: &str) -> Result<Value, Error> {
    value.ok_or_else(|| {
        Error::new(
            ErrorKind::MissingArgument,
            format!("{filter} needs `{name}`"),
        )
    })
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

/// The Tera filters, tests and functions Zola shortcodes use most, where minijinja has none or
/// takes its arguments by position only.
fn add_tera_helpers(env: &mut Environment<'static>, base_url: &str) {
    env.add_filter("markdown", |value: String, kwargs: Kwargs| {
        let inline = kwargs.get::<Option<bool>>("inline")?.unwrap_or(false);
        let mut html = super::markdown::render(&value, false).html;
        if inline {
            let trimmed = html.trim_end();
            if let Some(inner) = trimmed
                .strip_prefix("<p>")
                .and_then(|h| h.strip_suffix("</p>"))
                .filter(|inner| !inner.contains("<p>"))
            {
                html = inner.to_string();
            }
        }
        kwargs.assert_all_used()?;
        Ok(Value::from_safe_string(html))
    });
    env.add_filter(
        "replace",
        |value: String, from: Option<Value>, to: Option<Value>, kwargs: Kwargs| {
            let from = required(arg(from, &kwargs, "from")?, "replace", "from")?;
            let to = required(arg(to, &kwargs, "to")?, "replace", "to")?;
            kwargs.assert_all_used()?;
            Ok(value.replace(&text(&from), &text(&to)))
        },
    );
    env.add_filter(
        "default",
        |value: Value, other: Option<Value>, kwargs: Kwargs| {
            let other = arg(other, &kwargs, "value")?;
            let _ = kwargs.get::<Option<bool>>("boolean")?;
            kwargs.assert_all_used()?;
            Ok(if value.is_undefined() || value.is_none() {
                other.unwrap_or_else(|| Value::from(""))
            } else {
                value
            })
        },
    );
    env.add_filter(
        "split",
        |value: String, pat: Option<Value>, kwargs: Kwargs| {
            let pat = required(arg(pat, &kwargs, "pat")?, "split", "pat")?;
            kwargs.assert_all_used()?;
            Ok(Value::from(
                value
                    .split(text(&pat).as_str())
                    .map(Value::from)
                    .collect::<Vec<_>>(),
            ))
        },
    );
    env.add_filter(
        "join",
        |value: Vec<Value>, sep: Option<Value>, kwargs: Kwargs| {
            let sep = arg(sep, &kwargs, "sep")?
                .map(|s| text(&s))
                .unwrap_or_default();
            kwargs.assert_all_used()?;
            Ok(value.iter().map(text).collect::<Vec<_>>().join(&sep))
        },
    );
    env.add_filter(
        "truncate",
        |value: String, length: Option<Value>, kwargs: Kwargs| {
            let length = arg(length, &kwargs, "length")?
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(255);
            let end = kwargs
                .get::<Option<String>>("end")?
                .unwrap_or_else(|| "…".into());
            kwargs.assert_all_used()?;
            Ok(match value.char_indices().nth(length) {
                Some((cut, _)) => format!("{}{end}", &value[..cut]),
                None => value,
            })
        },
    );
    env.add_filter("slugify", |value: String| super::text::slugify(&value));
    env.add_filter("striptags", |value: String| {
        let mut out = String::with_capacity(value.len());
        let mut in_tag = false;
        for c in value.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    });
    env.add_test("starting_with", |value: String, pat: String| {
        value.starts_with(&pat)
    });
    env.add_test("ending_with", |value: String, pat: String| {
        value.ends_with(&pat)
    });
    env.add_test("containing", |value: Value, pat: Value| {
        match (value.as_str(), pat.as_str()) {
            (Some(v), Some(p)) => v.contains(p),
            _ => value
                .try_iter()
                .is_ok_and(|mut items| items.any(|v| v == pat)),
        }
    });
    let base = base_url.trim_end_matches('/').to_string();
    env.add_function("get_url", move |kwargs: Kwargs| {
        let path: String = kwargs.get("path")?;
        let trailing = kwargs
            .get::<Option<bool>>("trailing_slash")?
            .unwrap_or(false);
        let _ = kwargs.get::<Option<bool>>("cachebust")?;
        let _ = kwargs.get::<Option<String>>("lang")?;
        kwargs.assert_all_used()?;
        if path.contains("://") {
            return Ok(path);
        }
        let mut url = format!("{base}/{}", path.trim_start_matches('/'));
        if trailing && !url.ends_with('/') {
            url.push('/');
        }
        Ok(url)
    });
    // Zola reads the image; here a template gets no size and leaves the attribute out.
    env.add_function("get_image_metadata", |kwargs: Kwargs| {
        let _ = kwargs.get::<Option<Value>>("path")?;
        let _ = kwargs.get::<Option<Value>>("allow_missing")?;
        Ok(Value::from(HashMap::<String, Value>::new()))
    });
    env.add_function("now", || {
        jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    });
}

/// A site's `templates/shortcodes/` made in memory, for tests.
#[cfg(test)]
fn with_templates(templates: &[(&str, &str)]) -> Shortcodes {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("forkblog-shortcodes-{}-{n}", std::process::id()));
    let sc = dir.join(DIR);
    std::fs::create_dir_all(&sc).unwrap();
    for (name, text) in templates {
        std::fs::write(sc.join(name), text).unwrap();
    }
    let files = SiteFiles::open(&dir, super::files::Symlinks::Never).unwrap();
    let loaded = load(
        &files,
        &dir,
        SiteValues {
            base_url: "https://b.example",
            title: "Blog",
            ..SiteValues::default()
        },
    );
    let _ = std::fs::remove_dir_all(&dir);
    loaded.unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> PageValues<'static> {
        PageValues {
            title: "T",
            path: "/blog/p/",
            slug: "p",
            date: "2024-01-02",
            lang: "en",
        }
    }

    fn sample() -> Shortcodes {
        with_templates(&[
            ("note.html", "<div class=\"note\">{{ body | markdown | safe }}</div>"),
            (
                "pic.html",
                "<img src=\"{{ src }}\" alt=\"{{ alt | default(value=\"none\") }}\" data-n=\"{{ nth }}\">",
            ),
            ("tag.html", "<span>{{ word }}</span>"),
            ("list.md", "{% for x in items %}- {{ x }}\n{% endfor %}"),
            ("ctx.md", "{{ page.path }} {{ config.title }} {{ n + 1 }} {{ f }} {% if yes %}on{% endif %}"),
            ("broken.html", "{% include \"missing.html\" %}"),
        ])
    }

    #[test]
    fn calls_expanded() {
        let s = sample();
        let body = "Intro {{ tag(word=\"a<b\") }} end.\n\n\
                    {{ pic(src='/i.png') }}\n\n\
                    {{ pic(src=`/j.png`, alt=\"J\") }}\n\n\
                    {% note() %}\n*hi* there\n{% end %}\n\n\
                    {{ list(items=[1, \"two\", 3.5]) }}\n\
                    {{ ctx(n=41, f=1.5, yes=true) }}\n";
        let e = s.expand(body, &page());
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        let html = super::super::markdown::render(&e.text, false).html;
        let html = e.fill(&html);
        assert!(
            html.contains("<p>Intro <span>a&lt;b</span> end.</p>"),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"/i.png\" alt=\"none\" data-n=\"1\">"),
            "{html}"
        );
        assert!(html.contains("alt=\"J\" data-n=\"2\""), "{html}");
        assert!(
            html.contains("<div class=\"note\"><p><em>hi</em> there</p>\n</div>"),
            "{html}"
        );
        assert!(
            html.contains("<li>two</li>") && html.contains("<li>3.5</li>"),
            "{html}"
        );
        assert!(html.contains("/blog/p/ Blog 42 1.5 on"), "{html}");
    }

    #[test]
    fn code_and_escapes_are_text() {
        let s = sample();
        let body =
            "`{{ tag(word=\"x\") }}`\n```\n{{ tag(word=\"y\") }}\n```\n    {{ tag(word=\"z\") }}\n\
                    {{/* tag(word=\"w\") */}} {%/* note() */%}\n";
        let e = s.expand(body, &page());
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert!(!e.has_html(), "{}", e.text);
        assert!(e.text.starts_with(
            "`{{ tag(word=\"x\") }}`\n```\n{{ tag(word=\"y\") }}\n```\n    {{ tag(word=\"z\") }}\n"
        ));
        assert!(
            e.text
                .contains("{% raw %}{{ tag(word=\"w\") }}{% endraw %}"),
            "{}",
            e.text
        );
        assert!(
            e.text.contains("{% raw %}{% note() %}{% endraw %}"),
            "{}",
            e.text
        );
    }

    #[test]
    fn problems_name_line_and_shortcode() {
        let s = sample();
        let body = "a\n{{ nothing(x=1) }}\n\n{{ broken() }}\n{{ pic(src=unquoted) }}\n{% note() %}\nnever closed\n";
        let e = s.expand(body, &page());
        let lines: Vec<usize> = e.problems.iter().map(|p| p.0).collect();
        assert_eq!(lines, [2, 4, 5, 6], "{:?}", e.problems);
        assert!(e.problems[0].1.contains("`nothing` has no template"));
        assert!(e.problems[1].1.starts_with(ERROR) && e.problems[1].1.contains("`broken`"));
        assert!(e.problems[2]
            .1
            .contains("`pic`: its arguments cannot be read"));
        assert!(e.problems[3].1.contains("never closed"));
        // What could not be expanded is kept as written.
        assert!(e.text.contains("{% raw %}{{ nothing(x=1) }}{% endraw %}"));
        // What is no call as Zola writes one is left for the Liquid pass to report.
        let e = s.expand("{{ upcase(name) }}\n", &page());
        assert!(e.problems.is_empty() && e.text == "{{ upcase(name) }}\n");
    }

    #[test]
    fn lines_after_a_body_map_back() {
        let s = sample();
        let e = s.expand(
            "{% note() %}\na\nb\nc\n{% end %}\nx\n{{ none() }}\n",
            &page(),
        );
        assert_eq!(e.problems[0].0, 7);
        let placeholder_line = e.text.lines().position(|l| l == "x").unwrap() + 1;
        assert_eq!(e.source_line(placeholder_line), 6, "{}", e.text);
    }

    #[test]
    fn malformed_calls_never_panic() {
        let s = sample();
        for body in [
            "{{ tag(",
            "{{ tag(word=\"x\"",
            "{{ tag(word=\"x\") ",
            "{% note() %}",
            "{% note() %}{% note() %}x{% end %}{% end %}",
            "{{ tag(word=[1, [2]]) }}",
            "{{ tag(word=) }}",
            "{{ tag(=1) }}",
            "{{ tag(word=\"é) }}",
            "{{/* tag()",
            "{%/*",
            "{% end %}",
            "{{ (}} {{ a() }}",
            "é{{é(é=é)}}é",
            "{% note(a=1) %}\n```\n{% end %}\n```\n",
        ] {
            let e = s.expand(body, &page());
            let _ = e.fill(&super::super::markdown::render(&e.text, false).html);
        }
        let alphabet: &[u8] = b"{}%()=,\"'`[]/* \nanote_1.";
        let seed = "{{ tag(word=\"a\") }} {% note(x=[1,2]) %}\nb\n{% end %} {{/* x() */}}";
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3_000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..(1 + state % 4) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % (bytes.len() + 1);
                let c = alphabet[(state >> 32) as usize % alphabet.len()];
                match state % 3 {
                    0 if at < bytes.len() => bytes[at] = c,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, c),
                }
            }
            let _ = s.expand(&String::from_utf8_lossy(&bytes), &page());
        }
    }
}
