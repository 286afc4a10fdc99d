//! The module layers of docs/design.md hold: every `crate::` path in src/ points to a
//! module of the same layer or one below, no modules import each other in a circle, and
//! only the token store (src/store.rs) uses its backends (token_file, etcd).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The layers from the top down; docs/design.md draws the same picture. A module not
/// listed fails the test: a new module must take its place here.
const LAYERS: [(&str, &[&str]); 6] = [
    ("entry", &["lib", "main"]),
    ("command line", &["cli"]),
    ("many files", &["fleet", "watch", "metrics", "batch"]),
    ("verbs", &["exec", "status", "revoke", "login", "refresh"]),
    (
        "domain",
        &[
            "session",
            "store",
            "token_file",
            "etcd",
            "rescue",
            "grant",
            "endpoint",
            "oauth",
            "answer",
            "net",
            "proxy",
            "tls",
            "wire",
            "jwt",
            "signature",
            "token",
            "client",
            "print",
        ],
    ),
    (
        "utilities",
        &[
            "error", "report", "form", "secret", "sourced", "clock", "sys", "signals",
        ],
    ),
];

/// The layer of a top-level module: its index in `LAYERS`.
fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, ms)| ms.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer of tests/layers.rs"))
}

/// Every production source file: module path (`cli::resolve`) → text without its
/// trailing `#[cfg(test)] mod tests { … }` (which clippy keeps last).
fn sources() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let rel = rel.to_string_lossy().replace('/', "::");
            let module = rel.strip_suffix("::mod").unwrap_or(&rel).to_string();
            let last = module.rsplit("::").next().unwrap_or_default();
            // Unit tests and the property tests are not production code.
            if path.extension().is_none_or(|e| e != "rs") || last == "tests" || last == "props" {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            let text = match text.find("#[cfg(test)]\nmod tests {") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            out.insert(module, text);
        }
    }
    out
}

/// The top-level modules `text` names with `crate::…` paths (in `use` lines and inline).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let name: String = text[at + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `crate::{a, b}` would need a parser; the code base does not use it.
        assert!(!name.is_empty(), "a crate::{{…}} group: name each module");
        if name.starts_with(|c: char| c.is_ascii_lowercase()) {
            found.insert(name);
        }
    }
    found
}

#[test]
fn imports_only_run_down_the_layers_and_never_in_a_circle() {
    let sources = sources();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (module, text) in &sources {
        let top = module.split("::").next().unwrap_or_default().to_string();
        for to in imports(text) {
            if to == top || !sources.contains_key(&to) {
                continue;
            }
            if layer(&to) < layer(&top) {
                upward.push(format!(
                    "{module} ({}) imports {to} ({})",
                    LAYERS[layer(&top)].0,
                    LAYERS[layer(&to)].0
                ));
            }
            edges.entry(top.clone()).or_default().insert(to);
        }
    }
    assert!(
        upward.is_empty(),
        "imports running up:\n{}",
        upward.join("\n")
    );
    let circle = find_circle(&edges);
    assert!(circle.is_none(), "an import circle: {circle:?}");
}

/// A circle in the graph, as the modules on it, if there is one (depth-first search).
fn find_circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            return Some(path[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

/// The token store is the one way to a token family: its backends are imported by
/// `store` alone.
#[test]
fn only_the_store_uses_its_backends() {
    let mut users = Vec::new();
    for (module, text) in &sources() {
        let top = module.split("::").next().unwrap_or_default();
        for backend in ["token_file", "etcd"] {
            if top != backend && top != "store" && imports(text).contains(backend) {
                users.push(format!("{module} imports {backend}"));
            }
        }
    }
    assert!(users.is_empty(), "{}", users.join("\n"));
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph = |pairs: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(find_circle(&graph(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_circle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(
        imports("use crate::net::{self, Http};\nlet x = crate::report::say;"),
        ["net".to_string(), "report".to_string()].into()
    );
}
