//! Other generators' template syntax in posts: the Liquid that Jekyll posts use is carried out,
//! links between posts resolve, and anything else is reported with file and line.

mod common;

use common::site::text;
use common::TempSite;

/// `html` with its tags taken out (entities kept).
fn without_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn liquid_subset_and_highlight_blocks() {
    let t = TempSite::new("liquid");
    t.file(
        "forkblog.toml",
        "base_url = \"https://b.example\"\nhighlight = true\n",
    )
        .file(
            "posts/2020-01-01-a.md",
            "---\ntitle: Hello\n---\n## {{ page.title }}\n\n{% highlight ruby %}\n> p(\"a\")\n{% endhighlight %}\n\nSee [b]({% post_url 2020-01-02-b %}), [c]({% link _posts/2020-01-03-c.md %}) and ![logo]({{ site.baseurl }}/logo.png) at {{ site.url }}.\n\n{% raw %}{{ not a variable }}{% endraw %}\n",
        )
        .file("posts/2020-01-02-b.md", "---\ntitle: B\npermalink: /b.html\n---\nb\n")
        .file("posts/2020-01-03-c.md", "---\ntitle: C\n---\nc\n")
        .file("templates/root/logo.png", b"\x89PNG");
    let site = t.site();
    let page = text(&site, "/posts/a/");
    assert!(page.contains("<h2 id=\"hello\">Hello</h2>"), "{page}");
    assert!(
        page.contains("<pre><code class=\"language-ruby\">"),
        "{page}"
    );
    let code_start = page
        .find("<pre><code class=\"language-ruby\">")
        .expect("a ruby code block");
    let code_end = code_start + page[code_start..].find("</code></pre>").unwrap();
    // Straight quotes, however the HTML spells them (the sanitiser writes them bare).
    assert_eq!(
        without_tags(&page[code_start..code_end]).replace("&quot;", "\""),
        "&gt; p(\"a\")\n",
        "the code as written, straight quotes and all"
    );
    assert!(page.contains("<span class=\"hl-"), "highlighted: {page}");
    assert!(text(&site, "/static/style.css").contains(".hl-string"));
    assert!(
        !page.contains("<blockquote>") && !page.contains('\u{201c}'),
        "{page}"
    );
    assert!(page.contains("href=\"/b.html\""), "{page}");
    assert!(page.contains("href=\"/posts/c/\""), "{page}");
    assert!(page.contains("src=\"/logo.png\""), "{page}");
    assert!(page.contains("at https://b.example."), "{page}");
    assert!(page.contains("{{ not a variable }}"), "{page}");
}

#[test]
fn zola_internal_links_resolve() {
    let t = TempSite::new("zola-links");
    t.file(
        "posts/blog/a.md",
        "+++\ntitle = \"A\"\ndate = 2020-01-01\n+++\n[b](@/blog/b.md#part) and [about](@/about.md)\n",
    )
    .file("posts/blog/b.md", "+++\ntitle = \"B\"\ndate = 2020-01-02\npath = \"2020/b\"\n+++\nb\n")
    .file("pages/about.md", "+++\ntitle = \"About\"\n+++\nme\n");
    let site = t.site();
    let page = text(&site, "/posts/a/");
    assert!(page.contains("href=\"/2020/b/#part\""), "{page}");
    assert!(page.contains("href=\"/about/\""), "{page}");
}

#[test]
fn leftover_syntax_and_broken_links_are_reported_with_lines() {
    let t = TempSite::new("leftovers");
    t.file(
        "posts/2020-01-01-x.md",
        "---\ntitle: X\n---\nText.\n\n{{< plotly json=\"a.json\" >}}\n\n{{ admonition(type=\"note\") }}\n\n`{{ in code }}`\n\n[gone](@/blog/gone.md)\n{% include note.html %}\n",
    );
    let build = t.build();
    let found: Vec<(Option<usize>, String)> = build
        .problems
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    let lines: Vec<usize> = found.iter().filter_map(|f| f.0).collect();
    assert_eq!(lines, [6, 8, 13, 12], "{found:#?}");
    assert!(found[0].1.contains("plotly"), "{found:#?}");
    assert!(found[3].1.contains("blog/gone.md"), "{found:#?}");
    assert!(build
        .problems
        .iter()
        .all(|p| p.file.ends_with("posts/2020-01-01-x.md")));
}
