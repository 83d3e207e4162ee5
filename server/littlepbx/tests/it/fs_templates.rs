//! xml-templates/ with scripts/fs-install.sh and scripts/fs-remove.sh, on a temporary copy of a
//! vanilla FreeSWITCH 1.10 configuration tree (FreeSWITCH itself is not installed in CI), and the
//! names the templates share with LittlePBX's configuration and renderer (the freeswitch crate).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use engine::config::{freeswitch_settings, Config};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

const URL: &str = "http://127.0.0.1:8080/fs/xml";
const USER: &str = "freeswitch";
/// Every character the XML writer must escape, a preprocessor expansion, and a placeholder name:
/// none may survive into the files raw.
const NASTY_PASSWORD: &str = "p&<\"'>$${x}@ESL_PASSWORD@ é";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(name: &str) -> PathBuf {
    repo().join("scripts").join(name)
}

/// The templates, relative to xml-templates/ (and to the configuration directory).
fn templates() -> BTreeSet<String> {
    let root = repo().join("xml-templates");
    let mut out = BTreeSet::new();
    for (rel, entry) in snapshot(&root) {
        if matches!(entry, Entry::File(_)) && rel.ends_with(".xml") {
            out.insert(rel);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A vanilla FreeSWITCH 1.10 configuration tree (the parts that matter here)
// ---------------------------------------------------------------------------------------------

const VANILLA: &[(&str, &str)] = &[
    (
        "freeswitch.xml",
        r#"<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration" description="Various Configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
  <section name="chatplan" description="Regex/XML Chatplan">
    <X-PRE-PROCESS cmd="include" data="chatplan/*.xml"/>
  </section>
  <section name="directory" description="User Directory">
    <X-PRE-PROCESS cmd="include" data="directory/*.xml"/>
  </section>
  <section name="languages" description="Language Management">
    <X-PRE-PROCESS cmd="include" data="lang/en/*.xml"/>
  </section>
</document>
"#,
    ),
    (
        "vars.xml",
        r#"<include>
  <X-PRE-PROCESS cmd="set" data="default_password=1234"/>
  <X-PRE-PROCESS cmd="set" data="domain=$${local_ip_v4}"/>
  <X-PRE-PROCESS cmd="set" data="hold_music=local_stream://moh"/>
</include>
"#,
    ),
    (
        "autoload_configs/modules.conf.xml",
        r#"<configuration name="modules.conf" description="Modules">
  <modules>
    <load module="mod_console"/>
    <load module="mod_logfile"/>
    <load module="mod_enum"/>
    <load module="mod_cdr_csv"/>
    <load module="mod_event_socket"/>
    <load module="mod_sofia"/>
    <load module="mod_loopback"/>
    <load module="mod_verto"/>
    <load module="mod_commands"/>
    <load module="mod_dptools"/>
    <load module="mod_lua"/>
    <load module="mod_dialplan_xml"/>
  </modules>
</configuration>
"#,
    ),
    (
        "autoload_configs/event_socket.conf.xml",
        r#"<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="nat-map" value="false"/>
    <param name="listen-ip" value="::"/>
    <param name="listen-port" value="8021"/>
    <param name="password" value="ClueCon"/>
  </settings>
</configuration>
"#,
    ),
    (
        "autoload_configs/acl.conf.xml",
        r#"<configuration name="acl.conf" description="Network Lists">
  <network-lists>
    <list name="lan" default="allow">
      <node type="deny" cidr="192.168.42.0/24"/>
    </list>
    <list name="domains" default="deny">
      <node type="allow" domain="$${domain}"/>
    </list>
  </network-lists>
</configuration>
"#,
    ),
    (
        "autoload_configs/sofia.conf.xml",
        r#"<configuration name="sofia.conf" description="sofia Endpoint">
  <global_settings>
    <param name="log-level" value="0"/>
  </global_settings>
  <profiles>
    <X-PRE-PROCESS cmd="include" data="../sip_profiles/*.xml"/>
  </profiles>
</configuration>
"#,
    ),
    (
        "autoload_configs/xml_curl.conf.xml",
        r#"<configuration name="xml_curl.conf" description="cURL XML Gateway">
  <bindings>
    <binding name="example">
      <!-- <param name="gateway-url" value="http://www.freeswitch.org/gateway.xml" bindings="dialplan"/> -->
    </binding>
  </bindings>
</configuration>
"#,
    ),
    (
        "autoload_configs/conference.conf.xml",
        r#"<configuration name="conference.conf" description="Audio Conference">
  <advertise>
    <room name="3001@$${domain}" status="FreeSWITCH"/>
  </advertise>
  <profiles>
    <profile name="default">
      <param name="domain" value="$${domain}"/>
      <param name="moh-sound" value="$${hold_music}"/>
    </profile>
  </profiles>
</configuration>
"#,
    ),
    (
        "autoload_configs/voicemail.conf.xml",
        r#"<configuration name="voicemail.conf" description="Voicemail">
  <profiles>
    <profile name="default">
      <param name="allow-empty-password-auth" value="true"/>
      <param name="operator-extension" value="operator XML default"/>
      <param name="operator-key" value="9"/>
    </profile>
  </profiles>
</configuration>
"#,
    ),
    (
        "autoload_configs/local_stream.conf.xml",
        r#"<configuration name="local_stream.conf" description="stream files from local dir">
  <directory name="moh/8000" path="$${sounds_dir}/music/8000"/>
</configuration>
"#,
    ),
    (
        "autoload_configs/post_load_modules.conf.xml",
        r#"<configuration name="post_load_modules.conf" description="Modules">
  <modules>
    <load module="mod_xml_rpc"/>
  </modules>
</configuration>
"#,
    ),
    (
        "autoload_configs/switch.conf.xml",
        r#"<configuration name="switch.conf" description="Core Configuration">
  <settings>
    <param name="max-sessions" value="1000"/>
    <!-- <param name="core-db-dsn" value="mariadb://Server=localhost;Database=freeswitch;Uid=freeswitch;Pwd=pass;" /> -->
  </settings>
</configuration>
"#,
    ),
    (
        "autoload_configs/pre_load_modules.conf.xml",
        r#"<configuration name="pre_load_modules.conf" description="Modules">
  <modules>
    <!-- Databases -->
    <!-- <load module="mod_mariadb"/> -->
    <load module="mod_pgsql"/>
  </modules>
</configuration>
"#,
    ),
    (
        "directory/default.xml",
        r#"<include>
  <domain name="$${domain}">
    <params>
      <param name="dial-string" value="{presence_id=${dialed_user}@${dialed_domain}}${sofia_contact(*/${dialed_user}@${dialed_domain})}"/>
    </params>
    <groups>
      <group name="default">
        <users>
          <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
        </users>
      </group>
    </groups>
  </domain>
</include>
"#,
    ),
    (
        "directory/default/1000.xml",
        r#"<include>
  <user id="1000">
    <params>
      <param name="password" value="$${default_password}"/>
      <param name="vm-password" value="1000"/>
    </params>
    <variables>
      <variable name="user_context" value="default"/>
    </variables>
  </user>
</include>
"#,
    ),
    (
        "directory/default/1001.xml",
        r#"<include>
  <user id="1001">
    <params>
      <param name="password" value="$${default_password}"/>
    </params>
  </user>
</include>
"#,
    ),
    (
        "directory/default/brian.xml",
        r#"<include>
  <user id="brian">
    <params>
      <param name="password" value="$${default_password}"/>
    </params>
  </user>
</include>
"#,
    ),
    (
        "dialplan/default.xml",
        r#"<include>
  <context name="default">
    <extension name="global" continue="true">
      <condition field="${call_debug}" expression="^true$" break="never"/>
    </extension>
    <extension name="eavesdrop">
      <condition field="destination_number" expression="^779$">
        <action application="answer"/>
        <action application="eavesdrop" data="all"/>
      </condition>
    </extension>
    <extension name="Local_Extension">
      <condition field="destination_number" expression="^(10[01][0-9])$">
        <action application="bridge" data="user/${dialed_extension}@${domain_name}"/>
      </condition>
    </extension>
    <X-PRE-PROCESS cmd="include" data="default/*.xml"/>
  </context>
</include>
"#,
    ),
    (
        "dialplan/default/00_ladspa.xml",
        r#"<include>
  <extension name="ladspa">
    <condition field="destination_number" expression="^2910$"/>
  </extension>
</include>
"#,
    ),
    (
        "dialplan/public.xml",
        r#"<include>
  <context name="public">
    <X-PRE-PROCESS cmd="include" data="public/*.xml"/>
    <extension name="public_extensions">
      <condition field="destination_number" expression="^(10[01][0-9])$">
        <action application="transfer" data="$1 XML default"/>
      </condition>
    </extension>
  </context>
</include>
"#,
    ),
    (
        "dialplan/public/00_inbound_did.xml",
        r#"<include>
  <extension name="public_did">
    <condition field="destination_number" expression="^(5551212)$">
      <action application="transfer" data="1000 XML default"/>
    </condition>
  </extension>
</include>
"#,
    ),
    (
        "dialplan/features.xml",
        r#"<include>
  <context name="features">
    <extension name="dx">
      <condition field="destination_number" expression="^dx$">
        <action application="execute_extension" data="dx XML features"/>
      </condition>
    </extension>
  </context>
</include>
"#,
    ),
    (
        "chatplan/default.xml",
        r#"<include>
  <context name="default">
    <extension name="demo">
      <condition field="to" expression="^(.*)$">
        <action application="lua" data="test.lua"/>
      </condition>
    </extension>
  </context>
</include>
"#,
    ),
    (
        "sip_profiles/internal.xml",
        r#"<profile name="internal">
  <gateways>
    <X-PRE-PROCESS cmd="include" data="internal/*.xml"/>
  </gateways>
  <domains>
    <domain name="all" alias="true" parse="false"/>
  </domains>
  <settings>
    <param name="context" value="public"/>
    <param name="auth-calls" value="$${internal_auth_calls}"/>
    <param name="force-register-domain" value="$${domain}"/>
    <param name="force-subscription-domain" value="$${domain}"/>
    <param name="force-register-db-domain" value="$${domain}"/>
    <param name="apply-inbound-acl" value="domains"/>
  </settings>
</profile>
"#,
    ),
    (
        "sip_profiles/internal-ipv6.xml",
        r#"<profile name="internal-ipv6">
  <settings>
    <param name="sip-ip" value="$${local_ip_v6}"/>
    <param name="auth-calls" value="$${internal_auth_calls}"/>
  </settings>
</profile>
"#,
    ),
    (
        "sip_profiles/external.xml",
        r#"<profile name="external">
  <gateways>
    <X-PRE-PROCESS cmd="include" data="external/*.xml"/>
  </gateways>
  <settings>
    <param name="context" value="public"/>
    <param name="auth-calls" value="false"/>
  </settings>
</profile>
"#,
    ),
    (
        "sip_profiles/external-ipv6.xml",
        r#"<profile name="external-ipv6">
  <settings>
    <param name="auth-calls" value="false"/>
  </settings>
</profile>
"#,
    ),
    (
        "sip_profiles/external/example.xml",
        r#"<include>
  <!--<gateway name="asterlink.com">-->
</include>
"#,
    ),
    (
        "lang/en/en.xml",
        r#"<include>
  <language name="en" say-module="en" sound-prefix="$${sound_prefix}"/>
</include>
"#,
    ),
];

fn vanilla_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, text) in VANILLA {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    // An empty directory the packages ship too.
    std::fs::create_dir_all(dir.path().join("sip_profiles/internal")).expect("mkdir");
    dir
}

// ---------------------------------------------------------------------------------------------
// Running the scripts, looking at trees
// ---------------------------------------------------------------------------------------------

fn run(name: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script(name))
        .args(args)
        .env_remove("LITTLEPBX_FREESWITCH__HTTP_PASSWORD")
        .env_remove("LITTLEPBX_FREESWITCH__ESL_PASSWORD")
        .env_remove("LITTLEPBX_FS_DB_PASSWORD")
        .output()
        .expect("run script")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn install(conf: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--fs-conf-dir",
        conf.to_str().expect("utf-8 path"),
        "--url",
        URL,
        "--user",
        USER,
        "--password",
        NASTY_PASSWORD,
    ];
    args.extend_from_slice(extra);
    run("fs-install.sh", &args)
}

fn remove(conf: &Path) -> Output {
    run(
        "fs-remove.sh",
        &["--fs-conf-dir", conf.to_str().expect("path")],
    )
}

fn check(conf: &Path) -> Output {
    run(
        "fs-install.sh",
        &["--fs-conf-dir", conf.to_str().expect("path"), "--check"],
    )
}

fn stdout_value(out: &Output, key: &str) -> Option<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

/// `--check` needs xmllint or python3; the Rust parser below checks the XML either way.
fn validator_available() -> bool {
    ["xmllint", "python3"].iter().any(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Every entry under `root` (not `root` itself), by path relative to it, with file contents.
fn snapshot(root: &Path) -> BTreeMap<String, Entry> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                out.insert(rel, Entry::Link(std::fs::read_link(&path).expect("link")));
            } else if meta.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(root, &path, out);
            } else {
                out.insert(rel, Entry::File(std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn assert_same_tree(a: &BTreeMap<String, Entry>, b: &BTreeMap<String, Entry>, what: &str) {
    let keys_a: BTreeSet<_> = a.keys().collect();
    let keys_b: BTreeSet<_> = b.keys().collect();
    assert_eq!(keys_a, keys_b, "{what}: the set of paths differs");
    for (k, v) in a {
        assert!(b[k] == *v, "{what}: {k} differs");
    }
}

/// The `*.xml` files directly in `dir`: what FreeSWITCH's `<X-PRE-PROCESS cmd="include"
/// data="dir/*.xml"/>` reads.
fn glob_xml(conf: &Path, dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(conf.join(dir))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect()
}

/// Every file (not directory) under `conf/dir`, recursively.
fn files_under(conf: &Path, dir: &str) -> Vec<String> {
    let path = conf.join(dir);
    if !path.exists() {
        return vec![];
    }
    snapshot(&path)
        .into_iter()
        .filter(|(_, e)| !matches!(e, Entry::Dir))
        .map(|(k, _)| k)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        self.collect(name, &mut out);
        out
    }

    fn collect<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.collect(name, out);
        }
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The `value` of every `<param name=NAME>` below, in order.
    fn params(&self, name: &str) -> Vec<String> {
        self.find_all("param")
            .into_iter()
            .filter(|p| p.attr("name") == Some(name))
            .map(|p| p.attr("value").unwrap_or_default().to_owned())
            .collect()
    }

    /// The only `<param name=NAME>` below.
    fn param(&self, name: &str) -> String {
        let values = self.params(name);
        assert_eq!(
            values.len(),
            1,
            "param {name} in <{}>: {values:?}",
            self.name
        );
        values[0].clone()
    }

    /// `application data` of every `<action>` below, in order.
    fn actions(&self) -> Vec<String> {
        self.find_all("action")
            .into_iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a.attr("application").unwrap_or_default(),
                    a.attr("data").unwrap_or_default()
                )
                .trim_end()
                .to_owned()
            })
            .collect()
    }
}

