//! The shape of the tree: imports between the modules of `src/` run one way, down the
//! pipeline of DESIGN.md, with no circle, and the crates that belong to one stage
//! (axum and hyper to `http`, rusqlite to `store`) are used nowhere else. The test reads
//! every `crate::` path in the sources (`use` lines, grouped `use crate::{…}` and paths
//! written inline), outside comments.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The order of the pipeline, lowest first: a module may import from its own group and
/// the groups before it, never from a later one.
const ORDER: &[&[&str]] = &[
    &["model", "config", "logging"],
    &["parse"],
    &["normalize"],
    &["store"],
    &["render", "publish"],
    &["http", "websub", "activitypub"],
    &["watch", "ingest"],
    &["daemon"],
    &["cli", "commands"],
];

/// External crates that only one module may use, by the module that owns them.
const OWNED_CRATES: &[(&str, &str)] = &[("axum", "http"), ("hyper", "http"), ("rusqlite", "store")];

/// Imports forbidden even though the order allows them (STYLE.md: the renderer knows
/// nothing of the database).
const FORBIDDEN: &[(&str, &str)] = &[("render", "store")];

fn rank(module: &str) -> Option<usize> {
    ORDER.iter().position(|group| group.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The module path of a source file below `src/`: `["store", "apply"]` for
/// `src/store/apply.rs`, `["store"]` for `src/store/mod.rs`; empty for the crate root.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// The code of a file without its comments (line comments, doc comments, block
/// comments) and without the text of string literals, so that neither can look like an
/// import.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push('"');
            }
            // A char literal ('"', '{') must not open a string or a group; a lifetime
            // ('a) is left as it is.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                let literal = rest.starts_with('\\') || rest.chars().nth(1) == Some('\'');
                if literal {
                    let mut escaped = false;
                    for c in chars.by_ref() {
                        if c == '\'' && !escaped {
                            break;
                        }
                        escaped = c == '\\' && !escaped;
                    }
                    out.push_str("' '");
                } else {
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first segment of each path after `crate::` in `code`: the top-level modules it
/// reaches, with `crate::{a::x, b::{y, z}}` giving `a` and `b`.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `seedfeed_crate::` or `$crate::` is not ours.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            found.extend(ident(rest));
        }
    }
    found
}

/// The first segment of each item of a `{…}` group, up to its closing brace.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                item_start = false;
                heads.extend(ident(&group[i..]));
            }
            _ => {}
        }
    }
    heads
}

fn ident(text: &str) -> Option<String> {
    let name: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty() && name != "self").then_some(name)
}

/// The top-level modules reached through `use super::…` lines that climb out of the
/// file's own top-level module: `use super::super::x` at the top of `src/a/b.rs` is
/// `crate::x`. A `use` inside an inline module (`mod tests`) needs one `super` more per
/// level of nesting, which rustfmt's indentation tells (four spaces a level).
fn climbing_modules(code: &str, depth: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let path = line.trim_start();
        let nesting = (line.len() - path.len()) / 4;
        let Some(path) = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|prefix| path.strip_prefix(prefix))
        else {
            continue;
        };
        let mut rest = path;
        let mut climbs = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            rest = after;
            climbs += 1;
        }
        if depth == 0 || climbs != depth + nesting {
            continue;
        }
        match rest.strip_prefix('{') {
            Some(group) => found.extend(group_heads(group)),
            None => found.extend(ident(rest)),
        }
    }
    found
}

/// Each top-level module and the top-level modules it imports, and the external crates
/// each file names.
struct Tree {
    imports: BTreeMap<String, BTreeSet<(String, String)>>,
    crates: Vec<(String, String, String)>,
}

