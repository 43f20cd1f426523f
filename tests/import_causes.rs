//! One small site per cause of lost URLs in issue 25, each built from the generator's
//! documented rule (the URL written out by hand), each failing before its fix.

mod import_common;

use forkblog::import::{import, Generator};
use forkblog::site::{self, Site};
use import_common::{answered, Scratch};

fn moved(s: &Scratch, generator: Generator) -> Site {
    import(generator, &s.src(), &s.dest()).expect("import");
    site::build(&s.dest()).site.expect("site builds")
}

fn assert_answers(site: &Site, urls: &[&str]) {
    let paths: Vec<&str> = site.resources.iter().map(|r| r.path.as_str()).collect();
    for url in urls {
        assert!(answered(site, url), "{url} not answered; served: {paths:?}");
    }
}

#[test]
fn jekyll_posts_collection_permalink() {
    let s = Scratch::new("collection");
    s.file(
        "_config.yml",
        "permalink: /:title.html\ncollections:\n  posts:\n    output: true\n    permalink: /news/:year/:month/:day/:title/\n",
    )
    .file("_posts/2013-05-06-hello.md", "---\ntitle: Hello\n---\nx\n");
    let site = moved(&s, Generator::Jekyll);
    assert_answers(&site, &["/news/2013/05/06/hello/"]);
}

#[test]
fn jekyll_timezone_moves_the_url_day() {
    // 02:12 at +02:00 is 17:12 the day before in Los Angeles, where Jekyll dates the post.
    let s = Scratch::new("zone");
    s.file("_config.yml", "timezone: America/Los_Angeles\n")
        .file(
            "_posts/2013-05-06-late.md",
            "---\ntitle: Late\ndate: 2013-05-06 02:12:52 +0200\n---\nx\n",
        )
        .file(
            "_posts/2013-05-06-local.md",
            "---\ntitle: Local\ndate: 2013-05-06 02:12:52\n---\nx\n",
        );
    let site = moved(&s, Generator::Jekyll);
    assert_answers(&site, &["/2013/05/05/late.html", "/2013/05/06/local.html"]);
}

#[test]
fn hugo_config_folder_permalinks_ugly_urls_and_filename_dates() {
    let s = Scratch::new("hugodir");
    s.file(
        "config/_default/hugo.toml",
        "baseURL = \"https://ex.org/\"\ntitle = \"T\"\nuglyURLs = true\n[frontmatter]\ndate = [\":filename\", \":default\"]\n",
    )
    .file(
        "config/_default/permalinks.toml",
        "blog = \"/blog/:year/:month/:day/:slug/\"\n",
    )
    .file("config/_default/params.toml", "description = \"D\"\n")
    .file("config/production/hugo.toml", "title = \"Prod\"\n")
    .file(
        "content/blog/2024-07-15-some-title.md",
        "---\ntitle: Quite Another Title\n---\nx\n",
    )
    .file(
        "content/notes/plain.md",
        "---\ntitle: Plain\ndate: 2020-01-01\n---\nx\n",
    );
    let site = moved(&s, Generator::Hugo);
    // `:slug` without a slug is the title; uglyURLs ends a path in `.html`.
    assert_answers(
        &site,
        &[
            "/blog/2024/07/15/quite-another-title.html",
            "/notes/plain.html",
        ],
    );
    let config = std::fs::read_to_string(s.dest().join("forkblog.toml")).unwrap();
    assert!(config.contains("title = \"Prod\""), "{config}");
}

