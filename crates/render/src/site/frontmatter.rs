//! Front matter: YAML between `---` lines (Jekyll, Hugo) or TOML between `+++` lines (Zola,
//! Hugo), read into the handful of fields a blog needs. Unknown keys are ignored.
//!
//! [`parse`] never panics, whatever the input: a fuzz target calls it directly.

use std::fmt;

use serde_json::{Map, Value};

use super::date::{self, PostDate};
use super::text::line_of;

/// Which syntax a post's front matter was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML between `---` lines.
    Yaml,
    /// TOML between `+++` lines.
    Toml,
}

/// The fields forkblog reads from front matter; everything is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    /// The syntax used, or `None` when the file has no front matter.
    pub format: Option<Format>,
    /// `title`.
    pub title: Option<String>,
    /// `date`.
    pub date: Option<PostDate>,
    /// `updated` (also `lastmod`, `last_modified_at`, `modified`).
    pub updated: Option<PostDate>,
    /// `tags` (also Zola's `taxonomies.tags`): a list, or one string of whitespace- or
    /// comma-separated tags as Jekyll allows.
    pub tags: Vec<String>,
    /// `categories` / `category` (also `taxonomies.categories`), same forms as tags.
    pub categories: Vec<String>,
    /// `draft: true`, or Jekyll's `published: false`.
    pub draft: bool,
    /// `slug`, as written (the caller makes it URL-safe).
    pub slug: Option<String>,
    /// `description` (also `summary`, `excerpt`).
    pub description: Option<String>,
    /// Where the post is served: `permalink` (Jekyll), `url` (Hugo) or `path` (Zola), as
    /// written.
    pub url: Option<String>,
    /// Old addresses that redirect to the post: `redirect_from` (Jekyll) and `aliases` (Hugo,
    /// Zola), as written.
    pub aliases: Vec<String>,
    /// The feed entry's id, when it must not be the post's URL: `entry_id` or `guid`.
    pub entry_id: Option<String>,
    /// The language of a translation: `lang` (Zola) or `language`.
    pub lang: Option<String>,
    /// Where a page from `pages/` comes in the navigation (lower first; Hugo's `weight`).
    pub weight: Option<i64>,
    /// A table of contents before the text (`toc`), over the site's setting.
    pub toc: Option<bool>,
}

/// Why front matter could not be read: a message and, when known, the 1-based line in the whole
/// file (the opening delimiter is line 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    /// 1-based line in the whole source file.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FrontMatterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FrontMatterError {}

/// Splits `source` into front matter and body. Returns the fields and the byte offset at which
/// the Markdown body starts (after the closing delimiter line; after a byte-order mark, or 0,
/// when there is no front matter).
pub fn parse(source: &str) -> Result<(FrontMatter, usize), FrontMatterError> {
    // Hugo and Zola find front matter after blank lines at the top of the file.
    let blank = source
        .split_inclusive('\n')
        .take_while(|l| l.trim().is_empty() && l.ends_with('\n'))
        .count();
    if blank > 0 {
        let skip: usize = source.split_inclusive('\n').take(blank).map(str::len).sum();
        let rest = &source[skip..];
        if rest.starts_with("---") || rest.starts_with("+++") {
            return parse_at_top(rest)
                .map(|(front, body)| (front, body + skip))
                .map_err(|e| FrontMatterError {
                    line: e.line.map(|l| l + blank),
                    message: e.message,
                });
        }
    }
    parse_at_top(source)
}