/// Parses a file with quick-xml (entities decoded); panics on malformed XML or text content.
fn parse_xml(path: &Path) -> Element {
    let xml = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = Reader::from_str(&xml);
    let mut stack = vec![Element {
        name: "#document".into(),
        attrs: vec![],
        children: vec![],
    }];
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", path.display()))
        {
            Event::Start(s) => stack.push(element(&s)),
            Event::Empty(s) => {
                let e = element(&s);
                stack.last_mut().expect("open").children.push(e);
            }
            Event::End(_) => {
                let done = stack.pop().expect("open");
                stack
                    .last_mut()
                    .unwrap_or_else(|| panic!("{}: unbalanced", path.display()))
                    .children
                    .push(done);
            }
            Event::Text(t) => assert!(
                t.iter().all(u8::is_ascii_whitespace),
                "{}: text content",
                path.display()
            ),
            Event::Comment(_) | Event::Decl(_) => {}
            Event::Eof => break,
            other => panic!("{}: unexpected {other:?}", path.display()),
        }
    }
    assert_eq!(stack.len(), 1, "{}: unbalanced", path.display());
    let mut doc = stack.pop().expect("document");
    assert_eq!(
        doc.children.len(),
        1,
        "{}: one root element",
        path.display()
    );
    doc.children.remove(0)
}

