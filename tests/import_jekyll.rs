//! `forkblog import jekyll`: a Jekyll site generated here in the shapes real blogs use, moved
//! in, and every old URL answered. The URLs are worked out below from Jekyll's documented
//! rules, written out by hand, not through forkblog's code.

mod import_common;

use forkblog::import::{import, Generator};
use forkblog::site;
use import_common::{answered, snapshot, unanswered, Scratch};

/// Writes a Jekyll site with a few dozen posts in varied shapes under `s`; returns the old URL
/// of every post and page (aliases included).
fn jekyll_site(s: &Scratch) -> Vec<String> {
    s.file(
        "_config.yml",
        "title: Old TempSite\nurl: https://old.example\nbaseurl: \"\"\npermalink: /:year/:month/:day/:title.html\nplugins:\n  - jekyll-feed\n  - jekyll-redirect-from\n  - jekyll-paginate\nmarkdown: kramdown\npaginate: 5\n",
    )
    .file("_layouts/post.html", "<html>{{ content }}</html>")
    .file("_includes/head.html", "<head></head>")
    .file("_drafts/unfinished.md", "---\ntitle: Draft\n---\nno\n")
    .file("index.html", "---\nlayout: home\n---\n{% for post in paginator.posts %}{% endfor %}\n")
    .file("feed.xml", "---\nlayout: null\n---\n<feed></feed>\n")
    .file("assets/img/logo.png", b"\x89PNG")
    .file("css/main.css", "body{}")
    .file("Gemfile", "source 'https://rubygems.org'\n");
    let mut urls = Vec::new();
    for i in 0..36u32 {
        let (y, m, d) = (2010 + i % 10, 1 + i % 12, 1 + i % 28);
        let day = format!("{y:04}-{m:02}-{d:02}");
        let url_day = format!("/{y:04}/{m:02}/{d:02}");
        match i % 12 {
            0 => {
                s.file(
                    &format!("_posts/{day}-plain-{i}.md"),
                    format!("---\nlayout: post\ntitle: Plain {i}\n---\nText.\n"),
                );
                urls.push(format!("{url_day}/plain-{i}.html"));
            }
            1 => {
                // Front matter date with a one-digit hour, on another day than the file name.
                s.file(
                    &format!("_posts/{day}-timed-{i}.md"),
                    "---\ntitle: Timed\ndate: 2009-04-25 9:00:00\n---\nx\n",
                );
                urls.push(format!("/2009/04/25/timed-{i}.html"));
            }
            2 => {
                s.file(
                    &format!("_posts/{day}-Mixed-Case-{i}.markdown"),
                    "---\ntitle: \"Mixed: case\"\ncategories: [Code, Rust]\ntags: a b\n---\nx\n",
                );
                urls.push(format!("{url_day}/Mixed-Case-{i}.html"));
            }
            3 => {
                s.file(
                    &format!("_posts/{day}-own-{i}.md"),
                    format!("---\ntitle: Own\npermalink: /writing/own-{i}/\n---\nx\n"),
                );
                urls.push(format!("/writing/own-{i}/"));
            }
            4 => {
                s.file(&format!("_posts/{day}-moved-{i}.md"), format!("---\ntitle: Moved\nredirect_from:\n  - /old/moved-{i}/\n  - /p/{i}.html\n---\nx\n"));
                urls.push(format!("{url_day}/moved-{i}.html"));
                urls.push(format!("/old/moved-{i}/"));
                urls.push(format!("/p/{i}.html"));
            }
            5 => {
                // A category folder above _posts: Jekyll adds the category, this pattern ignores it.
                s.file(
                    &format!("notes/_posts/{day}-folder-{i}.md"),
                    "---\ntitle: In a folder\n---\nx\n",
                );
                urls.push(format!("{url_day}/folder-{i}.html"));
            }
            6 => {
                // Written at 23:30 in California: 07:30 the next day in UTC, where Jekyll builds.
                s.file(
                    &format!("_posts/2018-03-04-zone-{i}.md"),
                    "---\ntitle: Zone\ndate: 2018-03-04 23:30:00 -0800\n---\nx\n",
                );
                urls.push(format!("/2018/03/05/zone-{i}.html"));
            }
            7 => {
                s.file(
                    &format!("_posts/{day}-file-name-{i}.md"),
                    format!("---\ntitle: Slugged\nslug: other-name-{i}\n---\nx\n"),
                );
                urls.push(format!("{url_day}/other-name-{i}.html"));
            }
            8 => {
                s.file(&format!("_posts/{y}/{day}-nested-{i}.md"), "---\ntitle: Nested\ncategory: misc\n---\n{% highlight ruby %}\np 1\n{% endhighlight %}\n");
                urls.push(format!("{url_day}/nested-{i}.html"));
            }
            9 => {
                s.file(
                    &format!("_posts/{day}-same.md"),
                    format!("---\ntitle: Same slug {i}\n---\nx\n"),
                );
                urls.push(format!("{url_day}/same.html"));
            }
            10 => {
                s.file(
                    &format!("_posts/{day}-ruby-time-{i}.md"),
                    "---\ntitle: Ruby time\ndate: 2023-01-29 18:30:22 2023 -0800\n---\nx\n",
                );
                urls.push(format!("/2023/01/30/ruby-time-{i}.html"));
            }
            _ => {
                s.file(&format!("_posts/{day}-no-front-date-{i}.md"), "---\ntitle: \"Quoted: {{ page.title }}\"\ntags: [x]\n---\nSee {{ site.baseurl }}/assets/img/logo.png\n");
                urls.push(format!("{url_day}/no-front-date-{i}.html"));
            }
        }
    }
    s.file("about.md", "---\nlayout: page\ntitle: About\n---\nMe.\n")
        .file(
            "contact.md",
            "---\ntitle: Contact\npermalink: /contact/\n---\nMail.\n",
        )
        .file("projects/index.md", "---\ntitle: Projects\n---\nList.\n");
    urls.extend(["/about.html", "/contact/", "/projects/"].map(String::from));
    urls.extend(["/feed.xml", "/assets/img/logo.png", "/css/main.css"].map(String::from));
    urls
}