#[test]
fn hugo_languages_content_dirs_suffixes_and_disabled() {
    let s = Scratch::new("hugolang");
    s.file(
        "hugo.yaml",
        "baseURL: https://ex.org/\ndefaultContentLanguage: en\nlanguages:\n  en:\n    contentDir: content/en\n  fr:\n    contentDir: content/fr\n  zh: {}\n  ar:\n    disabled: true\n",
    )
    .file("content/en/blog/first.md", "---\ntitle: First\n---\nx\n")
    .file("content/fr/blog/premier.md", "---\ntitle: Premier\n---\nx\n")
    .file("content/en/blog/some-post.zh.md", "---\ntitle: Zh\n---\nx\n")
    .file("content/en/community.md", "---\ntitle: Community\n---\nen\n")
    .file("content/en/community.ar.md", "---\ntitle: Arabic\n---\nar\n")
    .file(
        "content/en/blog/api.md",
        "---\ntitle: API\n_build: { render: link }\n---\nplaceholder\n",
    );
    let site = moved(&s, Generator::Hugo);
    assert_answers(
        &site,
        &[
            "/blog/first/",
            "/fr/blog/premier/",
            "/zh/blog/some-post/",
            "/community/",
        ],
    );
    let community = site
        .resources
        .iter()
        .find(|r| r.path == "/community/")
        .unwrap();
    assert!(String::from_utf8_lossy(&community.body).contains("<p>en</p>"));
    assert!(!answered(&site, "/ar/community/"));
    // A page Hugo only lists (`build.render: link`) was never published: not a post here.
    assert!(!answered(&site, "/blog/api/"));
    // `first` and `premier`; the `.zh` file is a translation, served but not listed.
    assert_eq!(site.post_count, 2);
}