fn element(s: &BytesStart<'_>) -> Element {
    let attrs = s
        .attributes()
        .map(|a| {
            let a = a.expect("attribute");
            let key = String::from_utf8(a.key.as_ref().to_vec()).expect("utf-8 name");
            let value = a.unescape_value().expect("unescape").into_owned();
            (key, value)
        })
        .collect();
    Element {
        name: String::from_utf8(s.name().as_ref().to_vec()).expect("utf-8 name"),
        attrs,
        children: vec![],
    }
}

/// `@NAME@` left in a text.
fn placeholder(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('@') {
        let rest = &bytes[i + 1..];
        let len = rest
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        if len > 0 && rest.get(len) == Some(&b'@') {
            return Some(text[i..i + len + 2].to_owned());
        }
    }
    None
}

fn profile(conf: &Path, name: &str) -> Element {
    parse_xml(&conf.join(format!("sip_profiles/{name}.xml")))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn install_locks_a_vanilla_tree_down_twice_alike_and_remove_restores_it() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let before = snapshot(conf);

    let out = ok(install(conf, &[]));
    let esl = stdout_value(&out, "LITTLEPBX_FREESWITCH__ESL_PASSWORD").expect("generated password");
    assert!(
        esl.len() == 32 && esl.bytes().all(|b| b.is_ascii_hexdigit()),
        "{esl}"
    );
    assert_eq!(
        stdout_value(&out, "LITTLEPBX_FREESWITCH__ESL_ADDRESS").as_deref(),
        Some("127.0.0.1:8021")
    );

    // Every template is installed, parses, carries the marker, has no placeholder left, and
    // holds the password only escaped.
    for rel in templates() {
        let path = conf.join(&rel);
        let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        parse_xml(&path);
        assert!(
            raw.starts_with("<!-- LittlePBX: installed by scripts/fs-install.sh"),
            "{rel}"
        );
        assert_eq!(placeholder(&raw), None, "{rel}");
        assert!(
            !raw.contains(NASTY_PASSWORD),
            "{rel} holds the raw password"
        );
        assert!(
            !raw.contains("$${x}"),
            "{rel}: a preprocessor expansion got through"
        );
        for line in raw.lines() {
            // FreeSWITCH's preprocessor drops such lines whole.
            if line.contains("<include>") || line.contains("</include>") {
                assert!(
                    matches!(line.trim(), "<include>" | "</include>"),
                    "{rel}: {line}"
                );
            }
            assert!(!line.contains("<?"), "{rel}: {line}");
        }
    }

    // The credentials decode to exactly what was given.
    let credentials = format!("{USER}:{NASTY_PASSWORD}");
    let curl = parse_xml(&conf.join("autoload_configs/xml_curl.conf.xml"));
    assert_eq!(curl.param("gateway-credentials"), credentials);
    assert_eq!(curl.param("gateway-url"), URL);
    let cdr = parse_xml(&conf.join("autoload_configs/json_cdr.conf.xml"));
    assert_eq!(cdr.param("cred"), credentials);
    assert_eq!(cdr.param("url"), "http://127.0.0.1:8080/fs/cdr");
    let raw_curl =
        std::fs::read_to_string(conf.join("autoload_configs/xml_curl.conf.xml")).expect("read");
    assert!(
        raw_curl.contains("p&amp;&lt;&quot;&apos;&gt;&#36;&#36;{x}&#64;ESL_PASSWORD&#64; é"),
        "{raw_curl}"
    );

    // freeswitch.xml gained one channels section including channels/, whose static answer
    // makes a nightmare transfer fail when LittlePBX does not answer.
    let main = parse_xml(&conf.join("freeswitch.xml"));
    let channels: Vec<_> = main
        .find_all("section")
        .into_iter()
        .filter(|s| s.attr("name") == Some("channels"))
        .collect();
    assert_eq!(channels.len(), 1);
    let includes: Vec<_> = channels[0]
        .find_all("X-PRE-PROCESS")
        .iter()
        .filter_map(|i| i.attr("data").map(str::to_owned))
        .collect();
    assert_eq!(includes, ["channels/*.xml"]);
    let fallback = parse_xml(&conf.join("channels/littlepbx.xml"));
    assert_eq!(
        fallback.param("absolute-dial-string"),
        "error/CALL_REJECTED"
    );
    assert_eq!(fallback.param("dial-prefix"), "");

    // The event socket: loopback only, the generated password, an ACL list that exists.
    let esl_conf = parse_xml(&conf.join("autoload_configs/event_socket.conf.xml"));
    assert_eq!(esl_conf.param("listen-ip"), "127.0.0.1");
    assert_eq!(esl_conf.param("password"), esl);
    let acl = parse_xml(&conf.join("autoload_configs/acl.conf.xml"));
    let esl_list = esl_conf.param("apply-inbound-acl");
    let list = acl
        .find_all("list")
        .into_iter()
        .find(|l| l.attr("name") == Some(&esl_list))
        .expect("the event socket's ACL list");
    assert_eq!(list.attr("default"), Some("deny"));
    let nodes: Vec<_> = list.find_all("node");
    assert!(nodes
        .iter()
        .all(|n| n.attr("cidr").is_some_and(|c| c.starts_with("127."))));

    // Modules: mod_xml_curl first, the chatplan and limit backends there, the vanilla extras not.
    let modules: Vec<String> = parse_xml(&conf.join("autoload_configs/modules.conf.xml"))
        .find_all("load")
        .iter()
        .map(|l| l.attr("module").expect("module").to_owned())
        .collect();
    assert_eq!(modules[0], "mod_xml_curl");
    for needed in [
        "mod_sofia",
        "mod_dialplan_xml",
        "mod_dptools",
        "mod_commands",
        "mod_event_socket",
        "mod_voicemail",
        "mod_hash",
        "mod_local_stream",
        "mod_conference",
        "mod_sms",
        "mod_json_cdr",
        "mod_sndfile",
        "mod_loopback",
    ] {
        assert!(modules.iter().any(|m| m == needed), "{needed} missing");
    }
    for unwanted in ["mod_enum", "mod_lua", "mod_verto", "mod_xml_rpc"] {
        assert!(!modules.iter().any(|m| m == unwanted), "{unwanted} loaded");
    }

    // What FreeSWITCH reads from the static tree: only LittlePBX's files, refusing everything.
    assert_eq!(
        glob_xml(conf, "directory"),
        BTreeSet::from(["default.xml".into()])
    );
    assert_eq!(
        glob_xml(conf, "dialplan"),
        BTreeSet::from([
            "default.xml".into(),
            "global.xml".into(),
            "public.xml".into()
        ])
    );
    assert_eq!(
        glob_xml(conf, "chatplan"),
        BTreeSet::from(["default.xml".into()])
    );
    assert_eq!(
        glob_xml(conf, "sip_profiles"),
        BTreeSet::from(["external.xml".into(), "internal.xml".into()])
    );
    for dir in [
        "directory/default",
        "dialplan/default",
        "dialplan/public",
        "sip_profiles/external",
    ] {
        assert_eq!(files_under(conf, dir), Vec::<String>::new(), "{dir}");
    }
    assert!(!conf
        .join("autoload_configs/post_load_modules.conf.xml")
        .exists());
    let directory = parse_xml(&conf.join("directory/default.xml"));
    assert!(directory.find_all("user").is_empty());
    assert!(directory.find_all("domain").is_empty());
    let mut contexts = BTreeSet::new();
    for file in glob_xml(conf, "dialplan") {
        let plan = parse_xml(&conf.join("dialplan").join(&file));
        for context in plan.find_all("context") {
            contexts.insert(context.attr("name").expect("name").to_owned());
            assert_eq!(
                context.actions().last().map(String::as_str),
                Some("hangup NORMAL_TEMPORARY_FAILURE"),
                "{file}"
            );
            for action in context.actions() {
                assert!(
                    action.starts_with("log ") || action.starts_with("hangup "),
                    "{file}: {action}"
                );
            }
            for condition in context.find_all("condition") {
                assert!(
                    condition.attrs.is_empty(),
                    "{file}: an unconditional refusal"
                );
            }
        }
    }
    assert_eq!(
        contexts,
        BTreeSet::from(["default".into(), "global".into(), "public".into()])
    );
    let chat = parse_xml(&conf.join("chatplan/default.xml"));
    let chat_contexts: BTreeSet<_> = chat
        .find_all("context")
        .iter()
        .map(|c| c.attr("name").expect("name").to_owned())
        .collect();
    assert_eq!(
        chat_contexts,
        BTreeSet::from(["default".into(), "global".into()])
    );
    for context in chat.find_all("context") {
        assert_eq!(context.actions(), ["set final_delivery=true", "stop"]);
    }
    // sofia.conf names exactly the two profiles.
    let sofia = parse_xml(&conf.join("autoload_configs/sofia.conf.xml"));
    let includes: Vec<_> = sofia
        .find_all("X-PRE-PROCESS")
        .iter()
        .map(|i| i.attr("data").expect("data").to_owned())
        .collect();
    assert_eq!(
        includes,
        [
            "../sip_profiles/internal.xml",
            "../sip_profiles/external.xml"
        ]
    );
    // The vanilla files are kept, not lost.
    assert!(conf
        .join(".littlepbx-backup/directory/default/1000.xml")
        .exists());
    assert!(conf.join("dialplan/default.xml.littlepbx-orig").exists());

    if validator_available() {
        ok(check(conf));
    } else {
        eprintln!("neither xmllint nor python3: --check not run");
    }

    // A second install changes nothing and prints no new password.
    let installed = snapshot(conf);
    let again = ok(install(conf, &[]));
    assert_eq!(
        stdout_value(&again, "LITTLEPBX_FREESWITCH__ESL_PASSWORD"),
        None
    );
    assert_same_tree(&installed, &snapshot(conf), "second install");

    // Remove restores the tree byte for byte; a second remove finds nothing to do.
    ok(remove(conf));
    assert_same_tree(&before, &snapshot(conf), "after remove");
    ok(remove(conf));
    assert_same_tree(&before, &snapshot(conf), "after a second remove");
}

