//! Every page of the site rendered through the templates: index pages, post pages, tag pages
//! and the tag list, the archive and the 404 page.

use std::collections::BTreeMap;

use jiff::Timestamp;
use minijinja::{context, Value};
use serde::Serialize;

use super::config::Config;
use super::incremental::{hash, Key, Record};
use super::par;
use super::post::Post;
use super::templates::Templates;
use super::text::encode_path;
use super::{Problem, Resource};

/// The Content-Type of every rendered page.
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// A tag as templates see it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TagView {
    /// The tag as first written.
    pub name: String,
    /// URL-safe name.
    pub slug: String,
    /// Link to the tag's page (percent-encoded).
    pub url: String,
    /// How many published posts carry it.
    pub count: usize,
}

/// A post as listing templates see it (no body).
#[derive(Debug, Clone, Serialize)]
struct PostView<'a> {
    title: &'a str,
    slug: &'a str,
    url: String,
    date: String,
    date_iso: String,
    date_display: String,
    year: i16,
    updated: Option<String>,
    updated_iso: Option<String>,
    tags: Vec<TagRef<'a>>,
    description: Option<&'a str>,
    summary: &'a str,
}

#[derive(Debug, Clone, Serialize)]
struct TagRef<'a> {
    name: &'a str,
    url: String,
}

/// A tag with the indexes (into the sorted post list) of its posts, newest first.
#[derive(Debug, Clone)]
pub(crate) struct Tag {
    /// The tag as templates see it.
    pub view: TagView,
    /// Indexes of its posts in the sorted list.
    pub posts: Vec<usize>,
}

/// Groups tags by slug (so `Rust` and `rust` are one tag, named as first seen), sorted by
/// name. `posts` must be sorted newest first; each tag's post list keeps that order.
pub(crate) fn tags(posts: &[Post]) -> Vec<Tag> {
    let mut by_slug: BTreeMap<String, Tag> = BTreeMap::new();
    for (i, post) in posts.iter().enumerate() {
        for (name, slug) in post.tags.iter().zip(&post.tag_slugs) {
            let slug = slug.clone();
            let tag = by_slug.entry(slug.clone()).or_insert_with(|| Tag {
                view: TagView {
                    name: name.clone(),
                    url: encode_path(&format!("/tags/{slug}/")),
                    slug,
                    count: 0,
                },
                posts: Vec::new(),
            });
            if tag.posts.last() != Some(&i) {
                tag.posts.push(i);
                tag.view.count += 1;
            }
        }
    }
    let mut tags: Vec<Tag> = by_slug.into_values().collect();
    tags.sort_by_cached_key(|t| (t.view.name.to_lowercase(), t.view.slug.clone()));
    tags
}

/// Everything the page renderers share.
pub(crate) struct Pages<'a, 'r> {
    /// Settings.
    pub config: &'a Config,
    /// Templates.
    pub templates: &'a Templates,
    /// Published posts, newest first.
    pub posts: &'a [Post],
    /// Tags of those posts.
    pub tags: &'a [Tag],
    /// When settings or templates last changed.
    pub site_modified: Timestamp,
    site: Value,
    views: Vec<Value>,
    /// What each view holds, hashed: the part of a page's key a listed post gives.
    view_keys: Vec<u64>,
    /// The settings, templates and post count every page is given, hashed.
    site_key: u64,
    record: &'a Record<'r>,
}

/// The hash of what a template sees of a post (its listing view).
fn view_key(view: &PostView<'_>) -> u64 {
    serde_json::to_vec(view).map_or(0, |json| hash(&json))
}

