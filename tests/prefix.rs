//! A site under a path (`base_url = "https://example.org/notes"`): every resource served under
//! `/notes`, links carrying it, `/` redirected to `/notes/`; and sites built by the real
//! generators with such a base (Jekyll's `baseurl`, Hugo's `baseURL` with a path), whose every
//! output URL answers 200 once imported.

mod common;
mod import_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::site::{get, text};
use common::TempSite;
use common::{Server, TempDir};
use forkblog::import::{import, Generator};
use forkblog::site::{redirect, Site};

/// A small site under `/notes` with links written root-relative, as a forkblog site writes them.
fn notes_site() -> TempSite {
    let site = TempSite::new("prefix");
    site.file(
        "forkblog.toml",
        "title = \"Notes\"\nbase_url = \"https://example.org/notes/\"\n",
    )
    .file(
        "posts/hello.md",
        "---\ntitle: Hello\ndate: 2024-01-02\ntags: [rust]\naliases: [/old/hello/]\n---\n\
         See [about](/about/), ![x](/img/x.png), [tags](/tags/rust/) and \
         [already](/notes/about/).\n",
    )
    .file(
        "posts/second.md",
        "---\ntitle: Second\ndate: 2024-02-03\n---\nBack to [hello](/posts/hello/). \
         ![as the old site wrote it](/notes/img/x.png)\n",
    )
    .file(
        "pages/about.md",
        "---\ntitle: About\n---\nHome is [here](/).\n",
    )
    .file("pages/img/x.png", b"\x89PNG\r\n\x1a\n")
    .file(
        "templates/root/plain.html",
        "<p><a href=\"/about/\">about</a><img srcset=\"/img/x.png 1x, /img/x.png 2x\"></p>\n",
    );
    site
}

/// Every `href`/`src`/`srcset` URL of an HTML body (no decoding needed in these fixtures).
fn urls_in(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "srcset=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let value = &rest[..rest.find('"').unwrap_or(0)];
            for candidate in value.split(',') {
                if let Some(url) = candidate.split_whitespace().next() {
                    out.push(url.to_string());
                }
            }
        }
    }
    out
}

/// `link` on the page at `page` as a served path, or `None` when it leaves the site.
fn served_path(page: &str, link: &str) -> Option<String> {
    let link = link.split(['#', '?']).next().unwrap_or("");
    if link.is_empty() || link.contains("://") || link.starts_with("//") || link.contains(':') {
        return None;
    }
    let joined = match link.starts_with('/') {
        true => link.to_string(),
        false => format!("{}{link}", &page[..page.rfind('/').map_or(0, |i| i + 1)]),
    };
    let mut parts: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => drop(parts.pop()),
            s => parts.push(s),
        }
    }
    let mut path = format!("/{}", parts.join("/"));
    if joined.ends_with('/') && path != "/" {
        path.push('/');
    }
    Some(path)
}

/// Whether the site answers `path` with a resource, the server's own `/` added to a folder.
fn in_snapshot(site: &Site, path: &str) -> bool {
    get(site, path).is_some() || (!path.ends_with('/') && get(site, &format!("{path}/")).is_some())
}

#[test]
fn every_resource_lives_under_the_prefix_and_root_redirects_to_it() {
    let site = notes_site().site();
    for r in &site.resources {
        assert!(
            r.path == "/" || r.path.starts_with("/notes/"),
            "{} is outside /notes",
            r.path
        );
    }
    let root = get(&site, "/").expect("/ is served");
    assert_eq!(redirect::target(root).as_deref(), Some("/notes/"));
    for path in [
        "/notes/",
        "/notes/posts/hello/",
        "/notes/about/",
        "/notes/img/x.png",
        "/notes/feed.xml",
        "/notes/sitemap.xml",
        "/notes/robots.txt",
        "/notes/static/style.css",
        "/notes/tags/rust/",
        "/notes/plain.html",
    ] {
        assert!(get(&site, path).is_some(), "{path} not served");
    }
    let alias = get(&site, "/notes/old/hello/").expect("alias under the prefix");
    assert_eq!(
        redirect::target(alias).as_deref(),
        Some("/notes/posts/hello/")
    );
    assert!(get(&site, "/posts/hello/").is_none());
}