#[test]
fn profiles_carry_the_security_settings() {
    let tree = vanilla_tree();
    let conf = tree.path();
    ok(install(conf, &["--ext-ip", "203.0.113.7", "--tls"]));

    let internal = profile(conf, "internal");
    for (name, value) in [
        ("challenge-realm", "auto_from"),
        ("auth-calls", "true"),
        ("auth-messages", "true"),
        ("auth-subscriptions", "true"),
        ("accept-blind-reg", "false"),
        ("accept-blind-auth", "false"),
        ("inbound-reg-force-matching-username", "true"),
        ("log-auth-failures", "true"),
        ("apply-nat-acl", "nat.auto"),
        ("sip-port", "5060"),
        ("tls", "true"),
        ("tls-sip-port", "5061"),
        ("ext-sip-ip", "203.0.113.7"),
        ("ext-rtp-ip", "203.0.113.7"),
        ("context", "default"),
        ("disable-transfer", "false"),
        ("channel-xml-fetch-on-nightmare-transfer", "true"),
        ("make-every-transfer-a-nightmare", "true"),
        ("inbound-reg-in-new-thread", "true"),
    ] {
        assert_eq!(internal.param(name), value, "internal {name}");
    }
    for forbidden in [
        "force-register-domain",
        "force-register-db-domain",
        "force-subscription-domain",
        "apply-inbound-acl",
        "accept-blind-auth-result",
    ] {
        assert!(
            internal.params(forbidden).is_empty(),
            "internal {forbidden}"
        );
    }
    let domain = internal
        .child("domains")
        .and_then(|d| d.child("domain"))
        .expect("internal <domains><domain>");
    assert_eq!(
        (
            domain.attr("name"),
            domain.attr("alias"),
            domain.attr("parse")
        ),
        (Some("all"), Some("false"), Some("false"))
    );
    assert!(internal.child("gateways").is_none());

    let external = profile(conf, "external");
    for (name, value) in [
        ("context", "public"),
        ("apply-inbound-acl", "lpbx_trunks:public"),
        ("auth-calls", "true"),
        ("accept-blind-reg", "false"),
        ("accept-blind-auth", "false"),
        ("disable-register", "true"),
        ("log-auth-failures", "true"),
        ("sip-port", "5080"),
        ("auth-calls-acl-only", "true"),
        ("disable-transfer", "true"),
    ] {
        assert_eq!(external.param(name), value, "external {name}");
    }
    for forbidden in [
        "force-register-domain",
        "force-register-db-domain",
        "force-subscription-domain",
        "tls",
    ] {
        assert!(
            external.params(forbidden).is_empty(),
            "external {forbidden}"
        );
    }
    let domain = external
        .child("domains")
        .and_then(|d| d.child("domain"))
        .expect("external <domains><domain>");
    assert_eq!(
        (
            domain.attr("name"),
            domain.attr("alias"),
            domain.attr("parse")
        ),
        (Some("all"), Some("false"), Some("true"))
    );

    // Voicemail: no box opens without a PIN, no transfer keys, no tenant path.
    let vm = parse_xml(&conf.join("autoload_configs/voicemail.conf.xml"));
    let default = vm
        .find_all("profile")
        .into_iter()
        .find(|p| p.attr("name") == Some("default"))
        .expect("voicemail profile default");
    assert_eq!(default.param("allow-empty-password-auth"), "false");
    for absent in ["operator-key", "vmain-key", "storage-dir", "odbc-dsn"] {
        assert!(default.params(absent).is_empty(), "voicemail {absent}");
    }

    // Call records: one per call, raw values, spooled when LittlePBX is down.
    let cdr = parse_xml(&conf.join("autoload_configs/json_cdr.conf.xml"));
    for (name, value) in [
        ("log-b-leg", "false"),
        ("encode-values", "false"),
        ("log-errors-to-disk", "true"),
        ("auth-scheme", "basic"),
    ] {
        assert_eq!(cdr.param(name), value, "json_cdr {name}");
    }
    assert!(
        cdr.params("encode").is_empty(),
        "records are posted as raw JSON"
    );
    assert!(!cdr.param("err-log-dir").is_empty());

    // mod_xml_curl: short timeout, no Expect, plain http here so no certificate checks.
    let curl = parse_xml(&conf.join("autoload_configs/xml_curl.conf.xml"));
    assert_eq!(curl.find_all("binding").len(), 1);
    let gateway = curl
        .find_all("param")
        .into_iter()
        .find(|p| p.attr("name") == Some("gateway-url"))
        .expect("gateway-url");
    assert_eq!(
        gateway.attr("bindings"),
        Some("directory|dialplan|configuration|chatplan|channels")
    );
    for (name, value) in [
        ("timeout", "3"),
        ("auth-scheme", "basic"),
        ("disable-100-continue", "true"),
        ("enable-cacert-check", "false"),
        ("enable-ssl-verifyhost", "false"),
    ] {
        assert_eq!(curl.param(name), value, "xml_curl {name}");
    }
}