fn read_tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut tree = Tree {
        imports: BTreeMap::new(),
        crates: Vec::new(),
    };
    for file in sources(&src) {
        let relative = file.strip_prefix(&src).unwrap().to_owned();
        let path = module_path(&relative);
        let Some(top) = path.first().cloned() else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        let shown = format!("src/{}", relative.display());
        let mut reached = crate_modules(&code);
        reached.extend(climbing_modules(&code, path.len()));
        let entry = tree.imports.entry(top.clone()).or_default();
        for module in reached.into_iter().filter(|m| *m != top) {
            entry.insert((module, shown.clone()));
        }
        for (krate, _) in OWNED_CRATES {
            if code.contains(&format!("{krate}::")) {
                tree.crates
                    .push((top.clone(), (*krate).to_owned(), shown.clone()));
            }
        }
    }
    tree
}

#[test]
fn every_module_has_a_place_in_the_order() {
    let tree = read_tree();
    let unplaced: Vec<&String> = tree.imports.keys().filter(|m| rank(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules not in the pipeline order of tests/imports.rs (add them to ORDER): {unplaced:?}"
    );
}

#[test]
fn imports_run_down_the_pipeline() {
    let tree = read_tree();
    let mut upward = Vec::new();
    for (module, imports) in &tree.imports {
        let Some(own) = rank(module) else { continue };
        for (imported, file) in imports {
            let Some(theirs) = rank(imported) else {
                upward.push(format!("{file}: crate::{imported} is in no group of ORDER"));
                continue;
            };
            if theirs > own {
                upward.push(format!(
                    "{file}: {module} imports crate::{imported}, which comes after it"
                ));
            }
            if FORBIDDEN.contains(&(module.as_str(), imported.as_str())) {
                upward.push(format!(
                    "{file}: {module} must not import crate::{imported}"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the order:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_two_modules_import_each_other_even_through_others() {
    let tree = read_tree();
    let edges: BTreeMap<&str, BTreeSet<&str>> = tree
        .imports
        .iter()
        .map(|(module, imports)| {
            let targets = imports.iter().map(|(m, _)| m.as_str()).collect();
            (module.as_str(), targets)
        })
        .collect();
    // Depth-first from each module: reaching it again closes a circle.
    for start in edges.keys() {
        let mut stack: Vec<Vec<&str>> = vec![vec![start]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = *path.last().unwrap();
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    let mut circle = path.clone();
                    circle.push(next);
                    panic!("a circle of imports: {}", circle.join(" -> "));
                }
                if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
    }
}

#[test]
fn crates_of_one_stage_stay_in_it() {
    let tree = read_tree();
    let strays: Vec<String> = tree
        .crates
        .iter()
        .filter(|(module, krate, _)| {
            OWNED_CRATES
                .iter()
                .any(|(owned, owner)| owned == krate && owner != module)
        })
        .map(|(module, krate, file)| format!("{file}: {module} uses {krate}"))
        .collect();
    assert!(strays.is_empty(), "{}", strays.join("\n"));
}

/// The reader of the sources itself, on the shapes it must see through.
#[test]
fn the_reader_finds_grouped_inline_and_climbing_paths_but_not_comments() {
    let code = code_of(
        "use crate::{model::{A, B}, store::Store};\n\
         // use crate::http::Nothing;\n\
         /// [`crate::daemon`] in a doc comment\n\
         let s = \"crate::websub in a string\";\n\
         let c = '{';\n\
         fn f<'a>(x: &'a str) { crate::render::entry_url(x); }\n\
         use super::super::parse::P;\n\
         use super::super::{normalize::N, http};\n\
         mod tests {\n    use super::super::ingest::Inner;\n    use super::super::super::daemon::D;\n}",
    );
    let found = crate_modules(&code);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["model", "render", "store"]
    );
    // At depth 2: the two top-level uses climb to the crate root; in `mod tests`, the
    // one with three supers does, the one with two stays inside the file's module.
    assert_eq!(
        climbing_modules(&code, 2).into_iter().collect::<Vec<_>>(),
        ["daemon", "http", "normalize", "parse"]
    );
    assert!(climbing_modules(&code, 3).is_empty());
}
