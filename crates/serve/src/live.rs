//! `serve --watch` in the child: the generation a page polls, and the failure page.
//!
//! - The live-reload script (added to every page at render time, `render::live`) asks
//!   [`GENERATION_PATH`] several times a second while the page is visible and reloads the page
//!   when the answer changes: the generation serving and the count of settled reloads, so a
//!   failed reload (which keeps the generation) is seen too. Polling suits fork-per-connection
//!   better than a pushed event stream: a stream would hold a child (a process, a slot under
//!   `--max-children`) per open tab for as long as the tab is open, cut by `--lifetime`, and the
//!   child would need telling about each reload; a poll is one short request on a keep-alive
//!   connection.
//! - While the last reload failed, every page is a 500 naming the problems ([`failure_page`]),
//!   each with the source lines around it, so a broken edit is seen in the browser rather than
//!   only in the terminal, until the next good render replaces it.
//!
//! None of this exists without `--watch`: no script, no endpoint, old content on failure.

use super::escape::xml_escape;
use super::response::{uncached, Response, Status};
use super::status::{Counter, Counters};

/// What `--watch` gives a child: why the last reload failed, if it did.
#[derive(Debug, Clone, Copy)]
pub struct Live<'a> {
    /// The problems of the last reload, while it is the latest outcome.
    pub failure: Option<&'a str>,
}

/// The live-reload script's path.
pub const SCRIPT_PATH: &str = "/.well-known/forkblog/live.js";

/// The path the script polls.
pub const GENERATION_PATH: &[u8] = b"/.well-known/forkblog/generation";

/// The tag added to each HTML page.
pub fn script_tag() -> String {
    format!("<script src=\"{SCRIPT_PATH}\" defer></script>")
}

/// What `--watch` answers itself: the generation endpoint always, and the failure page for
/// everything but the script while the last reload failed. `None`: the site answers.
pub fn respond<'a>(
    path: &[u8],
    counters: Option<&Counters>,
    failure: Option<&str>,
    head_only: bool,
    close: bool,
) -> Option<Response<'a>> {
    if path == GENERATION_PATH {
        let body = match counters {
            Some(c) => format!(
                "{}.{}\n",
                c.get(Counter::Generation),
                c.get(Counter::ReloadsSettled)
            ),
            None => "0.0\n".into(),
        };
        return Some(uncached(
            Status::Ok,
            "text/plain; charset=utf-8",
            body.into_bytes(),
            head_only,
            close,
        ));
    }
    let failure = failure.filter(|_| path != SCRIPT_PATH.as_bytes())?;
    Some(uncached(
        Status::InternalError,
        "text/html; charset=utf-8",
        failure_page(failure).into_bytes(),
        head_only,
        close,
    ))
}