#[test]
fn a_second_instance_adds_a_failover_binding_and_call_record_url() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let out = ok(run(
        "fs-install.sh",
        &[
            "--fs-conf-dir",
            conf.to_str().expect("path"),
            "--url",
            "https://pbx1.example.net/fs/xml",
            "--url2",
            "https://pbx2.example.net:8443/fs/xml",
            "--user",
            USER,
            "--password",
            "s3cret",
            "--esl-password",
            "given-esl-Pass",
        ],
    ));
    assert_eq!(
        stdout_value(&out, "LITTLEPBX_FREESWITCH__ESL_PASSWORD"),
        None
    );

    let curl = parse_xml(&conf.join("autoload_configs/xml_curl.conf.xml"));
    let bindings = curl.find_all("binding");
    assert_eq!(bindings.len(), 2);
    assert_eq!(
        bindings[0].param("gateway-url"),
        "https://pbx1.example.net/fs/xml"
    );
    assert_eq!(
        bindings[1].param("gateway-url"),
        "https://pbx2.example.net:8443/fs/xml"
    );
    for binding in bindings {
        assert_eq!(binding.param("enable-cacert-check"), "true");
        assert_eq!(binding.param("enable-ssl-verifyhost"), "true");
        assert_eq!(binding.param("gateway-credentials"), "freeswitch:s3cret");
        assert_eq!(binding.param("timeout"), "3");
    }
    let cdr = parse_xml(&conf.join("autoload_configs/json_cdr.conf.xml"));
    assert_eq!(
        cdr.params("url"),
        [
            "https://pbx1.example.net/fs/cdr",
            "https://pbx2.example.net:8443/fs/cdr"
        ]
    );
    assert_eq!(cdr.param("enable-cacert-check"), "true");
    let esl = parse_xml(&conf.join("autoload_configs/event_socket.conf.xml"));
    assert_eq!(esl.param("password"), "given-esl-Pass");

    // Reinstalling without the second instance drops it again.
    ok(install(conf, &["--esl-password", "given-esl-Pass"]));
    let curl = parse_xml(&conf.join("autoload_configs/xml_curl.conf.xml"));
    assert_eq!(curl.find_all("binding").len(), 1);
    let cdr = parse_xml(&conf.join("autoload_configs/json_cdr.conf.xml"));
    assert_eq!(cdr.params("url").len(), 1);
}

#[test]
fn unsafe_values_are_refused_and_nothing_is_touched() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let dir = conf.to_str().expect("path");
    let before = snapshot(conf);
    let base = |overrides: &[(&str, &str)]| -> Vec<String> {
        let mut args: Vec<(String, String)> = vec![
            ("--fs-conf-dir".into(), dir.into()),
            ("--url".into(), URL.into()),
            ("--user".into(), USER.into()),
            ("--password".into(), "fine".into()),
        ];
        for (k, v) in overrides {
            match args.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = (*v).to_owned(),
                None => args.push(((*k).to_owned(), (*v).to_owned())),
            }
        }
        args.into_iter().flat_map(|(k, v)| [k, v]).collect()
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("newline in the password", base(&[("--password", "a\nb")])),
        ("carriage return in the user", base(&[("--user", "fs\r")])),
        ("colon in the user", base(&[("--user", "fs:x")])),
        ("not http", base(&[("--url", "ftp://127.0.0.1/fs/xml")])),
        ("file: URL", base(&[("--url", "file:///etc/passwd")])),
        (
            "file: inside an http URL",
            base(&[("--url", "http://127.0.0.1/x?file:/etc/fs/xml")]),
        ),
        (
            "no /fs/xml and no --cdr-url",
            base(&[("--url", "http://127.0.0.1:8080/other")]),
        ),
        (
            "preprocessor word",
            base(&[("--password", "a<X-PRE-PROCESS")]),
        ),
        ("empty password", base(&[("--password", "")])),
        ("relative music dir", base(&[("--moh-dir", "music")])),
        ("music dir with ..", base(&[("--moh-dir", "/usr/../etc")])),
        ("bad external address", base(&[("--ext-ip", "300.1.2.3")])),
        (
            "vanilla ESL password",
            base(&[("--esl-password", "ClueCon")]),
        ),
        (
            "ESL password with a space",
            base(&[("--esl-password", "a b")]),
        ),
        ("unknown option", base(&[("--frobnicate", "1")])),
    ];
    for (what, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run("fs-install.sh", &args);
        assert!(!out.status.success(), "{what} was accepted\n{}", text(&out));
        assert!(
            out.stdout.is_empty(),
            "{what}: printed values\n{}",
            text(&out)
        );
        assert_same_tree(&before, &snapshot(conf), what);
    }
    // Not a FreeSWITCH configuration directory.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = install(empty.path(), &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(snapshot(empty.path()).is_empty());
}

#[test]
fn check_finds_a_reopened_or_broken_tree() {
    if !validator_available() {
        eprintln!("skipping: --check needs xmllint or python3");
        return;
    }
    let tree = vanilla_tree();
    let conf = tree.path();
    let out = check(conf);
    assert!(!out.status.success(), "vanilla tree passed --check");

    ok(install(conf, &[]));
    ok(check(conf));

    // A vanilla user put back is found.
    std::fs::write(
        conf.join("directory/default/1000.xml"),
        VANILLA
            .iter()
            .find(|(p, _)| *p == "directory/default/1000.xml")
            .expect("vanilla user")
            .1,
    )
    .expect("write");
    assert!(!check(conf).status.success());
    std::fs::remove_file(conf.join("directory/default/1000.xml")).expect("rm");
    ok(check(conf));

    // A setting that closes a hole between orgs, taken out by hand, is found.
    for (rel, line) in [
        (
            "sip_profiles/internal.xml",
            r#"<param name="channel-xml-fetch-on-nightmare-transfer" value="true"/>"#,
        ),
        (
            "sip_profiles/internal.xml",
            r#"<param name="make-every-transfer-a-nightmare" value="true"/>"#,
        ),
        (
            "autoload_configs/modules.conf.xml",
            r#"<load module="mod_loopback"/>"#,
        ),
        (
            "autoload_configs/xml_curl.conf.xml",
            r#"bindings="directory|dialplan|configuration|chatplan|channels""#,
        ),
        (
            "sip_profiles/external.xml",
            r#"<param name="disable-transfer" value="true"/>"#,
        ),
        (
            "sip_profiles/external.xml",
            r#"<param name="auth-calls-acl-only" value="true"/>"#,
        ),
        (
            "autoload_configs/voicemail.conf.xml",
            r#"<param name="login-keys" value=""/>"#,
        ),
        // And those a registration storm needs.
        (
            "sip_profiles/internal.xml",
            r#"<param name="inbound-reg-in-new-thread" value="true"/>"#,
        ),
        (
            "autoload_configs/sofia.conf.xml",
            r#"<param name="max-reg-threads" value="16"/>"#,
        ),
    ] {
        let path = conf.join(rel);
        let good = std::fs::read_to_string(&path).expect("read");
        assert!(good.contains(line), "{rel} lacks {line}");
        std::fs::write(&path, good.replace(line, "")).expect("write");
        let out = check(conf);
        assert!(!out.status.success(), "--check missed {line} in {rel}");
        assert!(text(&out).contains("lacks"), "{}", text(&out));
        std::fs::write(&path, &good).expect("write");
    }
    ok(check(conf));

    // freeswitch.xml without the channels section (sofia's nightmare transfers would call the
    // Refer-To URI when LittlePBX does not answer) is found.
    let main = conf.join("freeswitch.xml");
    let good = std::fs::read_to_string(&main).expect("read");
    let without: String = good
        .lines()
        .filter(|l| !l.contains("channels"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, good);
    std::fs::write(&main, without).expect("write");
    let out = check(conf);
    assert!(!out.status.success(), "--check missed the channels section");
    assert!(text(&out).contains("channels section"), "{}", text(&out));
    std::fs::write(&main, &good).expect("write");
    ok(check(conf));

    // A broken file is found.
    let acl = conf.join("autoload_configs/acl.conf.xml");
    let good = std::fs::read_to_string(&acl).expect("read");
    std::fs::write(&acl, good.replace("</network-lists>", "")).expect("write");
    assert!(!check(conf).status.success());
    std::fs::write(&acl, &good).expect("write");
    ok(check(conf));
}

#[test]
fn the_password_can_come_from_the_environment() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let out = Command::new("bash")
        .arg(script("fs-install.sh"))
        .args([
            "--fs-conf-dir",
            conf.to_str().expect("path"),
            "--url",
            URL,
            "--user",
            USER,
        ])
        .env("LITTLEPBX_FREESWITCH__HTTP_PASSWORD", "from-env&")
        .env_remove("LITTLEPBX_FREESWITCH__ESL_PASSWORD")
        .output()
        .expect("run");
    ok(out);
    let curl = parse_xml(&conf.join("autoload_configs/xml_curl.conf.xml"));
    assert_eq!(curl.param("gateway-credentials"), "freeswitch:from-env&");
}

