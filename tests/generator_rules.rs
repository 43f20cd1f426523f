//! Small rules of the generators a moved site relies on: a JSON feed stays JSON, footnotes
//! sit at the end of the article, and a `{%` that is part of a URL is no Liquid tag.

mod common;
mod import_common;

use common::site::{get, text};
use common::TempSite;
use forkblog::import::{import, Generator};
use import_common::Scratch;

#[test]
fn a_json_feed_path_serves_a_json_feed_with_the_atom_feeds_ids() {
    let site = TempSite::new("json-feed");
    site.file(
        "forkblog.toml",
        "base_url = \"https://example.org\"\nfeed_paths = [\"/feed.xml\", \"/feed.json\"]\n\
         feed_ids = \"jekyll\"\n",
    )
    .file(
        "posts/2024-01-02-hello.md",
        "---\ntitle: Hello\ntags: [a]\n---\nSee [about](/about/).\n",
    )
    .file("posts/2024-01-03-two.md", "---\ntitle: Two\n---\nTwo.\n")
    .file("pages/about.md", "---\ntitle: About\n---\nx\n");
    let built = site.site();
    let json = get(&built, "/feed.json").expect("/feed.json served");
    assert!(
        json.content_type.starts_with("application/json"),
        "{}",
        json.content_type
    );
    let feed: serde_json::Value = serde_json::from_slice(&json.body).expect("JSON");
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["feed_url"], "https://example.org/feed.json");
    let items = feed["items"].as_array().expect("items");
    let ids: Vec<String> = items
        .iter()
        .map(|i| i["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "https://example.org/posts/two",
            "https://example.org/posts/hello"
        ]
    );
    let atom = text(&built, "/feed.xml");
    assert!(ids
        .iter()
        .all(|id| atom.contains(&format!("<id>{id}</id>"))));
    assert_eq!(items[1]["url"], "https://example.org/posts/hello/");
    assert!(items[1]["content_html"]
        .as_str()
        .unwrap_or("")
        .contains("href=\"/about/\""));
    assert_eq!(items[1]["tags"], serde_json::json!(["a"]));
    assert!(get(&built, "/feed.xml")
        .unwrap()
        .content_type
        .starts_with("application/atom+xml"));
}

#[test]
fn a_jekyll_json_feed_template_becomes_a_json_feed_at_its_path() {
    let s = Scratch::new("json-feed");
    s.file("_config.yml", "title: T\nurl: https://example.org\n")
        .file("_posts/2024-01-02-hello.md", "---\ntitle: Hello\n---\nx\n")
        .file(
            "feed.json",
            "---\nlayout: null\n---\n{ \"version\": \"https://jsonfeed.org/version/1\", \"items\": [] }\n",
        );
    import(Generator::Jekyll, &s.src(), &s.dest()).expect("import");
    let built = forkblog::site::build(&s.dest()).site.expect("builds");
    let json = get(&built, "/feed.json").expect("/feed.json served");
    assert!(json.content_type.starts_with("application/json"));
    let feed: serde_json::Value = serde_json::from_slice(&json.body).expect("JSON");
    assert_eq!(feed["items"][0]["title"], "Hello");
}

#[test]
fn footnotes_sit_at_the_end_of_the_article_as_kramdown_and_goldmark_put_them() {
    let site = TempSite::new("footnotes");
    site.file(
        "posts/2024-01-02-notes.md",
        "---\ntitle: Notes\n---\nFirst[^1] paragraph.\n\n[^1]: The note, written here.\n\n\
         ## Later\n\nThe last paragraph.\n",
    );
    let built = site.site();
    let page = text(&built, "/posts/notes/");
    let last = page.find("The last paragraph.").expect("text");
    let note = page.find("The note, written here.").expect("note");
    assert!(
        last < note,
        "the footnote comes before the end of the text:\n{page}"
    );
    let article_end = page.find("</article>").expect("article");
    assert!(note < article_end, "{page}");
}

#[test]
fn a_brace_before_a_percent_escape_in_an_image_url_is_no_liquid_tag() {
    let site = TempSite::new("percent-brace");
    site.file(
        "posts/2024-01-02-chart.md",
        "---\ntitle: Chart\n---\n![chart](https://img.example/c?c={%22type%22:%22bar%22})\n",
    );
    // `site()` insists on no problem at all: `check` says nothing of it.
    let built = site.site();
    assert!(text(&built, "/posts/chart/")
        .contains("src=\"https://img.example/c?c=%7B%22type%22:%22bar%22%7D\""));
}

#[test]
fn a_file_opening_with_dashes_but_no_front_matter_is_served_as_it_is() {
    let s = Scratch::new("pgp");
    let signed = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\nRuby 1.8.0 is out.\n";
    s.file("_config.yml", "title: T\n")
        .file("ja/announce.txt", signed)
        .file("note.txt", "---\ntitle: x\n---\nLiquid here\n");
    import(Generator::Jekyll, &s.src(), &s.dest()).expect("import");
    let built = forkblog::site::build(&s.dest()).site.expect("builds");
    assert_eq!(text(&built, "/ja/announce.txt"), signed);
    assert!(
        get(&built, "/note.txt").is_none(),
        "front matter: not carried as it is"
    );
}