impl<'a, 'r> Pages<'a, 'r> {
    /// Prepares the shared values (one listing view per post, built once; the navigation's
    /// pages from `standalone`). A page whose inputs are those it had in the render `record`
    /// read is taken from there; `fingerprint` is the site's (settings and templates, see
    /// `incremental.rs`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: &'a Config,
        templates: &'a Templates,
        posts: &'a [Post],
        standalone: &[Post],
        tags: &'a [Tag],
        site_modified: Timestamp,
        record: &'a Record<'r>,
        fingerprint: u64,
    ) -> Pages<'a, 'r> {
        let menu = menu(standalone);
        let site = context! {
            title => &config.title,
            base_url => &config.base_url,
            author => &config.author,
            description => &config.description,
            language => &config.language,
            posts_per_page => config.posts_per_page,
            feed_url => encode_path(config.feed_paths.first().map_or("/feed.xml", String::as_str)),
            post_count => posts.len(),
            pages => Value::from_serialize(&menu),
        };
        let (views, view_keys): (Vec<Value>, Vec<u64>) = par::map(posts, |p| {
            let v = view(p);
            (Value::from_serialize(&v), view_key(&v))
        })
        .into_iter()
        .unzip();
        let site_key = Key::new("site")
            .word(fingerprint)
            .word(posts.len() as u64)
            .word(serde_json::to_vec(&menu).map_or(0, |json| hash(&json)))
            .finish();
        Pages {
            config,
            templates,
            posts,
            tags,
            site_modified,
            site,
            views,
            view_keys,
            site_key,
            record,
        }
    }

    /// Renders `path` through `template`, unless the earlier render made it from the same
    /// `key` (everything in `extra`, hashed by the caller). `extra` is made only when the
    /// page is rendered.
    fn page(
        &self,
        path: &str,
        template: &str,
        extra: impl FnOnce() -> Value,
        modified: Timestamp,
        key: &mut Key,
    ) -> Result<Resource, Problem> {
        self.page_reused(path, template, extra, modified, key)
            .map(|(page, _)| page)
    }

    /// As [`Pages::page`], and whether the page was taken from the earlier render.
    fn page_reused(
        &self,
        path: &str,
        template: &str,
        extra: impl FnOnce() -> Value,
        modified: Timestamp,
        key: &mut Key,
    ) -> Result<(Resource, bool), Problem> {
        let key = key
            .word(self.site_key)
            .bytes(template.as_bytes())
            .bytes(path.as_bytes())
            .finish();
        let (body, reused) = match self.record.page(path, key) {
            Some(body) => (body, true),
            None => {
                let ctx = context! {
                    site => self.site.clone(),
                    page_path => encode_path(path),
                    canonical_url => format!("{}{}", self.config.base_url, encode_path(path)),
                    ..extra()
                };
                let body = self.templates.render(template, ctx)?;
                // Under `base_url`'s path before the place of a post's HTML in it is taken.
                let body = match self.config.under_base_path(&body) {
                    std::borrow::Cow::Owned(under) => under,
                    std::borrow::Cow::Borrowed(_) => body,
                };
                // A rendered page's String grew by doubling: up to half of it is slack, which
                // would stay allocated, 10,000 pages over, for as long as the site is held.
                let mut body = body.into_bytes();
                body.shrink_to_fit();
                (body.into(), false)
            }
        };
        let page = Resource {
            path: path.to_string(),
            content_type: HTML.into(),
            last_modified: modified,
            body,
        };
        Ok((page, reused))
    }

    /// The first image of `post` (whose HTML is `html`) for link previews, as a path of the
    /// site (one written with `base_url`'s path already is taken back to the site's own).
    fn image(&self, html: &str, post: &Post) -> Option<String> {
        let image = super::social::first_image(html, post.folder())?;
        Some(super::links::without_base_path(&image, self.config.base_path()).to_string())
    }

    /// The keys of the views at `indexes`, added to `key`.
    fn listed(&self, key: &mut Key, indexes: impl IntoIterator<Item = usize>) {
        for i in indexes {
            key.word(self.view_keys.get(i).copied().unwrap_or(0));
        }
    }

    /// Records where `html`, the HTML of `post`, sits in `page`'s body, for the next render to
    /// find it again.
    fn keep_html_at(&self, post: &Post, page: &Resource, html: &str, reused: bool) {
        let at = match reused {
            true => self.record.earlier_html_at(&post.source),
            false => find_verbatim(&page.body, html.as_bytes()).map(|at| (at, html.len())),
        };
        if let Some((at, len)) = at {
            self.record.keep_html_at(&post.source, at, len);
        }
    }

    fn newest(&self, indexes: impl IntoIterator<Item = usize>) -> Timestamp {
        indexes
            .into_iter()
            .filter_map(|i| self.posts.get(i))
            .map(|p| p.modified)
            .fold(self.site_modified, Timestamp::max)
    }

    fn list(&self, indexes: &[usize]) -> Value {
        Value::from(
            indexes
                .iter()
                .filter_map(|&i| self.views.get(i).cloned())
                .collect::<Vec<_>>(),
        )
    }

    /// The page of `posts[i]` as it will be once rendered by [`Pages::posts`], without its
    /// body: its path, type and date are known before it is rendered.
    pub(crate) fn post_unrendered(&self, i: usize) -> Resource {
        Resource {
            path: self.posts[i].path(),
            content_type: HTML.into(),
            last_modified: self.newest(Self::neighbours(i)),
            body: bytes::Bytes::new(),
        }
    }

    /// A post and the posts beside it in the list, whose listing views its page shows.
    fn neighbours(i: usize) -> impl Iterator<Item = usize> {
        [i.checked_sub(1), Some(i), Some(i + 1)]
            .into_iter()
            .flatten()
    }

    /// The pages of the posts in `bodies`, rendered in parallel: `(i, html)` is the HTML of
    /// `posts[i]`, taken by value so the (large) bodies are not copied once more.
    pub(crate) fn posts(&self, bodies: Vec<(usize, String)>) -> Vec<Result<Resource, Problem>> {
        par::map_owned(bodies, |(i, html)| {
            let post = &self.posts[i];
            let newer = i.checked_sub(1).and_then(|n| self.views.get(n).cloned());
            let older = self.views.get(i + 1).cloned();
            let mut key = Key::new("post");
            key.word(self.record.html_key(post, &html));
            for n in [i.checked_sub(1), Some(i + 1)] {
                match n.filter(|&n| n < self.posts.len()) {
                    Some(n) => self.listed(key.word(1), [n]),
                    None => drop(key.word(0)),
                }
            }
            self.listed(&mut key, [i]);
            // A post taken from the earlier render has its HTML fetched from there only if its
            // page is rendered, and once.
            let whole = std::cell::OnceCell::new();
            let whole_html = || &**whole.get_or_init(|| self.record.whole_html(post, &html));
            let extra = || {
                context! {
                    post => context! {
                        content => Value::from_safe_string(whole_html().to_string()),
                        image => self.image(whole_html(), post),
                        ..self.views.get(i).cloned().unwrap_or_default()
                    },
                    newer => newer,
                    older => older,
                }
            };
            let (page, reused) = self.page_reused(
                &post.path(),
                "post.html",
                extra,
                self.newest(Self::neighbours(i)),
                &mut key,
            )?;
            // A kept page's HTML place is the earlier one: its HTML is not needed.
            let html = if reused { html.as_str() } else { whole_html() };
            self.keep_html_at(post, &page, html, reused);
            Ok(page)
        })
    }

    /// A page outside the post list (a page from `pages/`, a translation) through `template`,
    /// which gets `post` as `post.html` does but no neighbours.
    pub(crate) fn single(&self, post: &Post, template: &str) -> Result<Resource, Problem> {
        let extra = || {
            context! {
                post => context! {
                    content => Value::from_safe_string(post.html.clone()),
                    image => self.image(&post.html, post),
                    lang => post.lang.clone(),
                    ..Value::from_serialize(view(post))
                },
            }
        };
        let mut key = Key::new("single");
        key.word(view_key(&view(post)))
            .word(hash(post.html.as_bytes()))
            .bytes(post.lang.as_deref().unwrap_or("").as_bytes())
            .word(u64::from(post.lang.is_some()));
        let (page, reused) = self.page_reused(
            &post.path(),
            template,
            extra,
            post.modified.max(self.site_modified),
            &mut key,
        )?;
        self.keep_html_at(post, &page, &post.html, reused);
        Ok(page)
    }

    /// Every listing page, rendered in parallel: the index (`/`, then `/page/2/`, ... with
    /// `posts_per_page` posts each, one page even when there are no posts), `/tags/`, one page
    /// per tag listing exactly its posts, and `/archive/`.
    pub(crate) fn lists(&self) -> Vec<Result<Resource, Problem>> {
        let per_page = self.config.posts_per_page.max(1);
        let pages = self.posts.len().div_ceil(per_page).max(1);
        // The big pages first, so the threads finish together.
        let mut jobs = vec![List::Archive, List::Tags];
        jobs.extend((0..self.tags.len()).map(List::Tag));
        jobs.extend((1..=pages).map(List::Index));
        par::map(&jobs, |job| match *job {
            List::Index(page) => self.index(page, pages, per_page),
            List::Tags => self.tag_list(),
            List::Tag(i) => self.tag(&self.tags[i]),
            List::Archive => self.archive(),
        })
    }

    /// Index page `page` of `pages`.
    fn index(&self, page: usize, pages: usize, per_page: usize) -> Result<Resource, Problem> {
        let start = (page - 1) * per_page;
        let indexes: Vec<usize> = (start..(start + per_page).min(self.posts.len())).collect();
        let url = |n: usize| {
            if n == 1 {
                "/".to_string()
            } else {
                format!("/page/{n}/")
            }
        };
        let extra = || {
            context! {
                posts => self.list(&indexes),
                pagination => context! {
                    page => page,
                    pages => pages,
                    prev_url => (page > 1).then(|| url(page - 1)),
                    next_url => (page < pages).then(|| url(page + 1)),
                },
            }
        };
        let mut key = Key::new("index");
        key.word(page as u64).word(pages as u64);
        self.listed(&mut key, indexes.iter().copied());
        self.page(
            &url(page),
            "index.html",
            extra,
            self.newest(indexes.iter().copied()),
            &mut key,
        )
    }

    /// `/tags/`.
    fn tag_list(&self) -> Result<Resource, Problem> {
        let all: Vec<Value> = self
            .tags
            .iter()
            .map(|t| Value::from_serialize(&t.view))
            .collect();
        let mut key = Key::new("tags");
        for tag in self.tags {
            key.bytes(&serde_json::to_vec(&tag.view).unwrap_or_default());
        }
        self.page(
            "/tags/",
            "tags.html",
            || context! { tags => all },
            self.newest(0..self.posts.len()),
            &mut key,
        )
    }

    /// `/tags/<slug>/`.
    fn tag(&self, tag: &Tag) -> Result<Resource, Problem> {
        let extra =
            || context! { tag => Value::from_serialize(&tag.view), posts => self.list(&tag.posts) };
        let mut key = Key::new("tag");
        key.bytes(&serde_json::to_vec(&tag.view).unwrap_or_default());
        self.listed(&mut key, tag.posts.iter().copied());
        self.page(
            &format!("/tags/{}/", tag.view.slug),
            "tag.html",
            extra,
            self.newest(tag.posts.iter().copied()),
            &mut key,
        )
    }

    /// `/archive/`: every post grouped by year, newest first.
    fn archive(&self) -> Result<Resource, Problem> {
        let mut years: Vec<(i16, Vec<usize>)> = Vec::new();
        for (i, post) in self.posts.iter().enumerate() {
            let year = post.date.day.year();
            match years.last_mut() {
                Some((y, list)) if *y == year => list.push(i),
                _ => years.push((year, vec![i])),
            }
        }
        let mut key = Key::new("archive");
        for (year, list) in &years {
            key.word(*year as u64).word(list.len() as u64);
            self.listed(&mut key, list.iter().copied());
        }
        let years = || {
            let years: Vec<Value> = years
                .iter()
                .map(|(year, list)| context! { year => *year, posts => self.list(list) })
                .collect();
            context! { years => years }
        };
        self.page(
            "/archive/",
            "archive.html",
            years,
            self.newest(0..self.posts.len()),
            &mut key,
        )
    }

    /// The 404 page (served for unknown paths; its `path` is unused).
    pub(crate) fn not_found(&self) -> Result<Resource, Problem> {
        let mut page = self.page(
            "/404.html",
            "404.html",
            || context! {},
            self.site_modified,
            &mut Key::new("404"),
        )?;
        page.path = "/404.html".into();
        Ok(page)
    }
}