/// [`parse`] for front matter that opens on the first line.
fn parse_at_top(source: &str) -> Result<(FrontMatter, usize), FrontMatterError> {
    let start = if source.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let rest = &source[start..];
    let (first, after_first) = next_line(rest, 0);
    let format = match first.trim_end() {
        "---" => Format::Yaml,
        "+++" => Format::Toml,
        _ => return Ok((FrontMatter::default(), start)),
    };
    let delimiter = first.trim_end();
    let content_start = after_first;
    let mut pos = after_first;
    let (content_end, body_start) = loop {
        if pos >= rest.len() {
            return Err(FrontMatterError {
                line: Some(1),
                message: format!("front matter opened with `{delimiter}` is never closed"),
            });
        }
        let (line, next) = next_line(rest, pos);
        let trimmed = line.trim_end();
        if trimmed == delimiter || (format == Format::Yaml && trimmed == "...") {
            break (pos, next);
        }
        pos = next;
    };
    let text = &rest[content_start..content_end];
    // Line 1 is the opening delimiter, so the content's line n is the file's line n + 1.
    let value = match format {
        Format::Yaml => parse_yaml(text)?,
        Format::Toml => parse_toml(text)?,
    };
    let map = match value {
        // Keys are matched case-insensitively (Hugo writes `Title`, `Date`); when a key is
        // written twice in different cases, the all-lowercase spelling wins.
        Value::Object(map) => {
            let mut lower = Map::new();
            for (key, value) in map {
                let folded = key.to_lowercase();
                if folded == key {
                    lower.insert(folded, value);
                } else {
                    lower.entry(folded).or_insert(value);
                }
            }
            lower
        }
        Value::Null => Map::new(),
        _ => {
            return Err(FrontMatterError {
                line: Some(2),
                message: "front matter must be a set of `key: value` pairs".into(),
            })
        }
    };
    let fields = Fields {
        map: &map,
        text,
        format,
    };
    let front = FrontMatter {
        format: Some(format),
        title: fields.string(&["title"])?,
        date: fields.date(&["date"])?,
        updated: fields.date(&["updated", "lastmod", "last_modified_at", "modified"])?,
        tags: fields.list(&["tags"], "tags")?,
        categories: fields.list(&["categories", "category"], "categories")?,
        draft: fields.flag("draft")? || fields.published()? == Some(false),
        slug: fields.string(&["slug"])?,
        description: fields.string(&["description", "summary", "excerpt"])?,
        url: fields.string(&["permalink", "url", "path"])?,
        aliases: {
            let mut aliases = fields.list(&["redirect_from"], "redirect_from")?;
            aliases.extend(fields.list(&["aliases"], "aliases")?);
            aliases
        },
        entry_id: fields.string(&["entry_id", "guid"])?,
        lang: fields.string(&["lang", "language"])?,
        weight: fields.whole("weight")?,
        toc: fields.optional_flag("toc")?,
    };
    Ok((front, start + body_start))
}

/// The line starting at byte `pos` (without its `\n`) and the offset just past it.
fn next_line(text: &str, pos: usize) -> (&str, usize) {
    let rest = &text[pos..];
    match rest.find('\n') {
        Some(i) => (&rest[..i], pos + i + 1),
        None => (rest, text.len()),
    }
}

fn parse_yaml(text: &str) -> Result<Value, FrontMatterError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    if let Some(value) = flat_yaml(text) {
        return Ok(value);
    }
    // The YAML parser takes quadratic time on deeply nested flow collections (`[[[[...`), and
    // deserializing refuses more than 128 levels anyway: refuse early and cheaply.
    if let Some(offset) = too_deep(text, MAX_FLOW_DEPTH) {
        return Err(FrontMatterError {
            line: Some(line_of(text, offset) + 1),
            message: format!(
                "invalid YAML front matter: nested more than {MAX_FLOW_DEPTH} levels deep"
            ),
        });
    }
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        Ok(value) => Ok(yaml_to_json(value)),
        Err(err) => {
            // From the byte index, not the library's line: YAML also breaks lines at a lone CR,
            // NEL, LS and PS, and a line number past the end of the file helps nobody.
            let line = err.location().map(|l| line_of(text, l.index()) + 1);
            let message = err.to_string();
            // The library appends its own position ("at line 3 column 5"); ours replaces it.
            let message = match message.find(" at line ") {
                Some(i) => message[..i].to_string(),
                None => message,
            };
            Err(FrontMatterError {
                line: line.or(Some(1)),
                message: format!("invalid YAML front matter: {message}"),
            })
        }
    }
}

/// Front matter in the form most posts use, one `key: value` per line, read without the YAML
/// library (which costs more than the rest of reading a short post); `None` for anything else,
/// which the library reads. Values here are quoted strings with no escapes, plain text, `true`
/// or `false`, and flow lists of plain words: for exactly these, the value is the one the
/// library gives (the `flat_yaml_agrees_with_the_library` test compares them).
fn flat_yaml(text: &str) -> Option<Value> {
    let mut map = Map::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once(": ")?;
        // Short enough for YAML's limit on a key written without `? `.
        let key_ok = key.len() <= 128
            && key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            // Keys the library reads as null or true/false.
            && !matches!(
                key,
                "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
            );
        if !key_ok || map.contains_key(key) {
            return None;
        }
        map.insert(key.to_string(), flat_value(value)?);
    }
    Some(Value::Object(map))
}

