//! The `content/` + `static/` layout Hugo and Zola share: files in a section folder are posts
//! (`content/blog/x.md` to `posts/blog/x.md`, bundle files beside them), files at the top of
//! `content/` are pages, `_index*.md` section files are left out, `static/` is served at the
//! root. Each generator says what URL its posts had.

use std::path::{Path, PathBuf};

use super::{dest, Item, Plan};
use render::site::frontmatter::FrontMatter;

/// Whether `rel` (under `content/`) is a post or page source for this generator.
pub(crate) type IsSource = fn(&Path) -> bool;

/// Whether the content file at `rel` (under `content/`) is one of the blog's posts
/// (`Some(true)`) or a page (`Some(false)`); `None` when the generator did not publish it (a
/// disabled language, a page not rendered).
pub(crate) type IsPost<'a> = &'a dyn Fn(&Path) -> Option<bool>;

/// The old URL of the content file at `rel` (under `content/`) with front matter `front`.
pub(crate) type OldUrl<'a> = &'a dyn Fn(&Path, &FrontMatter) -> Option<String>;

/// Adds `content/` and `static/` of `src` to `plan`; `skip_top` lists top-level folders that are
/// the generator's own (noted once each, not copied).
pub(crate) fn add(
    plan: &mut Plan,
    src: &Path,
    is_source: IsSource,
    is_post: IsPost,
    old_url: OldUrl,
    skip_top: &[&str],
) {
    let mut noted: Vec<String> = Vec::new();
    for dest::SourceFile { rel, parts } in dest::walk(src, plan) {
        let top = parts.first().cloned().unwrap_or_default();
        match top.as_str() {
            "content" => {
                let under: PathBuf = parts[1..].iter().collect();
                let name = under.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("_index.") {
                    if is_source(&under)
                        && super::front_of(&src.join(&rel)).is_some_and(|f| !f.aliases.is_empty())
                    {
                        plan.note(&rel, None, "section aliases not carried");
                    }
                    continue;
                }
                // A bundle's files go where its `index.md` goes.
                let bundle_index = under.with_file_name("index.md");
                let placed = if is_source(&under) {
                    is_post(&under)
                } else if src.join("content").join(&bundle_index).is_file() {
                    is_post(&bundle_index)
                } else {
                    Some(true)
                };
                let base = match placed {
                    Some(true) => render::site::POSTS_DIR,
                    Some(false) => render::site::PAGES_DIR,
                    None => {
                        if is_source(&under) {
                            plan.note(
                                &rel,
                                None,
                                "not published by the old site (a disabled language, or not \
                                 rendered); not carried",
                            );
                        }
                        continue;
                    }
                };
                let to = Path::new(base).join(&under);
                if is_source(&under) {
                    let front = super::front_of(&src.join(&rel)).unwrap_or_default();
                    let url = if front.draft {
                        None
                    } else {
                        old_url(&under, &front)
                    };
                    plan.items.push(Item {
                        from: rel,
                        to,
                        old_url: url,
                    });
                } else {
                    plan.files.push((rel, to));
                }
            }
            "static" => {
                let under: PathBuf = parts[1..].iter().collect();
                let to = Path::new(render::site::TEMPLATES_DIR)
                    .join("root")
                    .join(under);
                plan.files.push((rel, to));
            }
            _ if parts.len() == 1 => {}
            _ => {
                if !noted.contains(&top) {
                    let what = if skip_top.contains(&top.as_str()) {
                        "theme and template files not carried: forkblog's templates apply"
                    } else {
                        "folder not carried"
                    };
                    plan.note(Path::new(&top), None, what);
                    noted.push(top);
                }
            }
        }
    }
}

/// The file's name without extension and language (`index.ca.md` gives `index`), and for a
/// bundle's `index` its folder's name; `None` for the folder part.
pub(crate) fn stem_and_dirs(rel: &Path) -> (String, Vec<String>) {
    let (_, unlanguaged) = render::site::post::language_of(rel);
    let stem = unlanguaged
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let mut dirs: Vec<String> = rel
        .parent()
        .map(|p| p.iter().map(|s| s.to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    if stem == "index" {
        if let Some(bundle) = dirs.pop() {
            return (bundle, dirs);
        }
    }
    (stem, dirs)
}