#[test]
fn zola_path_with_a_dot_keeps_its_slash_and_dated_sections_are_posts() {
    let s = Scratch::new("zoladot");
    s.file(
        "config.toml",
        "base_url = \"https://ex.org\"\ntitle = \"Z\"\n",
    )
    .file("content/_index.md", "+++\nsort_by = \"date\"\n+++\n")
    .file("content/2015/_index.md", "+++\ntransparent = true\n+++\n")
    .file(
        "content/2015/release.md",
        "+++\ntitle = \"v1.2\"\ndate = 2015-05-15\npath = \"2015/05/15/v1.2-released\"\n+++\nx\n",
    )
    .file(
        "content/2015/other.md",
        "+++\ntitle = \"Other\"\ndate = 2015-06-01\n+++\nx\n",
    )
    .file("content/docs/_index.md", "+++\n+++\n")
    .file("content/docs/guide.md", "+++\ntitle = \"Guide\"\n+++\nx\n");
    let site = moved(&s, Generator::Zola);
    let dotted = site
        .resources
        .iter()
        .find(|r| r.path == "/2015/05/15/v1.2-released/");
    assert!(
        dotted.is_some_and(|r| forkblog::site::redirect::target(r).is_none()),
        "{:?}",
        site.resources.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_answers(&site, &["/2015/other/", "/docs/guide/"]);
    // The two pages of the date-sorted (transparent) section are posts; the guide is a page.
    assert_eq!(site.post_count, 2);
}

#[test]
fn jekyll_front_matter_lang_and_repeated_keys() {
    let s = Scratch::new("jlang");
    s.file("_config.yml", "permalink: pretty\n")
        .file(
            "de/news/_posts/2020-01-02-hallo.md",
            "---\ntitle: \"Hello\"\ntitle: \"Hallo\"\nlang: de\n---\nx\n",
        )
        .file(
            "en/news/_posts/2020-01-02-hello.md",
            "---\ntitle: Hello\nlang: en\n---\nx\n",
        );
    let site = moved(&s, Generator::Jekyll);
    assert_answers(
        &site,
        &["/de/news/2020/01/02/hallo/", "/en/news/2020/01/02/hello/"],
    );
    // Jekyll has no translations: both are posts.
    assert_eq!(site.post_count, 2);
}

#[test]
fn front_matter_after_blank_lines() {
    let s = Scratch::new("blank");
    s.file("hugo.toml", "baseURL = \"https://ex.org/\"\n").file(
        "content/blog/late.md",
        "\n\n+++\ntitle = \"Late\"\nslug = \"on-time\"\n+++\nbody\n",
    );
    let site = moved(&s, Generator::Hugo);
    assert_answers(&site, &["/blog/on-time/"]);
    let page = site
        .resources
        .iter()
        .find(|r| r.path == "/blog/on-time/")
        .unwrap();
    assert!(!String::from_utf8_lossy(&page.body).contains("+++"));
}

/// The `<id>`s of a feed's entries, in order.
fn entry_ids(feed: &str) -> Vec<String> {
    feed.split("<entry>")
        .skip(1)
        .filter_map(|e| {
            let start = e.find("<id>")? + 4;
            let end = e[start..].find("</id>")? + start;
            Some(e[start..end].to_string())
        })
        .collect()
}

#[test]
fn section_feeds_keep_their_paths_and_ids() {
    let s = Scratch::new("secfeed");
    s.file("hugo.toml", "baseURL = \"https://ex.org/\"\n")
        .file(
            "content/blog/one.md",
            "---\ntitle: One\ndate: 2020-01-01\n---\nx\n",
        )
        .file(
            "content/notes/two.md",
            "---\ntitle: Two\ndate: 2020-01-02\n---\ny\n",
        );
    let site = moved(&s, Generator::Hugo);
    let text = |path: &str| {
        let r = site.resources.iter().find(|r| r.path == path);
        String::from_utf8_lossy(&r.unwrap_or_else(|| panic!("{path} not served")).body).into_owned()
    };
    let main = entry_ids(&text("/index.xml"));
    let blog = entry_ids(&text("/blog/index.xml"));
    let notes = entry_ids(&text("/notes/index.xml"));
    assert_eq!(main.len(), 2, "{main:?}");
    assert_eq!(blog.len(), 1);
    assert_eq!(notes.len(), 1);
    assert!(main.contains(&blog[0]) && main.contains(&notes[0]) && blog != notes);
}

#[test]
fn import_ends_with_a_summary_and_turns_math_on() {
    let s = Scratch::new("summary");
    s.file("config.toml", "base_url = \"https://ex.org\"\ntitle = \"Z\"\n")
        .file("content/_index.md", "+++\nsort_by = \"date\"\n+++\n")
        .file(
            "content/tex.md",
            "+++\ntitle = \"TeX\"\ndate = 2021-01-01\n+++\n<script src=\"https://cdn.example/mathjax/tex-chtml.js\"></script>\n\n$$x^2$$\n",
        );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_forkblog"))
        .arg("import")
        .arg("zola")
        .arg(s.src())
        .arg("--root")
        .arg(s.dest())
        .output()
        .expect("run forkblog import");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "1 posts, 0 pages",
        "old URLs kept",
        "feed at",
        "math on",
        "next: forkblog check",
    ] {
        assert!(stdout.contains(needle), "{needle:?} not in:\n{stdout}");
    }
    let config = std::fs::read_to_string(s.dest().join("forkblog.toml")).unwrap();
    assert!(config.contains("math = true"), "{config}");
    let site = site::build(&s.dest()).site.expect("builds");
    let page = site
        .resources
        .iter()
        .find(|r| r.path == "/tex/")
        .expect("/tex/");
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("<math") && !html.contains("$$"), "{html}");
}

#[test]
fn video_embeds_from_known_players_survive_the_sanitiser() {
    let s = Scratch::new("iframe");
    s.file("_config.yml", "permalink: /:title/\n").file(
        "_posts/2020-01-01-video.md",
        "---\ntitle: Video\n---\nWatch:\n\n<iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\" allowfullscreen></iframe>\n\n<iframe src=\"https://player.vimeo.com/video/76979871\"></iframe>\n\n<iframe src=\"https://evil.example/x\" onload=\"alert(1)\"></iframe>\n<iframe src=\"javascript:alert(1)\"></iframe>\n",
    );
    let site = moved(&s, Generator::Jekyll);
    let page = site
        .resources
        .iter()
        .find(|r| r.path == "/video/")
        .expect("/video/");
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("src=\"https://www.youtube.com/embed/dQw4w9WgXcQ\"")
            && html.contains("src=\"https://player.vimeo.com/video/76979871\""),
        "{html}"
    );
    assert_eq!(html.matches("<iframe").count(), 2, "{html}");
    assert!(
        !html.contains("evil.example") && !html.contains("javascript:") && !html.contains("onload")
    );
}