/// The names the templates and LittlePBX must agree on, read from both sides, and put through
/// LittlePBX's real renderer as FreeSWITCH would ask.
#[test]
fn names_agree_with_littlepbx_and_its_renderer() {
    let tree = vanilla_tree();
    let conf = tree.path();
    ok(install(conf, &[]));
    let config = Config::default();
    let settings = freeswitch_settings(&config);
    let defaults = freeswitch::Settings::default();

    // Profile names.
    let internal = profile(conf, "internal");
    let external = profile(conf, "external");
    assert_eq!(
        internal.attr("name"),
        Some(config.freeswitch.internal_profile.as_str())
    );
    assert_eq!(
        external.attr("name"),
        Some(config.freeswitch.external_profile.as_str())
    );
    assert_eq!(
        settings.internal_profile,
        config.freeswitch.internal_profile
    );
    assert_eq!(
        settings.external_profile,
        config.freeswitch.external_profile
    );

    // The carrier ACL: list, domain and pass context.
    let acl = parse_xml(&conf.join("autoload_configs/acl.conf.xml"));
    let trunks = acl
        .find_all("list")
        .into_iter()
        .find(|l| {
            l.find_all("node")
                .iter()
                .any(|n| n.attr("domain") == Some(settings.trunk_acl_domain.as_str()))
        })
        .expect("a list with the trunk ACL domain");
    assert_eq!(settings.trunk_acl_domain, defaults.trunk_acl_domain);
    assert_eq!(trunks.attr("default"), Some("deny"));
    assert_eq!(trunks.find_all("node").len(), 1);
    assert_eq!(
        external.param("apply-inbound-acl"),
        format!(
            "{}:{}",
            trunks.attr("name").expect("name"),
            settings.public_context
        )
    );
    assert_eq!(external.param("context"), settings.public_context);

    // Conference and voicemail profiles, hold music.
    let conference = parse_xml(&conf.join("autoload_configs/conference.conf.xml"));
    let room_profiles: Vec<_> = conference
        .find_all("profile")
        .iter()
        .map(|p| p.attr("name").expect("name").to_owned())
        .collect();
    assert_eq!(
        room_profiles,
        std::slice::from_ref(&settings.conference_profile)
    );
    assert_eq!(conference.param("moh-sound"), settings.default_hold_music);
    let vm = parse_xml(&conf.join("autoload_configs/voicemail.conf.xml"));
    let vm_profiles: Vec<_> = vm
        .find_all("profile")
        .iter()
        .map(|p| p.attr("name").expect("name").to_owned())
        .collect();
    assert_eq!(
        vm_profiles,
        std::slice::from_ref(&settings.voicemail_profile)
    );

    // Ports and the event socket address LittlePBX shows and dials.
    assert_eq!(
        internal.param("sip-port"),
        config.freeswitch.sip_port.to_string()
    );
    assert_eq!(
        internal.param("tls-sip-port"),
        config.freeswitch.sip_tls_port.to_string()
    );
    let esl = parse_xml(&conf.join("autoload_configs/event_socket.conf.xml"));
    assert_eq!(
        format!("{}:{}", esl.param("listen-ip"), esl.param("listen-port")),
        config.freeswitch.esl_address
    );
    // The install was given LittlePBX's default user.
    assert_eq!(USER, config.freeswitch.http_user);

    // The renderer: the ACL domain of acl.conf is answered (not "not found").
    let lookup = freeswitch::MemoryLookup::new(vec![]).expect("empty lookup");
    let ask = |body: String| {
        freeswitch::answer_body(body.as_bytes(), &lookup, &settings, &freeswitch::AllowAll)
    };
    let acl_domain = trunks.find_all("node")[0].attr("domain").expect("domain");
    let network_list = ask(format!(
        "hostname=fs&section=directory&tag_name=domain&key_name=name&key_value={acl_domain}\
         &Event-Name=GENERAL&domain={acl_domain}&purpose=network-list"
    ));
    assert!(
        matches!(network_list.reason, freeswitch::Reason::NetworkList { .. }),
        "{:?}",
        network_list.reason
    );
    assert!(network_list
        .xml
        .contains(&format!("<domain name=\"{acl_domain}\"")));

    // The external profile's start-up request for the gateways of every domain
    // (<domain name="all" parse="true">) is answered, not "not found".
    let gateways = ask(format!(
        "hostname=fs&section=directory&tag_name=&key_name=&key_value=\
         &Event-Name=REQUEST_PARAMS&purpose=gateways&profile={}",
        external.attr("name").expect("name")
    ));
    assert!(
        matches!(gateways.reason, freeswitch::Reason::Gateways { .. }),
        "{:?}",
        gateways.reason
    );

    // The external profile's context is LittlePBX's DID context; the internal profile's context
    // routes nothing (calls run in the user_context the directory sets), like the static one.
    let hunt = |context: &str| {
        ask(format!(
            "hostname=fs&section=dialplan&tag_name=&key_name=&key_value=\
             &Event-Name=REQUEST_PARAMS&Hunt-Context={context}&Hunt-Destination-Number=4930123456"
        ))
        .reason
    };
    let public = hunt(&external.param("context"));
    assert_ne!(
        public,
        freeswitch::Reason::DialplanRefused("context not ours")
    );
    assert_eq!(
        hunt(&internal.param("context")),
        freeswitch::Reason::DialplanRefused("context not ours")
    );

    // Chat from the internal profile is answered in the profile's context, which the static
    // chatplan also holds (refusing) for when LittlePBX is down.
    let chat = ask(format!(
        "hostname=fs&section=chatplan&tag_name=&key_name=&key_value=&Event-Name=MESSAGE\
         &context={}&proto=sip&from_user=1001&from_host=nowhere.example&to_user=1002\
         &to_host=nowhere.example&to=1002%40nowhere.example",
        internal.param("context")
    ));
    let context_tag = format!("<context name=\"{}\">", internal.param("context"));
    assert!(chat.xml.contains(&context_tag), "{}", chat.xml);
    let static_chat = std::fs::read_to_string(conf.join("chatplan/default.xml")).expect("read");
    assert!(static_chat.contains(&context_tag));
}

#[test]
fn ports_are_options_kept_on_reinstall_and_checked() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let path = conf.to_str().expect("path");
    let ports = [
        "--sip-port",
        "15060",
        "--tls-port",
        "15061",
        "--carrier-port",
        "15080",
        "--esl-port",
        "18021",
    ];
    let out = ok(install(conf, &ports));
    for (key, value) in [
        ("LITTLEPBX_FREESWITCH__ESL_ADDRESS", "127.0.0.1:18021"),
        ("LITTLEPBX_FREESWITCH__SIP_PORT", "15060"),
        ("LITTLEPBX_FREESWITCH__SIP_TLS_PORT", "15061"),
    ] {
        assert_eq!(stdout_value(&out, key).as_deref(), Some(value), "{key}");
    }
    let installed = || {
        (
            profile(conf, "internal").param("sip-port"),
            profile(conf, "internal").param("tls-sip-port"),
            profile(conf, "external").param("sip-port"),
            parse_xml(&conf.join("autoload_configs/event_socket.conf.xml")).param("listen-port"),
        )
    };
    let expected = (
        "15060".to_owned(),
        "15061".to_owned(),
        "15080".to_owned(),
        "18021".to_owned(),
    );
    assert_eq!(installed(), expected);

    // A second run without the options keeps them, byte for byte.
    let before = snapshot(conf);
    ok(install(conf, &[]));
    assert_same_tree(
        &before,
        &snapshot(conf),
        "a re-install without port options",
    );

    // Invalid or equal ports are refused and change nothing.
    for bad in [
        &["--sip-port", "0"][..],
        &["--esl-port", "65536"],
        &["--carrier-port", "80a"],
        &["--carrier-port", "15060"],
        &["--tls-port", "18021"],
    ] {
        let out = install(conf, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert_same_tree(&before, &snapshot(conf), &format!("refused {bad:?}"));
    }

    if validator_available() {
        let mut args = vec!["--fs-conf-dir", path, "--check"];
        args.extend_from_slice(&ports);
        ok(run("fs-install.sh", &args));
        let out = run(
            "fs-install.sh",
            &["--fs-conf-dir", path, "--check", "--sip-port", "5060"],
        );
        assert!(!out.status.success(), "--check accepted a wrong port");
        assert!(text(&out).contains("--sip-port is 15060"), "{}", text(&out));
        // Two ports made equal by hand are found.
        let esl = conf.join("autoload_configs/event_socket.conf.xml");
        let good = std::fs::read_to_string(&esl).expect("read");
        std::fs::write(&esl, good.replace("\"18021\"", "\"15080\"")).expect("write");
        let out = check(conf);
        assert!(!out.status.success(), "--check accepted two equal ports");
        std::fs::write(&esl, good).expect("write");
        ok(check(conf));
    }
}

