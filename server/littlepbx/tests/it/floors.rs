//! The floor rule of ARCHITECTURE.md, read from `cargo metadata`: every workspace crate depends
//! (normal dependencies, not dev) only on crates on lower floors, and the web app only on
//! `api-types`.

use std::collections::HashMap;

use serde_json::Value;

/// Top floor first; crates on one floor may not depend on each other.
const FLOORS: &[&[&str]] = &[
    &["littlepbx"],
    &["web"],
    &["calls"],
    &["engine"],
    &["media"],
    &["store", "freeswitch", "esl", "ldap-phonebook"],
    &["domain", "api-types", "migrations", "deskphones"],
];

fn floor_of(name: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&name))
}

/// Each workspace crate and the workspace crates it depends on (normal dependencies).
fn workspace_dependencies() -> HashMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let members: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| dep["kind"].is_null())
                .filter_map(|dep| dep["name"].as_str())
                .filter(|dep| members.contains(dep))
                .map(str::to_owned)
                .collect();
            (
                package["name"].as_str().unwrap_or_default().to_owned(),
                deps,
            )
        })
        .collect()
}

/// The dependencies that break the rule, as "crate -> dependency" lines.
fn violations(deps: &HashMap<String, Vec<String>>) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, uses) in deps {
        for dep in uses {
            let allowed = match name.as_str() {
                "app" => dep == "api-types",
                "testkit" => true,
                _ => match (floor_of(name), floor_of(dep)) {
                    (Some(own), Some(below)) => below > own,
                    _ => false,
                },
            };
            if !allowed {
                wrong.push(format!("{name} -> {dep}"));
            }
        }
    }
    wrong.sort();
    wrong
}

#[test]
fn every_crate_depends_only_on_lower_floors() {
    let deps = workspace_dependencies();
    for name in deps.keys() {
        assert!(
            floor_of(name).is_some() || matches!(name.as_str(), "app" | "testkit"),
            "crate {name} has no floor in ARCHITECTURE.md's table (and this test's)"
        );
    }
    assert_eq!(violations(&deps), Vec::<String>::new());
}

#[test]
fn the_rule_catches_an_upward_or_sideways_dependency() {
    let deps = HashMap::from([
        ("store".to_owned(), vec!["engine".to_owned()]),
        ("freeswitch".to_owned(), vec!["esl".to_owned()]),
        ("app".to_owned(), vec!["domain".to_owned()]),
        ("web".to_owned(), vec!["engine".to_owned()]),
    ]);
    assert_eq!(
        violations(&deps),
        vec!["app -> domain", "freeswitch -> esl", "store -> engine"]
    );
}