#[test]
fn a_prefixed_sites_links_all_resolve_within_the_snapshot() {
    let built = notes_site();
    let build = built.build();
    assert!(build.problems.is_empty(), "{:#?}", build.problems);
    let site = build.site.expect("site");
    let mut checked = 0;
    for r in site
        .resources
        .iter()
        .filter(|r| r.content_type.starts_with("text/html"))
    {
        let html = String::from_utf8_lossy(&r.body);
        for url in urls_in(&html) {
            let Some(path) = served_path(&r.path, &url) else {
                continue;
            };
            assert!(
                in_snapshot(&site, &path),
                "{}: link {url} leads to {path}, which is not served",
                r.path
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} links checked");
    let post = text(&site, "/notes/posts/hello/");
    for wanted in [
        "href=\"/notes/about/\"",
        "src=\"/notes/img/x.png\"",
        "href=\"/notes/static/style.css\"",
        "<link rel=\"canonical\" href=\"https://example.org/notes/posts/hello/\">",
        "<meta property=\"og:image\" content=\"https://example.org/notes/img/x.png\">",
    ] {
        assert!(post.contains(wanted), "post page lacks {wanted}:\n{post}");
    }
    assert!(!post.contains("/notes/notes/"), "{post}");
    let second = text(&site, "/notes/posts/second/");
    assert!(
        second.contains(
            "<meta property=\"og:image\" content=\"https://example.org/notes/img/x.png\">"
        ),
        "{second}"
    );
    assert!(!second.contains("/notes/notes/"), "{second}");
    let plain = text(&site, "/notes/plain.html");
    assert!(plain.contains("href=\"/notes/about/\""), "{plain}");
    assert!(
        plain.contains("srcset=\"/notes/img/x.png 1x, /notes/img/x.png 2x\""),
        "{plain}"
    );
    let feed = text(&site, "/notes/feed.xml");
    assert!(feed.contains("<id>https://example.org/notes/posts/hello/</id>"));
    assert!(feed.contains("href=&quot;/notes/about/&quot;"), "{feed}");
    assert!(feed.contains(
        "rel=\"self\" type=\"application/atom+xml\" href=\"https://example.org/notes/feed.xml\""
    ));
    let map = text(&site, "/notes/sitemap.xml");
    assert!(map.contains("<loc>https://example.org/notes/posts/hello/</loc>"));
    assert!(!map.contains("<loc>https://example.org/notes/old/"));
    assert!(text(&site, "/notes/robots.txt").contains("https://example.org/notes/sitemap.xml"));
}

/// The earlier render as the server holds it: its record, and its bodies by served path.
struct Before {
    record: Vec<u8>,
    bodies: std::collections::HashMap<String, Vec<u8>>,
}

impl forkblog::site::incremental::Previous for Before {
    fn record(&self) -> &[u8] {
        &self.record
    }
    fn body(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
        self.bodies
            .get(path)
            .map(|b| std::borrow::Cow::Borrowed(&b[..]))
    }
}

/// `(path, body)` of every resource.
fn served(site: &Site) -> Vec<(String, Vec<u8>)> {
    site.resources
        .iter()
        .map(|r| (r.path.clone(), r.body.to_vec()))
        .collect()
}

#[test]
fn a_reload_under_the_prefix_reuses_pages_and_equals_a_full_render() {
    let site = notes_site();
    let (first, record) = forkblog::site::build_incremental(&site.root, false, None);
    let first = first.site.expect("builds");
    let earlier = Before {
        record,
        bodies: served(&first).into_iter().collect(),
    };
    // Nothing changed: every page is found again under its served path (the HTML file of
    // `templates/root/` is a file, not a page).
    let (same, _) = forkblog::site::build_incremental(&site.root, false, Some(&earlier));
    let pages = first
        .resources
        .iter()
        .filter(|r| r.content_type.starts_with("text/html") && redirect::target(r).is_none())
        .filter(|r| r.path != "/notes/plain.html")
        .count();
    assert_eq!(same.reused_pages, pages);
    assert!(served(&same.site.expect("builds")) == served(&first));
    // An edit: the pages that do not show the post are kept (about, the tags pages).
    site.file(
        "posts/second.md",
        "---\ntitle: Second\ndate: 2024-02-03\n---\nNow [about](/about/) too.\n",
    );
    let (again, _) = forkblog::site::build_incremental(&site.root, false, Some(&earlier));
    assert!(again.problems.is_empty(), "{:#?}", again.problems);
    assert_eq!(again.reused_pages, 3);
    let again = again.site.expect("builds");
    let full = site.site();
    assert!(
        served(&again) == served(&full),
        "incremental differs from full"
    );
    assert!(text(&full, "/notes/posts/second/").contains("href=\"/notes/about/\""));
    assert_eq!(
        redirect::target(get(&again, "/").expect("/")).as_deref(),
        Some("/notes/")
    );
}

#[test]
fn a_post_whose_own_url_starts_with_the_prefix_is_linked_under_it_too() {
    let site = notes_site();
    site.file(
        "posts/clash.md",
        "---\ntitle: Clash\ndate: 2024-03-01\npermalink: /notes/clash/\n---\n\
         Back to [second](/posts/second/).\n",
    )
    .file(
        "pages/more.md",
        "---\ntitle: More\n---\n[Clash](/notes/clash/) and [about](/notes/about/).\n",
    );
    // No broken link: `site()` insists on no problem.
    let built = site.site();
    assert!(get(&built, "/notes/notes/clash/").is_some());
    let second = text(&built, "/notes/posts/second/");
    assert!(second.contains("href=\"/notes/notes/clash/\""), "{second}");
    let more = text(&built, "/notes/more/");
    assert!(more.contains("href=\"/notes/notes/clash/\""), "{more}");
    assert!(more.contains("href=\"/notes/about/\""), "{more}");
}

#[test]
fn a_link_to_nothing_under_the_prefix_is_reported() {
    let site = notes_site();
    site.file(
        "posts/broken.md",
        "---\ntitle: Broken\ndate: 2024-03-01\n---\n[gone](/gone/) and [outside](/notes/nope/)\n",
    );
    let build = site.build();
    let broken: Vec<String> = build.problems.iter().map(|p| p.message.clone()).collect();
    assert_eq!(broken.len(), 2, "{broken:#?}");
    assert!(broken[0].contains("/notes/gone/"), "{broken:#?}");
    assert!(
        build.problems.iter().all(|p| p.line == Some(5)),
        "{:#?}",
        build.problems
    );
    assert!(broken[1].contains("/notes/nope/"), "{broken:#?}");
}

#[test]
fn served_under_the_prefix_with_the_status_endpoint_where_it_was() {
    let site = notes_site();
    common::set_mode(&site.root, 0o755);
    let server = Server::start(&site.root, &[]);
    let root = server.get("/");
    assert_eq!(root.status, 301);
    assert_eq!(root.header("location"), Some("/notes/"));
    assert_eq!(server.get("/notes/").status, 200);
    assert_eq!(server.get("/notes/posts/hello/").status, 200);
    let bare = server.get("/notes");
    assert_eq!(bare.status, 301);
    assert_eq!(bare.header("location"), Some("/notes/"));
    assert_eq!(server.get("/posts/hello/").status, 404);
    let alias = server.get("/notes/old/hello/");
    assert_eq!(alias.status, 301);
    assert_eq!(alias.header("location"), Some("/notes/posts/hello/"));
    let status = server.get("/.well-known/forkblog/status");
    assert_eq!(status.status, 200);
    assert!(status.text().contains("\"posts\":2"), "{}", status.text());
    server.stop();
}

#[test]
fn a_reload_serves_the_edit_under_the_prefix() {
    let site = notes_site();
    common::set_mode(&site.root, 0o755);
    let server = Server::start(&site.root, &[]);
    let about = server.get("/notes/about/").text();
    site.file(
        "posts/second.md",
        "---\ntitle: Second\ndate: 2024-02-03\n---\nEdited: [about](/about/).\n",
    );
    common::set_mode(&site.root, 0o755);
    server.signal("HUP");
    let edited = common::wait_until(std::time::Duration::from_secs(60), || {
        server
            .get("/notes/posts/second/")
            .text()
            .contains("Edited: <a href=\"/notes/about/\">")
    });
    assert!(edited, "{}", server.log_text());
    // Kept from the snapshot before, under its served path.
    assert_eq!(server.get("/notes/about/").text(), about);
    assert_eq!(server.get("/").header("location"), Some("/notes/"));
    assert!(
        server.log_text().contains("pages as they were"),
        "{}",
        server.log_text()
    );
    server.stop();
}

/// Every file under `dir`, as the URL path it is served at under `prefix` (a folder's
/// `index.html` at the folder).
fn output_urls(dir: &Path, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read output").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let url = match rel.strip_suffix("index.html") {
                Some(folder) => format!("{prefix}/{folder}"),
                None => format!("{prefix}/{rel}"),
            };
            out.push(url);
        }
    }
    out.sort();
    out
}

