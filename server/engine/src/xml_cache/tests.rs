//! Tests of the in-memory XML cache: queued snapshot changes merge in order.

use super::*;
use crate::snapshot_file::tests::snapshot;

fn ids(changes: &SnapshotChanges) -> (Vec<(i64, i64)>, Vec<i64>) {
    (
        changes
            .changed
            .iter()
            .map(|s| (s.org.id.0, s.org.xml_version))
            .collect(),
        changes.removed.iter().map(|o| o.0).collect(),
    )
}

#[test]
fn queued_snapshot_changes_merge_in_order() {
    let batches = vec![
        SnapshotChanges {
            previous_epoch: 4,
            epoch: 5,
            changed: vec![snapshot(1, 2), snapshot(2, 7)],
            removed: vec![OrgId(3)],
        },
        SnapshotChanges {
            previous_epoch: 5,
            epoch: 6,
            changed: vec![snapshot(1, 3), snapshot(3, 1)],
            removed: vec![OrgId(2)],
        },
    ];
    let merged = SnapshotChanges::merge(batches).unwrap();
    assert_eq!((merged.previous_epoch, merged.epoch), (4, 6));
    // 1: the later version; 2: changed then removed; 3: removed then added again.
    assert_eq!(ids(&merged), (vec![(1, 3), (3, 1)], vec![2]));
    assert!(SnapshotChanges::merge(vec![]).is_none());
}