#[test]
fn every_old_jekyll_url_is_answered() {
    let s = Scratch::new("jekyll");
    let urls = jekyll_site(&s);
    let report = import(Generator::Jekyll, &s.src(), &s.dest()).expect("import");
    let build = site::build(&s.dest());
    let site = build.site.expect("site builds");
    let missing = unanswered(&site, &urls);
    assert!(
        missing.is_empty(),
        "unanswered: {missing:?}\nproblems: {:#?}",
        build.problems
    );
    assert_eq!(site.post_count, 36);
    // The settings came along.
    let config = std::fs::read_to_string(s.dest().join("forkblog.toml")).unwrap();
    assert!(
        config.contains("permalink = \"/:year/:month/:day/:title.html\""),
        "{config}"
    );
    assert!(
        config.contains("base_url = \"https://old.example\""),
        "{config}"
    );
    assert!(config.contains("feed_ids = \"jekyll\""), "{config}");
    assert!(config.contains("highlight = true"), "{config}");
    let nested = site
        .resources
        .iter()
        .find(|r| r.path == "/2018/09/09/nested-8.html")
        .expect("nested post");
    let nested = std::str::from_utf8(&nested.body).unwrap();
    assert!(
        nested.contains("<span class=\"hl-"),
        "imported code is highlighted: {nested}"
    );
    // What could not come is named with file and line.
    let notes: Vec<String> = report.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("_config.yml:9:") && n.contains("markdown")),
        "{notes:#?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("jekyll-paginate")),
        "{notes:#?}"
    );
    assert!(notes.iter().any(|n| n.contains("_layouts")), "{notes:#?}");
    assert!(!answered(&site, "/unfinished/"));
}

#[test]
fn import_is_idempotent_and_keeps_hand_edits() {
    let s = Scratch::new("jekyll-again");
    jekyll_site(&s);
    let first = import(Generator::Jekyll, &s.src(), &s.dest()).expect("import");
    assert!(first.written > 40);
    let before = snapshot(&s.dest());
    let second = import(Generator::Jekyll, &s.src(), &s.dest()).expect("import again");
    assert_eq!(second.written, 0);
    assert_eq!(second.unchanged, first.written);
    assert_eq!(snapshot(&s.dest()), before, "a second run changes nothing");
    std::fs::write(s.dest().join("forkblog.toml"), "title = \"Mine\"\n").unwrap();
    let third = import(Generator::Jekyll, &s.src(), &s.dest()).expect("import a third time");
    assert_eq!(
        std::fs::read_to_string(s.dest().join("forkblog.toml")).unwrap(),
        "title = \"Mine\"\n"
    );
    assert!(third
        .notes
        .iter()
        .any(|n| n.file.ends_with("forkblog.toml")));
}

#[test]
fn never_writes_outside_dest_nor_follows_symlinks() {
    let s = Scratch::new("jekyll-links");
    s.file("_config.yml", "title: x\n")
        .file("_posts/2020-01-01-a.md", "---\ntitle: A\n---\nx\n");
    let outside = s.dir.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&outside, s.src().join("linked")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), s.src().join("assets.txt")).unwrap();
    // A destination folder that is a symlink out is refused rather than written through.
    std::fs::create_dir_all(s.dest()).unwrap();
    std::os::unix::fs::symlink(&outside, s.dest().join("posts")).unwrap();
    let report = import(Generator::Jekyll, &s.src(), &s.dest()).expect("import");
    assert!(!outside.join("2020-01-01-a.md").exists());
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        1,
        "nothing written outside"
    );
    assert!(!s.dest().join("templates/root/linked").exists());
    assert!(!s.dest().join("templates/root/assets.txt").exists());
    let notes: Vec<String> = report.notes.iter().map(|n| n.to_string()).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("linked") && n.contains("symlink")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("posts") && n.contains("in the way")),
        "{notes:#?}"
    );
}