/// A listing page to render.
enum List {
    Index(usize),
    Tags,
    Tag(usize),
    Archive,
}

/// A page from `pages/` as the navigation lists it.
#[derive(Debug, Serialize)]
struct MenuItem<'a> {
    title: &'a str,
    url: String,
}

/// Every page from `pages/` (translations aside), ordered by front matter `weight` (pages
/// without one last), then by title: the navigation's links, which every page shows.
fn menu(pages: &[Post]) -> Vec<MenuItem<'_>> {
    let mut listed: Vec<&Post> = pages.iter().filter(|p| p.lang.is_none()).collect();
    listed.sort_by(|a, b| {
        let place = |p: &Post| (p.weight.is_none(), p.weight, p.title.to_lowercase());
        place(a).cmp(&place(b))
    });
    listed
        .into_iter()
        .map(|p| MenuItem {
            title: &p.title,
            url: encode_path(&p.path()),
        })
        .collect()
}

fn view(post: &Post) -> PostView<'_> {
    PostView {
        title: &post.title,
        slug: &post.slug,
        url: encode_path(&post.path()),
        date: post.date.day.to_string(),
        date_iso: rfc3339(post.date.timestamp),
        date_display: display_day(post.date.day),
        year: post.date.day.year(),
        updated: post.updated.map(|u| u.day.to_string()),
        updated_iso: post.updated.map(|u| rfc3339(u.timestamp)),
        tags: post
            .tags
            .iter()
            .zip(&post.tag_slugs)
            .map(|(name, slug)| TagRef {
                name,
                url: encode_path(&format!("/tags/{slug}/")),
            })
            .collect(),
        description: post.description.as_deref(),
        summary: &post.summary,
    }
}