/// `fs-install.sh` run with FreeSWITCH's database options (and the password from the
/// environment unless `password` is `None`).
fn install_fs_db(conf: &Path, extra: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new("bash");
    command
        .arg(script("fs-install.sh"))
        .args(["--fs-conf-dir", conf.to_str().expect("path")])
        .args(["--url", URL, "--user", USER, "--password", NASTY_PASSWORD])
        .args(extra)
        .env_remove("LITTLEPBX_FREESWITCH__ESL_PASSWORD")
        .env_remove("LITTLEPBX_FS_DB_PASSWORD");
    if let Some(password) = password {
        command.env("LITTLEPBX_FS_DB_PASSWORD", password);
    }
    command.output().expect("run")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// The uncommented `core-db-dsn` values of switch.conf.xml.
fn core_db_dsns(conf: &Path) -> Vec<String> {
    parse_xml(&conf.join("autoload_configs/switch.conf.xml")).params("core-db-dsn")
}

fn loads_mariadb_first(conf: &Path) -> bool {
    let pre = parse_xml(&conf.join("autoload_configs/pre_load_modules.conf.xml"));
    pre.find_all("load")
        .iter()
        .any(|l| l.attr("module") == Some("mod_mariadb"))
}

const FS_DSN: &str = "mariadb://Server=db.internal;Port=3306;Database=freeswitch;Uid=freeswitch;";
const SWITCH_CONF: &str = "autoload_configs/switch.conf.xml";

/// The files holding FreeSWITCH's database DSN (and so its password).
const DSN_FILES: [&str; 3] = [
    "sip_profiles/internal.xml",
    "sip_profiles/external.xml",
    SWITCH_CONF,
];

/// What the install printed on standard output: only the settings LittlePBX needs, never the
/// database password.
fn assert_stdout_clean(out: &Output, password: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains(password), "{}", text(out));
    for line in stdout.lines() {
        let key = line.split_once('=').map(|(k, _)| k).unwrap_or(line);
        assert!(
            [
                "LITTLEPBX_FREESWITCH__ESL_ADDRESS",
                "LITTLEPBX_FREESWITCH__SIP_PORT",
                "LITTLEPBX_FREESWITCH__SIP_TLS_PORT",
                "LITTLEPBX_FREESWITCH__ESL_PASSWORD",
            ]
            .contains(&key),
            "unexpected stdout line {line}"
        );
    }
}

fn vanilla_text(rel: &str) -> &'static str {
    VANILLA
        .iter()
        .find(|(p, _)| *p == rel)
        .unwrap_or_else(|| panic!("no vanilla {rel}"))
        .1
}

#[test]
fn freeswitchs_database_goes_into_three_places_kept_checked_and_removed() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let vanilla = snapshot(conf);
    ok(install(conf, &[]));
    assert!(!loads_mariadb_first(conf), "no database, no mod_mariadb");
    assert!(core_db_dsns(conf).is_empty());
    assert!(profile(conf, "internal").params("odbc-dsn").is_empty());
    // The vanilla pre-load list (mod_pgsql) is replaced, kept as .littlepbx-orig.
    assert_eq!(
        std::fs::read_to_string(
            conf.join("autoload_configs/pre_load_modules.conf.xml.littlepbx-orig")
        )
        .expect("original kept"),
        vanilla_text("autoload_configs/pre_load_modules.conf.xml")
    );
    // switch.conf.xml is FreeSWITCH's own: untouched without a database.
    assert_eq!(
        std::fs::read_to_string(conf.join(SWITCH_CONF)).expect("read"),
        vanilla_text(SWITCH_CONF)
    );
    if validator_available() {
        ok(check(conf));
    }

    let out = ok(install_fs_db(conf, &["--fs-db", FS_DSN], Some("s3cret-pw")));
    assert_stdout_clean(&out, "s3cret-pw");
    assert!(text(&out).contains("restart"), "{}", text(&out));
    let full = format!("{FS_DSN}Pwd=s3cret-pw;");
    assert!(loads_mariadb_first(conf));
    assert_eq!(core_db_dsns(conf), std::slice::from_ref(&full));
    for name in ["internal", "external"] {
        assert_eq!(
            profile(conf, name).params("odbc-dsn"),
            std::slice::from_ref(&full),
            "{name}"
        );
    }
    // One line right after <settings>, the rest of FreeSWITCH's file as it was.
    let switch_text = std::fs::read_to_string(conf.join(SWITCH_CONF)).expect("read");
    let ours = format!(
        "    <param name=\"core-db-dsn\" value=\"{full}\"/> \
         <!-- LittlePBX: FreeSWITCH database (fs-install.sh fs-db) -->\n"
    );
    assert_eq!(
        switch_text,
        vanilla_text(SWITCH_CONF).replacen("  <settings>\n", &format!("  <settings>\n{ours}"), 1)
    );
    for rel in DSN_FILES {
        assert_eq!(mode(&conf.join(rel)), 0o640, "{rel}");
    }
    assert_eq!(
        std::fs::read_to_string(conf.join(format!("{SWITCH_CONF}.littlepbx-orig")))
            .expect("original kept"),
        vanilla_text(SWITCH_CONF)
    );
    let with_db = snapshot(conf);
    // Again alike, and a run without the option keeps it (even with another password in the
    // environment: only --fs-db changes the database).
    ok(install_fs_db(conf, &["--fs-db", FS_DSN], Some("s3cret-pw")));
    assert_same_tree(&with_db, &snapshot(conf), "second identical run");
    ok(install(conf, &[]));
    assert_same_tree(&with_db, &snapshot(conf), "a run without --fs-db");
    ok(install_fs_db(conf, &[], Some("another")));
    assert_same_tree(&with_db, &snapshot(conf), "a run without --fs-db, env set");
    for rel in DSN_FILES {
        assert_eq!(mode(&conf.join(rel)), 0o640, "{rel}");
    }

    if validator_available() {
        ok(check(conf));
        let check_with = |dsn: &str| {
            run(
                "fs-install.sh",
                &[
                    "--fs-conf-dir",
                    conf.to_str().expect("path"),
                    "--check",
                    "--fs-db",
                    dsn,
                ],
            )
        };
        ok(check_with(FS_DSN));
        // The same place in another order, with a password and without the default port.
        ok(check_with(
            "mariadb://Uid=freeswitch;Database=freeswitch;Server=db.internal;Pwd=whatever;",
        ));
        for other in [
            "mariadb://Server=db.internal;Database=other;Uid=freeswitch;",
            "mariadb://Server=db.internal;Port=3307;Database=freeswitch;Uid=freeswitch;",
            "mariadb://Server=elsewhere;Database=freeswitch;Uid=freeswitch;",
            "mariadb://Server=db.internal;Database=freeswitch;Uid=root;",
            "none",
        ] {
            let out = check_with(other);
            assert!(!out.status.success(), "{other}: {}", text(&out));
        }

        // --check finds each place missing or opened.
        let switch = conf.join(SWITCH_CONF);
        let without_core: String = switch_text
            .lines()
            .filter(|l| !l.contains("core-db-dsn\" value=\"mariadb"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&switch, &without_core).expect("write");
        let broken = check(conf);
        assert!(
            !broken.status.success() && text(&broken).contains("core-db-dsn"),
            "{}",
            text(&broken)
        );
        // Twice is as wrong as missing.
        std::fs::write(
            &switch,
            switch_text.replacen(&ours, &format!("{ours}{ours}"), 1),
        )
        .expect("write");
        assert!(!check(conf).status.success(), "two core-db-dsn lines");
        std::fs::write(&switch, &switch_text).expect("write");
        let pre = conf.join("autoload_configs/pre_load_modules.conf.xml");
        let pre_text = std::fs::read_to_string(&pre).expect("read");
        std::fs::write(&pre, pre_text.replace("<load module=\"mod_mariadb\"/>", ""))
            .expect("write");
        let broken = check(conf);
        assert!(
            !broken.status.success() && text(&broken).contains("mod_mariadb"),
            "{}",
            text(&broken)
        );
        std::fs::write(&pre, &pre_text).expect("write");
        let external = conf.join("sip_profiles/external.xml");
        let external_text = std::fs::read_to_string(&external).expect("read");
        std::fs::write(&external, external_text.replace("s3cret-pw", "other-pw")).expect("write");
        let broken = check(conf);
        assert!(
            !broken.status.success() && text(&broken).contains("external.xml"),
            "{}",
            text(&broken)
        );
        std::fs::write(&external, &external_text).expect("write");
        for rel in DSN_FILES {
            let path = conf.join(rel);
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .expect("chmod");
            let broken = check(conf);
            assert!(
                !broken.status.success() && text(&broken).contains("readable by everyone"),
                "{rel}: {}",
                text(&broken)
            );
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640))
                .expect("chmod");
        }
        ok(check(conf));
    }

    // none: back to SQLite; switch.conf.xml is FreeSWITCH's own file again, byte for byte.
    ok(install_fs_db(conf, &["--fs-db", "none"], None));
    assert!(!loads_mariadb_first(conf));
    assert!(core_db_dsns(conf).is_empty());
    for name in ["internal", "external"] {
        assert!(profile(conf, name).params("odbc-dsn").is_empty(), "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(conf.join(SWITCH_CONF)).expect("read"),
        vanilla_text(SWITCH_CONF)
    );
    assert!(!conf.join(format!("{SWITCH_CONF}.littlepbx-orig")).exists());
    let state = std::fs::read_to_string(conf.join(".littlepbx-backup/state")).expect("state");
    assert!(!state.contains(&format!("edited {SWITCH_CONF}")), "{state}");
    if validator_available() {
        ok(check(conf));
        // A core-db-dsn line of LittlePBX's left without the profiles' odbc-dsn is found.
        std::fs::write(conf.join(SWITCH_CONF), &switch_text).expect("write");
        let half = check(conf);
        assert!(
            !half.status.success() && text(&half).contains("core-db-dsn"),
            "{}",
            text(&half)
        );
        std::fs::write(conf.join(SWITCH_CONF), vanilla_text(SWITCH_CONF)).expect("write");
        ok(check(conf));
    }

    // The password from a file (its first line); then fs-remove restores the vanilla tree byte
    // for byte, switch.conf.xml and pre_load_modules.conf.xml included.
    let secrets = tempfile::tempdir().expect("temp dir");
    let file = secrets.path().join("fs-db-password");
    std::fs::write(&file, "from-file\nsecond line\n").expect("write");
    let out = ok(install_fs_db(
        conf,
        &[
            "--fs-db",
            FS_DSN,
            "--fs-db-password-file",
            file.to_str().expect("path"),
        ],
        None,
    ));
    assert_stdout_clean(&out, "from-file");
    assert_eq!(core_db_dsns(conf), [format!("{FS_DSN}Pwd=from-file;")]);
    assert_eq!(
        profile(conf, "external").params("odbc-dsn"),
        [format!("{FS_DSN}Pwd=from-file;")]
    );
    // A Pwd= on the command line works, with a warning; Pwd= always ends the DSN.
    let out = ok(install_fs_db(
        conf,
        &[
            "--fs-db",
            "mariadb://Server=db.internal;Pwd=inline-pw;Port=3306;Database=freeswitch;Uid=freeswitch",
        ],
        None,
    ));
    assert!(
        text(&out).contains("visible to other users"),
        "{}",
        text(&out)
    );
    assert_stdout_clean(&out, "inline-pw");
    assert_eq!(core_db_dsns(conf), [format!("{FS_DSN}Pwd=inline-pw;")]);
    ok(remove(conf));
    assert_same_tree(&vanilla, &snapshot(conf), "after fs-remove");
}

