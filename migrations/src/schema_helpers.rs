//! Small builders shared by the statements of the initial schema: the foreign key from an org's
//! row to its organization, and named indexes.

use sea_orm_migration::prelude::*;

use crate::m20261128_000001_initial::Organizations;

/// The foreign key `name` from `table`.`org_id` to the organization, removed with it.
pub(crate) fn org_fk(table: impl IntoIden + 'static, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Alias::new("org_id"))
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// The index `name` on `columns` of `table` (unique when asked), created unless it exists.
pub(crate) fn index(
    name: &str,
    table: impl IntoIden + 'static,
    columns: &[&str],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table).if_not_exists();
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}