#[test]
fn check_and_build_tell_warnings_from_errors() {
    let s = Scratch::new("severity");
    let root = s.dest();
    std::fs::create_dir_all(root.join("posts")).unwrap();
    // A post with no date anywhere and a broken link: the site is still whole.
    std::fs::write(
        root.join("posts/undated.md"),
        "---\ntitle: Undated\n---\nSee [gone](/nowhere/).\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_forkblog"))
            .args(args)
            .output()
            .expect("run forkblog")
    };
    let root_arg = root.to_str().unwrap();
    let out_dir = s.dir.join("out");
    let check = run(&["check", "--root", root_arg]);
    let said = String::from_utf8_lossy(&check.stderr).into_owned();
    assert!(check.status.success(), "{said}");
    assert!(
        said.contains("warning: ") && said.contains("undated.md"),
        "{said}"
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("2 warning(s)"));
    assert_eq!(
        run(&["check", "--strict", "--root", root_arg])
            .status
            .code(),
        Some(1)
    );
    let build = run(&[
        "build",
        "--out",
        out_dir.to_str().unwrap(),
        "--root",
        root_arg,
    ]);
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(out_dir.join("index.html").is_file());
    // A post that cannot be read as a post is an error: check and build fail.
    std::fs::write(
        root.join("posts/broken.md"),
        "---\ntitle: [unclosed\n---\nx\n",
    )
    .unwrap();
    let check = run(&["check", "--root", root_arg]);
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("error: "));
    let again = s.dir.join("out2");
    let build = run(&[
        "build",
        "--out",
        again.to_str().unwrap(),
        "--root",
        root_arg,
    ]);
    assert_eq!(build.status.code(), Some(1));
}

#[test]
fn hugo_builtin_shortcodes_are_written_out() {
    let s = Scratch::new("shortcodes");
    s.file(
        "hugo.toml",
        "baseURL = \"https://ex.org/\"\n[params]\nversion = \"1.2\"\n",
    )
    .file("content/blog/target.md", "---\ntitle: Target\nslug: aim\n---\nx\n")
    .file(
        "content/blog/uses.md",
        "---\ntitle: Uses\n---\nVersion {{< param version >}}, see [it]({{< relref \"target.md\" >}}).\n\n{{< youtube w7Ft2ymGmfc >}}\n",
    );
    let site = moved(&s, Generator::Hugo);
    let page = site
        .resources
        .iter()
        .find(|r| r.path == "/blog/uses/")
        .expect("/blog/uses/");
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("Version 1.2, see <a href=\"/blog/aim/\">it</a>"),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://www.youtube-nocookie.com/embed/w7Ft2ymGmfc\""),
        "{html}"
    );
    assert!(!html.contains("{{"), "{html}");
}

#[test]
fn jekyll_feed_templates_per_folder_keep_answering() {
    let s = Scratch::new("jfeeds");
    s.file("_config.yml", "permalink: pretty\nurl: https://ex.org\n")
        .file(
            "en/news/_posts/2020-01-02-hello.md",
            "---\ntitle: Hello\n---\nx\n",
        )
        .file(
            "de/news/_posts/2020-01-03-hallo.md",
            "---\ntitle: Hallo\n---\ny\n",
        )
        .file("en/feeds/news.rss", "---\nlayout: news_feed\n---\n");
    let site = moved(&s, Generator::Jekyll);
    let feed = site
        .resources
        .iter()
        .find(|r| r.path == "/en/feeds/news.rss")
        .expect("/en/feeds/news.rss served");
    let text = String::from_utf8_lossy(&feed.body);
    assert!(
        text.contains("/en/news/2020/01/02/hello/") && !text.contains("hallo"),
        "{text}"
    );
}