/// One value of [`flat_yaml`], or `None` when it may mean anything else to YAML.
fn flat_value(value: &str) -> Option<Value> {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return quoted(inner, '"');
    }
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return quoted(inner, '\'');
    }
    if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        if inner.is_empty() {
            return Some(Value::Array(Vec::new()));
        }
        return inner
            .split(", ")
            .map(|item| {
                let word = item
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
                match word {
                    true => plain(item),
                    false => None,
                }
            })
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array);
    }
    let plain_text = value.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.' | b'+' | b':' | b'/')
    }) && !value.contains(": ")
        && !value.ends_with([':', ' ']);
    match plain_text {
        true => plain(value),
        false => None,
    }
}

/// A quoted value with no escapes, no quote of its kind inside, and only characters YAML takes
/// as they are.
fn quoted(inner: &str, quote: char) -> Option<Value> {
    let literal = inner.chars().all(|c| {
        (c == ' ' || c.is_ascii_graphic()) && c != quote && c != '\\'
            || c >= '\u{a0}'
                && !matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                )
    });
    literal.then(|| Value::String(inner.to_string()))
}

/// A plain word or phrase made of ASCII letters, digits and `_-.+:/ `, starting with a letter or
/// digit: text, or `true`/`false`. `None` when YAML could read it as null or a number.
fn plain(word: &str) -> Option<Value> {
    if !word
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    match word {
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        "null" | "Null" | "NULL" => return None,
        _ => {}
    }
    // A number is written with digits, `+-._`, and letters from hex digits, `0x`/`0o`/`0b`,
    // exponents, `inf`, `infinity` and `nan`, with a sign only first or after an exponent's
    // `e`: anything else makes it text (a date such as 2015-03-01 among it).
    let bytes = word.as_bytes();
    let text = bytes.iter().enumerate().any(|(i, &b)| {
        !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'_'))
            || (b.is_ascii_alphabetic() && !b"abcdefinotxyABCDEFINOTXY".contains(&b))
            || (matches!(b, b'+' | b'-') && i > 0 && !matches!(bytes[i - 1], b'e' | b'E'))
    });
    text.then(|| Value::String(word.to_string()))
}

/// How deeply `[` / `{` may nest in YAML front matter.
const MAX_FLOW_DEPTH: usize = 64;

/// The byte offset where brackets first nest deeper than `max`, if they do. Brackets inside
/// quotes count too: a rough bound that real front matter never comes near.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn parse_toml(text: &str) -> Result<Value, FrontMatterError> {
    match text.parse::<toml::Table>() {
        Ok(table) => Ok(toml_to_json(toml::Value::Table(table))),
        Err(err) => {
            let line = err.span().map(|s| line_of(text, s.start) + 1);
            Err(FrontMatterError {
                line: line.or(Some(1)),
                message: format!("invalid TOML front matter: {}", err.message()),
            })
        }
    }
}

fn yaml_to_json(value: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = match yaml_to_json(key) {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    // Null or compound keys cannot name a field we read.
                    _ => continue,
                };
                map.insert(key, yaml_to_json(value));
            }
            Value::Object(map)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(k, v)| (k, toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Typed access to the front matter map, with errors that point at the key's line.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    text: &'a str,
    format: Format,
}