/// The page shown while the last reload failed: each problem, `file:line: message`, and for
/// one that names a line of a readable file, the source around that line (read by the child
/// answering: a preview on this machine, where the site is readable by the serving user).
pub fn failure_page(problems: &str) -> String {
    let mut items = String::new();
    for problem in problems.lines().filter(|l| !l.trim().is_empty()) {
        items.push_str("<li>");
        match locate(problem) {
            Some((file, line, message)) => {
                items.push_str(&format!(
                    "<p><code class=\"where\">{}:{line}</code> {}</p>",
                    xml_escape(file),
                    xml_escape(message)
                ));
                if let Some(source) = source_around(file, line) {
                    items.push_str(&source);
                }
            }
            None => items.push_str(&format!("<p>{}</p>", xml_escape(problem))),
        }
        items.push_str("</li>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Render failed</title><style>{FAILURE_STYLE}</style>{}</head>\n<body>\n<main>\n\
         <h1>The last edit did not render</h1>\n\
         <p>This page reloads by itself once the site renders again.</p>\n\
         <ol class=\"problems\">\n{items}</ol>\n</main>\n</body></html>\n",
        script_tag(),
    )
}

/// The failure page's look: readable in light and dark (contrast above WCAG AA either way).
const FAILURE_STYLE: &str = "\
:root{color-scheme:light dark;--bg:#fff;--fg:#1d1d1f;--line:#f3f3f5;--hit:#fde8e8;--mark:#b3261e}\
@media (prefers-color-scheme:dark){:root{--bg:#161618;--fg:#e8e8ea;--line:#222226;--hit:#4a1c1c;--mark:#ff8a80}}\
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}\
main{max-width:60rem;margin:0 auto;padding:1.5rem}\
h1{font-size:1.4rem;color:var(--mark)}\
ol.problems{padding-left:1.2rem}\
code.where{font-weight:700}\
pre{background:var(--line);padding:.5rem 0;overflow-x:auto;border-radius:4px}\
pre span{display:block;padding:0 .75rem}\
pre span.hit{background:var(--hit);border-left:4px solid var(--mark);padding-left:calc(.75rem - 4px)}\
pre b{display:inline-block;min-width:3.5em;font-weight:400;opacity:.8;user-select:none}";

/// How many lines on each side of the failing one are shown.
const CONTEXT: usize = 3;

/// The file, line and message of a problem written `file:line: message` (a path may hold
/// colons itself: the first `:digits:` ends it).
fn locate(problem: &str) -> Option<(&str, usize, &str)> {
    let bytes = problem.as_bytes();
    for (at, _) in problem.match_indices(':') {
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = at + 1 + digits;
        if at > 0 && digits > 0 && bytes.get(end) == Some(&b':') {
            let line = problem[at + 1..end].parse().ok()?;
            return Some((&problem[..at], line, problem[end + 1..].trim_start()));
        }
    }
    None
}

/// Lines `line - CONTEXT ..= line + CONTEXT` of `file`, numbered, the failing one marked;
/// `None` if the file cannot be read (or is too large to be a post or template) or has no
/// such line.
fn source_around(file: &str, line: usize) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > 4 << 20 || line == 0 {
        return None;
    }
    let text = std::fs::read(file).ok()?;
    let text = String::from_utf8_lossy(&text);
    let first = line.saturating_sub(CONTEXT).max(1);
    let mut out = String::from("<pre>");
    let mut any = false;
    for (n, source) in text
        .lines()
        .enumerate()
        .skip(first - 1)
        .take(2 * CONTEXT + 1)
    {
        let n = n + 1;
        any |= n == line;
        let class = if n == line { " class=\"hit\"" } else { "" };
        out.push_str(&format!(
            "<span{class}><b>{n}</b>{}</span>",
            xml_escape(source)
        ));
    }
    out.push_str("</pre>");
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_page_escapes_the_problems_and_the_script_stays_reachable() {
        let page = failure_page("posts/<a>.md:3: bad & wrong");
        assert!(
            page.contains("posts/&lt;a&gt;.md:3</code> bad &amp; wrong"),
            "{page}"
        );
        let failed = Some("posts/a.md:1: broken");
        let r = respond(b"/", None, failed, false, false).unwrap();
        assert_eq!(r.status, Status::InternalError);
        assert!(respond(SCRIPT_PATH.as_bytes(), None, failed, false, false).is_none());
        assert!(respond(b"/", None, None, false, false).is_none());
        let r = respond(GENERATION_PATH, None, failed, false, false).unwrap();
        assert_eq!(r.status, Status::Ok);
    }

    #[test]
    fn a_problem_shows_its_file_line_and_the_source_around_it() {
        assert_eq!(
            locate("/a:b/t.html:12: unexpected `}`"),
            Some(("/a:b/t.html", 12, "unexpected `}`"))
        );
        assert_eq!(locate("nothing to serve from /x"), None);
        let dir = std::env::temp_dir().join(format!("forkblog-live-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("post.html");
        let text: String = (1..=20).map(|n| format!("line {n} <x>\n")).collect();
        std::fs::write(&file, text).unwrap();
        let page = failure_page(&format!(
            "1 problem(s) in {}:\n{}:10: broken",
            dir.display(),
            file.display()
        ));
        assert!(
            page.contains("<span class=\"hit\"><b>10</b>line 10 &lt;x&gt;</span>"),
            "{page}"
        );
        assert!(page.contains("<b>7</b>line 7") && page.contains("<b>13</b>line 13"));
        assert!(!page.contains("line 6 ") && !page.contains("line 14"));
        // A line past the end, or a file that is gone: the problem alone.
        assert!(!failure_page(&format!("{}:99: x", file.display())).contains("<pre>"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!failure_page(&format!("{}:1: x", file.display())).contains("<pre>"));
    }
}
