//! Integration tests of the littlepbx server, one binary (faster to build than one per file).
//! Each test starts the real server on a free loopback port with a fresh database.

mod common;

mod apply_engine;
mod availability;
mod cdr;

mod cli;
mod crash;
mod db_scripts;
mod desk_phones;
mod floors;
mod fs_templates;
mod fs_xml;
mod health;
mod history;
mod org_api;
mod phonebook_ldap;
mod provider_client;
mod provider_isolation;
mod provider_objects;
mod provider_orgs;
mod provisioning;
mod stats;
mod web;