#[test]
fn a_bad_database_option_is_refused_and_nothing_is_touched() {
    let tree = vanilla_tree();
    let conf = tree.path();
    let password_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(password_file.path(), "pw\n").expect("write");
    let password_file = password_file.path().to_str().expect("path").to_owned();
    for installed in [false, true] {
        if installed {
            ok(install(conf, &[]));
        }
        let before = snapshot(conf);
        let cases: Vec<(&str, Vec<&str>, Option<&str>)> = vec![
            (
                "not mariadb",
                vec!["--fs-db", "mysql://Server=db;Database=fs;Uid=fs;"],
                Some("pw"),
            ),
            (
                "no Uid",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;"],
                Some("pw"),
            ),
            (
                "no Server",
                vec!["--fs-db", "mariadb://Database=fs;Uid=fs;"],
                Some("pw"),
            ),
            (
                "a quote",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;Uid=f\"s;"],
                Some("pw"),
            ),
            (
                "a $",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;Uid=$${x};"],
                Some("pw"),
            ),
            (
                "an @",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;Uid=a@b;"],
                Some("pw"),
            ),
            (
                "a <",
                vec!["--fs-db", "mariadb://Server=db<;Database=fs;Uid=fs;"],
                Some("pw"),
            ),
            (
                "a newline",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;Uid=fs\n;"],
                Some("pw"),
            ),
            (
                "an = in a value",
                vec!["--fs-db", "mariadb://Server=db;Database=f=s;Uid=fs;"],
                Some("pw"),
            ),
            (
                "a key twice",
                vec![
                    "--fs-db",
                    "mariadb://Server=db;Database=fs;Uid=fs;Server=x;",
                ],
                Some("pw"),
            ),
            (
                "a bad port",
                vec![
                    "--fs-db",
                    "mariadb://Server=db;Database=fs;Uid=fs;Port=70000;",
                ],
                Some("pw"),
            ),
            (
                "an unknown key",
                vec!["--fs-db", "mariadb://Server=db;Database=fs;Uid=fs;Flags=1;"],
                Some("pw"),
            ),
            ("no password", vec!["--fs-db", FS_DSN], None),
            ("an empty password", vec!["--fs-db", FS_DSN], Some("")),
            (
                "; in the password",
                vec!["--fs-db", FS_DSN],
                Some("with;semicolon"),
            ),
            (
                "$ in the password",
                vec!["--fs-db", FS_DSN],
                Some("pa$${x}"),
            ),
            (
                "& in the password",
                vec!["--fs-db", FS_DSN],
                Some("amp&lt;"),
            ),
            (
                "a password twice",
                vec![
                    "--fs-db",
                    "mariadb://Server=db;Database=fs;Uid=fs;Pwd=x;",
                    "--fs-db-password-file",
                    &password_file,
                ],
                None,
            ),
            (
                "a missing password file",
                vec![
                    "--fs-db",
                    FS_DSN,
                    "--fs-db-password-file",
                    "/nonexistent/pw",
                ],
                None,
            ),
            (
                "a password file without --fs-db",
                vec!["--fs-db-password-file", &password_file],
                None,
            ),
        ];
        for (what, args, password) in cases {
            let out = install_fs_db(conf, &args, password);
            assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out));
            assert!(out.stdout.is_empty(), "{what}: {}", text(&out));
            assert_same_tree(&before, &snapshot(conf), what);
        }
    }
    // A password missing entirely names both ways to give it.
    let out = install_fs_db(conf, &["--fs-db", FS_DSN], None);
    assert!(
        text(&out).contains("LITTLEPBX_FS_DB_PASSWORD")
            && text(&out).contains("--fs-db-password-file"),
        "{}",
        text(&out)
    );
}
