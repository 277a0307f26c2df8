//! The page's reference tables: one row per key, with its type, default and status.

use std::collections::BTreeMap;

use super::PAGE;

/// A reference-table row: `| `key` | type | default | status | description |`.
#[derive(Debug)]
pub(super) struct Row {
    pub key: String,
    pub ty: String,
    pub default: String,
    pub status: String,
}

fn rows() -> Vec<Row> {
    PAGE.lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            assert!(cells.len() >= 7, "a row needs five cells: {line}");
            Row {
                key: cells[1].trim_matches('`').to_owned(),
                ty: cells[2].to_owned(),
                default: cells[3].to_owned(),
                status: cells[4].to_owned(),
            }
        })
        .collect()
}

pub(super) fn rows_by_key() -> BTreeMap<String, Row> {
    let mut by_key = BTreeMap::new();
    for row in rows() {
        let key = row.key.clone();
        assert!(
            by_key.insert(key.clone(), row).is_none(),
            "`{key}` has two rows"
        );
    }
    by_key
}