/// An instant as RFC 3339 in UTC, to the second (`2015-03-01T09:00:00Z`).
pub(crate) fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// A day for readers: `1 March 2015`.
pub(crate) fn display_day(day: jiff::civil::Date) -> String {
    day.strftime("%-d %B %Y").to_string()
}

/// Where `needle` (a post's HTML, often many kilobytes) first stands in `hay` (its page). A
/// searcher built for the whole needle costs as much as the needle is long, for every page of a
/// cold render; one built for its first 64 bytes is cheap, and each place it finds is confirmed
/// by comparing the rest.
fn find_verbatim(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let probe = memchr::memmem::Finder::new(&needle[..needle.len().min(64)]);
    let mut from = 0;
    while let Some(found) = probe.find(hay.get(from..)?) {
        let at = from + found;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_verbatim;

    #[test]
    fn finds_a_long_needle_past_places_that_share_only_its_start() {
        let needle = format!("{}tail", "x".repeat(100));
        let hay = format!("<p>{}head</p><main>{needle}</main>", "x".repeat(100));
        assert_eq!(
            find_verbatim(hay.as_bytes(), needle.as_bytes()),
            hay.find(&needle)
        );
        assert_eq!(find_verbatim(b"short", b"shortest"), None);
        assert_eq!(find_verbatim(b"abc", b""), Some(0));
        assert_eq!(find_verbatim(b"", b"a"), None);
    }
}