/// Writes `files` as the site at `src`, builds it with `generator` (given `args`, then
/// `--source` and `--destination`) and returns the URLs of every file it wrote, under `/notes`.
fn generate(
    src: &Path,
    files: &[(&str, &[u8])],
    generator: &mut Command,
    args: &[&str],
) -> Vec<String> {
    for (rel, body) in files {
        let path = src.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    let out = src.with_file_name("output");
    run(generator
        .args(args)
        .arg("--quiet")
        .arg("--source")
        .arg(src)
        .arg("--destination")
        .arg(&out)
        .env("JEKYLL_ENV", "production")
        .env("HUGO_ENABLEGITINFO", "false"));
    output_urls(&out, "/notes")
}

fn run(command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (is the generator installed?)"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Imports `src`, serves it and asks for every URL in `urls`: those not answered 200 directly,
/// and each of `aliases` not answered with a redirect to a page that answers 200.
fn unanswered(
    generator: Generator,
    src: &Path,
    work: &Path,
    urls: &[String],
    aliases: &[String],
) -> Vec<String> {
    let root = work.join("root");
    import(generator, src, &root).expect("import");
    common::set_mode(work, 0o755);
    let server = Server::start(&root, &[]);
    let home = server.get("/");
    assert_eq!(home.status, 301, "/ of the server");
    assert_eq!(home.header("location"), Some("/notes/"));
    let mut missing = Vec::new();
    let mut links = Vec::new();
    for url in urls {
        let page = server.get(url);
        if page.status != 200 {
            missing.push(url.clone());
        } else if page
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
        {
            for link in urls_in(&page.text()) {
                links.extend(served_path(url, &link).map(|to| (url.clone(), to)));
            }
        }
    }
    // The links in every page lead to something served, under the prefix.
    let link_count = links.len();
    assert!(
        link_count > urls.len(),
        "only {link_count} links in the pages"
    );
    for (on, to) in links {
        let status = server.get(&to).status;
        // A folder named without its `/` is the server's own redirect.
        let to_folder = status == 301 && !to.ends_with('/');
        if status != 200 && !to_folder {
            missing.push(format!("{to} (linked from {on}: {status})"));
        }
    }
    for alias in aliases {
        let moved = server.get(alias);
        let to = moved.header("location").unwrap_or("");
        if moved.status != 301 || !to.starts_with("/notes/") || server.get(to).status != 200 {
            missing.push(format!("{alias} (redirect: {} to {to:?})", moved.status));
        }
    }
    eprintln!(
        "{generator:?}: {}/{} output URLs answered 200, {link_count} links in their pages \
         checked, {} aliases asked; not answered: {missing:?}",
        urls.len() - missing.iter().filter(|m| urls.contains(m)).count(),
        urls.len(),
        aliases.len()
    );
    server.stop();
    missing
}

#[test]
fn a_jekyll_site_with_a_baseurl_answers_every_url_jekyll_wrote() {
    // The default permalink style, then `pretty`, which pages follow too (`/contact/`).
    let dated = [
        "/notes/2024/01/02/hello.html",
        "/notes/news/2024/02/03/second-post.html",
        "/notes/contact.html",
        "/notes/docs/guide.html",
    ];
    let pretty = [
        "/notes/2024/01/02/hello/",
        "/notes/news/2024/02/03/second-post/",
        "/notes/contact/",
        "/notes/docs/guide/",
    ];
    for (style, expected) in [("", dated), ("permalink: pretty\n", pretty)] {
        jekyll_site_under_notes(style, &expected);
    }
}

/// A Jekyll site under `/notes` with the permalink setting `style`, built by Jekyll, whose
/// output includes the URLs `expected`: every URL it wrote answers once imported.
fn jekyll_site_under_notes(style: &str, expected: &[&str]) {
    let work = TempDir::new("prefix-jekyll");
    let src: PathBuf = work.path().join("src");
    let config = format!(
        "title: Notes\nurl: https://example.org\nbaseurl: /notes\n{style}plugins:\n  - jekyll-feed\n"
    );
    let files: &[(&str, &[u8])] = &[
        ("_config.yml", config.as_bytes()),
        ("_layouts/default.html", b"<html><body>{{ content }}</body></html>\n"),
        (
            "_posts/2024-01-02-hello.md",
            b"---\nlayout: default\ntitle: Hello\n---\nSee [about]({{ '/about/' | relative_url }}), \
              ![x]({{ site.baseurl }}/img/x.png), [c]({{ \"contact.html\" | absolute_url }}) \
              and [notes](/notes/files/notes.txt).\n",
        ),
        (
            "_posts/2024-02-03-second-post.md",
            b"---\nlayout: default\ntitle: Second post\ncategories: [news]\n---\nBack to \
              [hello]({% post_url 2024-01-02-hello %}).\n",
        ),
        (
            "_posts/2024-03-04-third.markdown",
            b"---\nlayout: default\ntitle: Third\npermalink: /third/\n---\nThird.\n",
        ),
        ("about.md", b"---\nlayout: default\ntitle: About\npermalink: /about/\n---\nAbout.\n"),
        ("contact.md", b"---\nlayout: default\ntitle: Contact\n---\nWrite.\n"),
        ("index.html", b"---\nlayout: default\n---\n{% for p in site.posts %}<a href=\"{{ p.url | relative_url }}\">{{ p.title }}</a>{% endfor %}\n"),
        ("img/x.png", b"\x89PNG\r\n\x1a\n"),
        ("files/notes.txt", b"plain\n"),
        ("css/site.css", b"body { margin: 0 }\n"),
        (
            "docs/guide.md",
            b"---\nlayout: default\ntitle: Guide\n---\nBack [home]({{ '/' | relative_url }}).\n",
        ),
    ];
    let urls = generate(&src, files, &mut Command::new("jekyll"), &["build"]);
    let always = [
        "/notes/third/",
        "/notes/about/",
        "/notes/css/site.css",
        "/notes/feed.xml",
        "/notes/img/x.png",
    ];
    for expected in expected.iter().chain(&always) {
        assert!(urls.iter().any(|u| u == expected), "jekyll wrote {urls:?}");
    }
    let missing = unanswered(Generator::Jekyll, &src, work.path(), &urls, &[]);
    // Nothing left raw, no link broken, no setting lost.
    let build = forkblog::site::build(&work.path().join("root"));
    assert!(build.problems.is_empty(), "{:#?}", build.problems);
    let config = std::fs::read_to_string(work.path().join("root/forkblog.toml")).unwrap();
    assert!(
        config.contains("base_url = \"https://example.org/notes\""),
        "{config}"
    );
    assert!(
        missing.is_empty(),
        "{style:?}: not answered 200: {missing:?} of {urls:?}"
    );
}

#[test]
fn a_hugo_site_with_a_path_in_base_url_answers_every_url_hugo_wrote() {
    let work = TempDir::new("prefix-hugo");
    let src: PathBuf = work.path().join("src");
    let files: &[(&str, &[u8])] = &[
        (
            "hugo.toml",
            b"baseURL = \"https://example.org/notes/\"\ntitle = \"Notes\"\n\
              disableKinds = [\"section\"]\n[taxonomies]\ntag = \"tags\"\n\
              [outputs]\ntaxonomy = [\"html\"]\nterm = [\"html\"]\n",
        ),
        ("layouts/_default/single.html", b"<html><body>{{ .Content }}</body></html>\n"),
        ("layouts/_default/list.html", b"<html><body>{{ range .Pages }}<a href=\"{{ .RelPermalink }}\">{{ .Title }}</a>{{ end }}</body></html>\n"),
        (
            "content/posts/hello.md",
            b"+++\ntitle = \"Hello\"\ndate = 2024-01-02\naliases = [\"/old/hello/\"]\n\
              tags = [\"rust\", \"small servers\"]\n+++\nSee ![x](/notes/img/x.png).\n",
        ),
        (
            "content/posts/second.md",
            b"+++\ntitle = \"Second\"\ndate = 2024-02-03\nslug = \"the-second\"\n+++\nSecond.\n",
        ),
        ("content/about.md", b"+++\ntitle = \"About\"\n+++\nAbout.\n"),
        ("static/img/x.png", b"\x89PNG\r\n\x1a\n"),
    ];
    let urls = generate(&src, files, &mut Command::new("hugo"), &[]);
    // Sections and taxonomy feeds are off: forkblog lists posts its own way (its tag pages
    // answer where Hugo's did), which is not what this test is about. Hugo's alias pages are redirects by
    // design: asked for as redirects to the post.
    let (aliases, urls): (Vec<String>, Vec<String>) =
        urls.into_iter().partition(|u| u.starts_with("/notes/old/"));
    assert_eq!(aliases, ["/notes/old/hello/"]);
    for expected in [
        "/notes/posts/hello/",
        "/notes/posts/the-second/",
        "/notes/about/",
        "/notes/tags/",
        "/notes/tags/small-servers/",
        "/notes/index.xml",
        "/notes/sitemap.xml",
        "/notes/img/x.png",
    ] {
        assert!(urls.iter().any(|u| u == expected), "hugo wrote {urls:?}");
    }
    let missing = unanswered(Generator::Hugo, &src, work.path(), &urls, &aliases);
    assert!(
        missing.is_empty(),
        "not answered 200: {missing:?} of {urls:?}"
    );
}

/// The entry ids of an Atom feed, in order.
fn entry_ids(feed: &str) -> Vec<String> {
    feed.split("<entry")
        .skip(1)
        .filter_map(|entry| {
            let start = entry.find("<id>")? + 4;
            Some(entry[start..start + entry[start..].find("</id>")?].to_string())
        })
        .collect()
}

#[test]
fn jekyll_feed_ids_are_kept_with_and_without_the_sites_url() {
    for url in ["", "url: https://example.org\n"] {
        let work = TempDir::new("prefix-feed-ids");
        let src = work.path().join("src");
        let config = format!("title: T\n{url}baseurl: /notes\nplugins:\n  - jekyll-feed\n");
        let files: &[(&str, &[u8])] = &[
            ("_config.yml", config.as_bytes()),
            (
                "_posts/2024-01-02-hello.md",
                b"---\ntitle: Hello\ncategories: [news]\n---\nx\n",
            ),
            (
                "_posts/2024-01-03-pretty-one.md",
                b"---\ntitle: P\npermalink: /p/:title/\n---\nx\n",
            ),
            ("_posts/2024-01-04-café.md", b"---\ntitle: C\n---\nx\n"),
        ];
        generate(&src, files, &mut Command::new("jekyll"), &["build"]);
        let old = std::fs::read_to_string(src.with_file_name("output").join("feed.xml")).unwrap();
        let old_ids = entry_ids(&old);
        assert_eq!(old_ids.len(), 3, "{old}");
        let root = work.path().join("root");
        import(Generator::Jekyll, &src, &root).expect("import");
        let site = forkblog::site::build(&root).site.expect("builds");
        let new_ids = entry_ids(text(&site, "/notes/feed.xml"));
        assert_eq!(new_ids, old_ids, "with {url:?}");
    }
}

#[test]
fn a_zola_site_with_a_path_in_base_url_keeps_its_urls() {
    // Zola is not packaged: its URLs by its documented rules, the base URL's path, then the
    // section's path and the page's slug; aliases, `static/` and the feed under it too.
    let s = import_common::Scratch::new("prefix-zola");
    s.file(
        "config.toml",
        "base_url = \"https://example.org/notes\"\ntitle = \"T\"\ngenerate_feeds = true\n",
    )
    .file(
        "content/blog/_index.md",
        "+++\ntitle = \"TempSite\"\nsort_by = \"date\"\n+++\n",
    )
    .file(
        "content/blog/hello.md",
        "+++\ntitle = \"Hello\"\ndate = 2024-01-02\naliases = [\"/old/\"]\n+++\n\
         See [two](@/blog/second.md) and ![i](/img/x.png).\n",
    )
    .file(
        "content/blog/second.md",
        "+++\ntitle = \"Second\"\ndate = 2024-01-03\n+++\nx\n",
    );
    s.file("static/img/x.png", b"\x89PNG\r\n\x1a\n");
    import(Generator::Zola, &s.src(), &s.dest()).expect("import");
    let build = forkblog::site::build(&s.dest());
    assert!(build.problems.is_empty(), "{:#?}", build.problems);
    let site = build.site.expect("builds");
    let urls: Vec<String> = [
        "/notes/blog/hello/",
        "/notes/blog/second/",
        "/notes/old/",
        "/notes/atom.xml",
        "/notes/img/x.png",
    ]
    .map(String::from)
    .into();
    assert!(import_common::unanswered(&site, &urls).is_empty());
    let post = text(&site, "/notes/blog/hello/");
    assert!(post.contains("href=\"/notes/blog/second/\""), "{post}");
    assert!(post.contains("src=\"/notes/img/x.png\""), "{post}");
}