impl Fields<'_> {
    /// The first of `keys` present (and not null), with the key found.
    fn get(&self, keys: &[&'static str]) -> Option<(&'static str, &Value)> {
        keys.iter().find_map(|k| match self.map.get(*k) {
            Some(Value::Null) | None => None,
            Some(v) => Some((*k, v)),
        })
    }

    /// An error about `key`, located at the line where the key is written.
    fn error(&self, key: &str, message: String) -> FrontMatterError {
        FrontMatterError {
            line: key_line(self.text, key, self.format).map(|l| l + 1),
            message: format!("`{key}`: {message}"),
        }
    }

    fn string(&self, keys: &[&'static str]) -> Result<Option<String>, FrontMatterError> {
        match self.get(keys) {
            None => Ok(None),
            Some((_, Value::String(s))) => Ok(Some(s.clone())),
            Some((_, Value::Number(n))) => Ok(Some(n.to_string())),
            Some((_, Value::Bool(b))) => Ok(Some(b.to_string())),
            Some((key, other)) => {
                Err(self.error(key, format!("expected text, found {}", kind(other))))
            }
        }
    }

    fn whole(&self, key: &'static str) -> Result<Option<i64>, FrontMatterError> {
        match self.get(&[key]) {
            None => Ok(None),
            Some((_, Value::Number(n))) if n.as_i64().is_some() => Ok(n.as_i64()),
            Some((_, other)) => Err(self.error(
                key,
                format!("expected a whole number, found {}", kind(other)),
            )),
        }
    }

    fn date(&self, keys: &[&'static str]) -> Result<Option<PostDate>, FrontMatterError> {
        match self.get(keys) {
            None => Ok(None),
            Some((key, Value::String(s))) => {
                date::parse(s).map(Some).map_err(|e| self.error(key, e))
            }
            Some((key, other)) => Err(self.error(
                key,
                format!("expected a date such as 2015-03-01, found {}", kind(other)),
            )),
        }
    }

    fn flag(&self, key: &'static str) -> Result<bool, FrontMatterError> {
        Ok(self.optional_flag(key)?.unwrap_or(false))
    }

    fn published(&self) -> Result<Option<bool>, FrontMatterError> {
        self.optional_flag("published")
    }

    fn optional_flag(&self, key: &'static str) -> Result<Option<bool>, FrontMatterError> {
        match self.get(&[key]) {
            None => Ok(None),
            Some((_, Value::Bool(b))) => Ok(Some(*b)),
            Some((_, other)) => Err(self.error(
                key,
                format!("expected true or false, found {}", kind(other)),
            )),
        }
    }

    /// A list of names from `keys`, or from Zola's `[taxonomies]` table entry `taxonomy`.
    fn list(
        &self,
        keys: &[&'static str],
        taxonomy: &'static str,
    ) -> Result<Vec<String>, FrontMatterError> {
        let found = self.get(keys).or_else(|| match self.map.get("taxonomies") {
            Some(Value::Object(t)) => t
                .get(taxonomy)
                .filter(|v| !v.is_null())
                .map(|v| (taxonomy, v)),
            _ => None,
        });
        let mut names: Vec<String> = Vec::new();
        let mut push = |name: &str| {
            let name = name.trim();
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        };
        match found {
            None => {}
            Some((_, Value::String(s))) => {
                // Jekyll: "tags: rust unix"; also accept "rust, unix".
                let separator: &[char] = if s.contains(',') {
                    &[',']
                } else {
                    &[' ', '\t']
                };
                s.split(separator).for_each(&mut push);
            }
            Some((key, Value::Array(items))) => {
                for item in items {
                    match item {
                        Value::String(s) => push(s),
                        Value::Number(n) => push(&n.to_string()),
                        Value::Null => {}
                        other => {
                            return Err(self.error(
                                key,
                                format!("expected a list of names, found {} in it", kind(other)),
                            ))
                        }
                    }
                }
            }
            Some((_, Value::Number(n))) => push(&n.to_string()),
            Some((key, other)) => {
                return Err(self.error(
                    key,
                    format!("expected a list of names, found {}", kind(other)),
                ))
            }
        }
        Ok(names)
    }
}

/// The 1-based line (within the front matter text) where `key` is written, if it can be found.
fn key_line(text: &str, key: &str, format: Format) -> Option<usize> {
    let separator = match format {
        Format::Yaml => ':',
        Format::Toml => '=',
    };
    text.lines()
        .position(|line| {
            let line = line.trim_start().to_lowercase();
            let line = line.as_str();
            let rest = line
                .strip_prefix(key)
                .or_else(|| {
                    line.strip_prefix('"')
                        .and_then(|l| l.strip_prefix(key))
                        .and_then(|l| l.strip_prefix('"'))
                })
                .or_else(|| {
                    line.strip_prefix('\'')
                        .and_then(|l| l.strip_prefix(key))
                        .and_then(|l| l.strip_prefix('\''))
                });
            rest.is_some_and(|r| r.trim_start().starts_with(separator))
        })
        .map(|i| i + 1)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_error_lines_count_newlines_only() {
        // Found by the front_matter fuzz target: lone CRs made the YAML library's own line
        // number run past the end of the file.
        let text = "---\ntitle: a\r\r\r\r\r\r\r\r\rb: [\n---\nbody\n";
        let err = parse(text).unwrap_err();
        let lines = text.matches('\n').count() + 1;
        assert!(
            err.line.is_some_and(|l| (1..=lines).contains(&l)),
            "{err:?}"
        );
    }

    #[test]
    fn flat_yaml_agrees_with_the_library() {
        let library = |text: &str| {
            serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
                .ok()
                .map(yaml_to_json)
        };
        let fixed = [
            "title: \"Benchmark post: what a fork costs\"\ndate: 2010-06-01 12:00:00 +0000\ntags: [performance, unix, benchmarks]\n",
            "title: 'Caf\u{e9} \u{2014} notes'\ndate: 2015-03-01\ndraft: true\ncategories: []\n",
            "Title: Hugo\nlayout: post\npublished: False\nurl: /2009/05/x.html\n",
            "e5: inf\ninf: nan\nx: 1e5\ny: 0x1F\nz: 0o17\nw: 2015-03\nv: -1\nu: 1_000\n",
            "a: [1, 2, true, null, x.y, 1e-5, 1-2]\nb: 12:30\nc: TRUE\nd: a:b\n",
        ];
        for text in fixed {
            if let Some(fast) = flat_yaml(text) {
                assert_eq!(Some(fast), library(text), "{text:?}");
            }
        }
        // Lines put together from pieces that are, or are close to, what it reads.
        let keys = [
            "title", "tags", "e", "inf", "nan", "True", "null", "x-y", "a_b", "tags",
        ];
        let values = [
            "\"q\"",
            "'q'",
            "\"a\\\"b\"",
            "'it''s'",
            "\"\"",
            "''",
            "[]",
            "[a, b]",
            "[a,b]",
            "[1, 2]",
            "[e, x]",
            "[true]",
            "[ a]",
            "[-a]",
            "1",
            "01",
            "-1",
            "+1",
            "1.5",
            ".5",
            "1e3",
            "e3",
            "0x10",
            "0o7",
            "0b1",
            "inf",
            "-inf",
            "nan",
            "infinity",
            "1-2",
            "1e-2",
            "1e+2",
            "2015-03-01",
            "a b",
            "a: b",
            "a:b",
            "a:",
            "a #b",
            "a#b",
            "true",
            "false",
            "null",
            "Null",
            "yes",
            "no",
            "~",
            "",
            " a",
            "a ",
            "http://x/y",
            "x/y",
            "\"\u{85}\"",
            "\"\u{2028}\"",
            "\"\u{a0}\"",
            "\"\u{7f}\"",
            "\"\t\"",
            "&a x",
            "*a",
            "!x y",
            "|",
            ">",
            "@x",
            "`x`",
            "%x",
            "?x",
            "{a: 1}",
        ];
        let mut state: u64 = 0x0123_4567_89AB_CDEF;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as usize
        };
        let mut compared = 0;
        for _ in 0..60_000 {
            let mut text = String::new();
            for _ in 0..1 + next() % 3 {
                text.push_str(keys[next() % keys.len()]);
                text.push_str(["", ":", ":  ", ": ", ": ", ": ", ": ", ": "][next() % 8]);
                text.push_str(values[next() % values.len()]);
                text.push_str(["\r\n", " \n", "\n\n", "\n  ", "\n", "\n", "\n", "\n"][next() % 8]);
            }
            if let Some(fast) = flat_yaml(&text) {
                assert_eq!(Some(fast), library(&text), "{text:?}");
                compared += 1;
            }
        }
        assert!(compared > 1_000, "{compared}");
    }

    #[test]
    fn yaml() {
        let src = "---\ntitle: Hello <b>\ndate: 2015-03-01 10:00:00 +0100\ntags: [rust, unix]\nlayout: post\ncomments: true\n---\nBody\n";
        let (fm, offset) = parse(src).unwrap();
        assert_eq!(fm.format, Some(Format::Yaml));
        assert_eq!(fm.title.as_deref(), Some("Hello <b>"));
        assert_eq!(
            fm.date.unwrap().timestamp.to_string(),
            "2015-03-01T09:00:00Z"
        );
        assert_eq!(fm.tags, ["rust", "unix"]);
        assert!(!fm.draft);
        assert_eq!(&src[offset..], "Body\n");
    }

    #[test]
    fn toml_with_taxonomies() {
        let src = "+++\r\ntitle = \"Zola\"\r\ndate = 2020-01-02\r\ndraft = true\r\n[taxonomies]\r\ntags = [\"a\", \"b\"]\r\n+++\r\nBody";
        let (fm, offset) = parse(src).unwrap();
        assert_eq!(fm.format, Some(Format::Toml));
        assert_eq!(fm.title.as_deref(), Some("Zola"));
        assert_eq!(fm.date.unwrap().day.to_string(), "2020-01-02");
        assert!(fm.draft);
        assert_eq!(fm.tags, ["a", "b"]);
        assert_eq!(&src[offset..], "Body");
    }

    #[test]
    fn single_string_lists_and_published() {
        let (fm, _) =
            parse("---\ntags: rust unix\ncategories: Systems, Web dev\npublished: false\n---\n")
                .unwrap();
        assert_eq!(fm.tags, ["rust", "unix"]);
        assert_eq!(fm.categories, ["Systems", "Web dev"]);
        assert!(fm.draft);
    }

    #[test]
    fn keys_ignore_case() {
        let (fm, _) = parse("---\nTitle: Hugo\nDraft: true\n---\n").unwrap();
        assert_eq!(fm.title.as_deref(), Some("Hugo"));
        assert!(fm.draft);
        let err = parse("---\nTitle: x\nDate: soon\n---\n").unwrap_err();
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn none_and_empty() {
        let (fm, offset) = parse("# Title\n\ntext").unwrap();
        assert_eq!(fm, FrontMatter::default());
        assert_eq!(offset, 0);
        let (fm, offset) = parse("---\n---\nx").unwrap();
        assert_eq!(fm.format, Some(Format::Yaml));
        assert_eq!(offset, 8);
        let (_, offset) = parse("\u{feff}x").unwrap();
        assert_eq!(offset, 3);
    }

    #[test]
    fn errors_point_at_lines() {
        let err = parse("---\ntitle: ok\ndate: 01/03/2015\n---\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("unknown date format"), "{err}");

        let err = parse("---\ntitle: ok\ntags: [a, b\nfoo: bar\n---\n").unwrap_err();
        assert!(err.line.is_some_and(|l| (3..=5).contains(&l)), "{err:?}");
        assert!(err.message.contains("YAML"), "{err}");

        let err = parse("+++\ntitle = \"x\"\ndate = \n+++\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err:?}");

        let err = parse("---\ntitle: x\ndraft: maybe\n---\n").unwrap_err();
        assert_eq!(err.line, Some(3));

        let err = parse("---\ntitle: x\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.message.contains("never closed"));

        let err = parse("---\n- a\n- b\n---\n").unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "",
            "---",
            "---\n",
            "+++",
            "+++\n+++",
            "---\r\n---\r\n",
            "---\n\u{0}\n---\n",
            "---\n: :\n---\n",
            "---\n*a\n---\n",
            "---\na: &a [*a]\n---\n",
            "---\n!!binary x\n---\n",
            "---\n? [a]\n: b\n---\n",
            "+++\n[[a]]\n[a]\n+++\n",
            "\u{feff}",
            "\u{feff}---\né: é\n---\n",
            "---\ntitle: [1, {a: b}]\n---\n",
            "---\ndate: 2015-03-01é\n---\n",
            "---\ntags: [[a]]\n---\n",
            "---\ndate: 2015-03-0\n---\n",
        ];
        for input in inputs {
            let _ = parse(input);
        }
        // Every prefix of a realistic file, cut at every char boundary.
        let src =
            "---\ntitle: \"Ünïcode\"\ndate: 2015-03-01 10:00:00 +0100\ntags: [a, b]\n---\n# Hi\n";
        for (i, _) in src.char_indices() {
            let _ = parse(&src[..i]);
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = 100_000;
        let yaml = format!(
            "---\ntitle: {}{}\n---\n",
            "[".repeat(deep),
            "]".repeat(deep)
        );
        assert!(parse(&yaml).is_err());
        let toml = format!(
            "+++\ntitle = {}{}\n+++\n",
            "[".repeat(deep),
            "]".repeat(deep)
        );
        assert!(parse(&toml).is_err());
        let yaml_map = format!(
            "---\n{}\n---\n",
            (0..1000)
                .map(|i| format!("{}k{i}:", " ".repeat(i)))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let _ = parse(&yaml_map);
        // Exponential alias expansion ("billion laughs") is refused by the YAML library.
        let mut laughs = String::from("---\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        laughs.push_str("---\n");
        assert!(parse(&laughs).is_err());
    }

    #[test]
    fn random_mutations_never_panic() {
        let seeds = [
            "---\ntitle: \"Ünï\"\ndate: 2015-03-01 10:00:00 +0100\ntags: [a, b]\npublished: false\n---\nbody",
            "+++\ntitle = \"t\"\ndate = 2020-01-01T00:00:00Z\n[taxonomies]\ntags = [\"x\"]\n+++\nbody",
        ];
        let alphabet: &[u8] = b"-+:=[]{}\"'\n\r\t #&*!|>?,.0123456789abcTZ\\";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..(1 + next() % 4) {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok((_, offset)) = parse(&text) {
                assert!(text.is_char_boundary(offset) && offset <= text.len());
            }
        }
    }
}
